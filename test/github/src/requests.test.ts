import { SimulatedGithub, useSimulators } from './testing/setup';

/** Octokit's request, without the parameter types that keep deliberately wrong bodies out. */
const untyped = (client: SimulatedGithub['bot']) =>
  client.request as (
    route: string,
    parameters: Record<string, unknown>,
  ) => Promise<{ status: number }>;

describe('requests GitHub would refuse', () => {
  const start = useSimulators();

  it('refuses a body its operation does not allow with 422, and records the problem', async () => {
    const { simulator, bot, repo } = await start();
    const refused = await untyped(bot)('POST /repos/{owner}/{repo}/pulls', {
      ...repo,
      title: 'No head',
      base: 'main',
    }).catch(error => error);
    expect(refused.status).toBe(422);
    expect(refused.response.data).toEqual({
      message: 'Invalid request.\n\n"head" wasn\'t supplied.',
      documentation_url:
        'https://docs.github.com/rest/pulls/pulls#create-a-pull-request',
      status: '422',
    });
    expect(simulator.problems).toEqual([
      expect.stringContaining(
        "pulls/create request: (body) must have required property 'head'",
      ),
    ]);
    expect(simulator.pullRequests()).toEqual([]);
  });

  it('refuses a value of the wrong type or outside an enumeration', async () => {
    const { simulator, bot, repo } = await start();
    const refused = await untyped(bot)(
      'POST /repos/{owner}/{repo}/statuses/{sha}',
      {
        ...repo,
        sha: 'HEAD',
        state: 'green',
        context: 7,
      },
    ).catch(error => error);
    expect(refused.status).toBe(422);
    expect(refused.response.data.message).toContain(
      'For \'properties/state\', "green" is not a member of',
    );
    expect(refused.response.data.message).toContain(
      "For 'properties/context', 7 is not a string.",
    );
    expect(simulator.problems).toHaveLength(2);
  });

  it('answers 404 to a path parameter of the wrong type, and 400 to a body that is not JSON', async () => {
    const { simulator, repo } = await start();
    const api = `${simulator.apiBaseUrl}/repos/${repo.owner}/${repo.repo}`;
    expect(
      (
        await fetch(`${api}/pulls/first`, {
          headers: { authorization: 'token bot-token' },
        })
      ).status,
    ).toBe(404);
    const notJson = await fetch(`${api}/pulls`, {
      method: 'POST',
      headers: {
        authorization: 'token bot-token',
        'content-type': 'application/json',
      },
      body: '{"head": ',
    });
    expect(notJson.status).toBe(400);
    expect(simulator.problems).toEqual([
      expect.stringContaining('path parameter pull_number must be integer'),
      expect.stringContaining('the body is not JSON'),
    ]);
  });

  it('serves a query parameter its operation does not declare, as GitHub does, but records it', async () => {
    const { simulator, bot, repo } = await start();
    const pulls = await bot.request('GET /repos/{owner}/{repo}/pulls', {
      ...repo,
      labels: 'promotion',
    });
    expect(pulls.status).toBe(200);
    expect(simulator.problems).toEqual([
      expect.stringContaining(
        'query parameter labels is not one pulls/list declares',
      ),
    ]);
  });

  it('refuses tokens it does not know, and writes without a token', async () => {
    const { simulator, repo } = await start();
    const api = `${simulator.apiBaseUrl}/repos/${repo.owner}/${repo.repo}`;
    const unknown = await fetch(`${api}/git/ref/heads/main`, {
      headers: { authorization: 'token stolen' },
    });
    expect(unknown.status).toBe(401);
    const anonymous = await fetch(`${api}/git/blobs`, {
      method: 'POST',
      body: JSON.stringify({ content: 'x' }),
    });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({
      message: 'Requires authentication',
    });
    expect(simulator.problems).toEqual([]);
  });
});
