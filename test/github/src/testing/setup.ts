import http from 'node:http';
import { AddressInfo } from 'node:net';
// The client the backend uses, from the root workspace: this package does not declare it yet.
import { Octokit } from '@octokit/rest';
import { GithubSimulator, GithubSimulatorOptions } from '../simulator';
import { createGitFixture, FixtureCommit } from './gitFixture';

/** The accounts of the tests: a bot that opens promotions, and a person who reviews them. */
export const users = {
  'bot-token': { login: 'promotions-bot', id: 9001, type: 'Bot' as const },
  'alice-token': { login: 'alice', id: 1001 },
};

export const fixtureCommits: FixtureCommit[] = [
  {
    message: 'Add the shop',
    files: {
      'shop/base/kustomization.yaml': 'resources:\n  - deployment.yaml\n',
      'shop/base/deployment.yaml': 'image: shop:1.0.0\n',
      'shop/overlays/dev/kustomization.yaml': 'images:\n  - newTag: 1.0.0\n',
      'shop/overlays/prod/kustomization.yaml': 'images:\n  - newTag: 1.0.0\n',
    },
  },
  {
    message: 'Deploy shop 1.1.0 to dev\n\nRolled out by the pipeline.',
    date: '2026-01-02T10:00:00+02:00',
    files: {
      'shop/overlays/dev/kustomization.yaml': 'images:\n  - newTag: 1.1.0\n',
    },
  },
];

/** A webhook receiver that keeps every request it gets. */
export class WebhookReceiver {
  readonly received: {
    headers: http.IncomingHttpHeaders;
    body: string;
  }[] = [];
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', chunk => chunks.push(chunk));
    req.on('end', () => {
      this.received.push({
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(202).end();
    });
  });

  async start(): Promise<string> {
    await new Promise<void>(resolve =>
      this.server.listen(0, '127.0.0.1', resolve),
    );
    return `http://127.0.0.1:${
      (this.server.address() as AddressInfo).port
    }/hook`;
  }

  async stop() {
    this.server.closeAllConnections();
    await new Promise(resolve => this.server.close(resolve));
  }
}

/** A simulator with clients for the tests' accounts. */
export interface SimulatedGithub {
  simulator: GithubSimulator;
  repoDir: string;
  /** Octokit with the bot's token. */
  bot: Octokit;
  /** Octokit with alice's token. */
  alice: Octokit;
  repo: { owner: string; repo: string };
}

/** Starts simulators over fresh fixture repositories, and stops them after each test. */
export function useSimulators(): (
  options?: Partial<GithubSimulatorOptions> & { bare?: boolean },
) => Promise<SimulatedGithub> {
  const started: GithubSimulator[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map(simulator => simulator.stop()));
  });
  return async (options = {}) => {
    const { bare, ...rest } = options;
    const repoDir = rest.repoDir ?? createGitFixture(fixtureCommits, { bare });
    const simulator = await GithubSimulator.start({
      owner: 'acme',
      repo: 'gitops',
      users,
      ...rest,
      repoDir,
    });
    started.push(simulator);
    const client = (token: string) =>
      new Octokit({
        auth: token,
        baseUrl: simulator.apiBaseUrl,
        // Refusals are what many tests expect: Octokit need not log them.
        log: { debug() {}, info() {}, warn() {}, error() {} },
      });
    return {
      simulator,
      repoDir,
      bot: client('bot-token'),
      alice: client('alice-token'),
      repo: { owner: 'acme', repo: 'gitops' },
    };
  };
}
