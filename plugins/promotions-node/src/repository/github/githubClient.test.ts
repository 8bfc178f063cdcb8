import { mockServices } from '@backstage/backend-test-utils';
import {
  createGithubClient,
  DEFAULT_GITHUB_REQUEST_POLICY,
  GithubRequestRecord,
  RateLimitGate,
} from './githubClient';

/** A client whose every request GitHub answers with `status` and `headers`. */
function answering(status: number, headers: Record<string, string>) {
  const records: GithubRequestRecord[] = [];
  const octokit = createGithubClient({
    baseUrl: 'https://github.example.com/api/v3',
    host: 'github.example.com',
    policy: { ...DEFAULT_GITHUB_REQUEST_POLICY, retries: 0 },
    gate: new RateLimitGate('github.example.com', 1000),
    logger: mockServices.logger.mock(),
    onRequest: record => records.push(record),
    fetch: async () =>
      new Response(JSON.stringify({ message: 'answer' }), {
        status,
        headers: { 'content-type': 'application/json', ...headers },
      }),
  });
  return { octokit, records };
}

describe('the requests a GitHub client reports', () => {
  it('carries the rate limit GitHub says is left, on answers and refusals', async () => {
    const ok = answering(200, { 'x-ratelimit-remaining': '4321' });
    await ok.octokit.request('GET /rate_limit');
    expect(ok.records).toEqual([
      {
        method: 'GET',
        route: 'GET /rate_limit',
        status: 200,
        rateLimitRemaining: 4321,
      },
    ]);

    const missing = answering(404, { 'x-ratelimit-remaining': '12' });
    await expect(missing.octokit.request('GET /rate_limit')).rejects.toThrow();
    expect(missing.records).toEqual([
      expect.objectContaining({ status: 404, rateLimitRemaining: 12 }),
    ]);
  });

  it.each(['12abc', '-1', '1e3', '', '0x10', '99999999999999999999'])(
    'reports no rate limit for the header %j',
    async value => {
      const { octokit, records } = answering(200, {
        'x-ratelimit-remaining': value,
      });
      await octokit.request('GET /rate_limit');
      expect(records).toEqual([
        expect.objectContaining({ status: 200, rateLimitRemaining: undefined }),
      ]);
    },
  );
});
