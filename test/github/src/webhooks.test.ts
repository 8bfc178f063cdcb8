import { git, appendCommit } from './testing/gitFixture';
import { useSimulators, WebhookReceiver } from './testing/setup';
import { webhooksMethods } from './webhooksMethods';

describe('webhooks', () => {
  const start = useSimulators();
  const receivers: WebhookReceiver[] = [];
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map(started => started.stop()));
  });
  async function startReceiver() {
    const started = new WebhookReceiver();
    receivers.push(started);
    return { receiver: started, url: await started.start() };
  }

  it('signs every delivery so that @octokit/webhooks-methods verifies it, with GitHub headers', async () => {
    const { receiver: hooks, url } = await startReceiver();
    const { simulator, bot, repo } = await start({
      webhooks: { url, secret: 'It is a secret' },
    });
    const main = await bot.git.getRef({ ...repo, ref: 'heads/main' });
    await bot.git.createRef({
      ...repo,
      ref: 'refs/heads/promote/x',
      sha: main.data.object.sha,
    });
    await simulator.settled();

    expect(hooks.received).toHaveLength(1);
    const [delivery] = hooks.received;
    expect(delivery.headers).toMatchObject({
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': expect.stringMatching(/^[0-9a-f-]{36}$/),
      'x-github-hook-id': expect.stringMatching(/^\d+$/),
      'user-agent': expect.stringMatching(/^GitHub-Hookshot\//),
    });
    const { verify } = webhooksMethods();
    const signature = String(delivery.headers['x-hub-signature-256']);
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    await expect(
      verify('It is a secret', delivery.body, signature),
    ).resolves.toBe(true);
    await expect(
      verify('Another secret', delivery.body, signature),
    ).resolves.toBe(false);
    expect(JSON.parse(delivery.body)).toMatchObject({
      ref: 'refs/heads/promote/x',
      created: true,
      deleted: false,
      after: main.data.object.sha,
    });
    expect(simulator.deliveries).toEqual([
      expect.objectContaining({ event: 'push', status: 202 }),
    ]);
    expect(simulator.problems).toEqual([]);
  });

  it("tells a promotion from branch to merge in payloads valid against GitHub's webhook description", async () => {
    const { receiver: hooks, url } = await startReceiver();
    const { simulator, bot, alice, repo } = await start();
    simulator.deliverWebhooks(url, 'secret');
    const head = await simulator.pushCommit(
      'promote/shop',
      {
        'shop/overlays/prod/kustomization.yaml': 'images:\n  - newTag: 1.1.0\n',
      },
      'Promote shop 1.1.0 to prod',
    );
    await bot.pulls.create({
      ...repo,
      title: 'Promote shop',
      head: 'promote/shop',
      base: 'main',
    });
    await simulator.pushCommit(
      'promote/shop',
      { 'shop/overlays/prod/notes.md': 'Why\n' },
      'Explain the promotion',
    );
    await alice.pulls.createReview({
      ...repo,
      pull_number: 1,
      event: 'APPROVE',
    });
    const pr = await bot.pulls.get({ ...repo, pull_number: 1 });
    await bot.checks.create({
      ...repo,
      name: 'render',
      head_sha: pr.data.head.sha,
      status: 'completed',
      conclusion: 'success',
      output: { title: 'Rendered', summary: 'All overlays render.' },
    });
    await bot.repos.createCommitStatus({
      ...repo,
      sha: pr.data.head.sha,
      state: 'success',
      context: 'ci/policy',
    });
    await bot.pulls.merge({ ...repo, pull_number: 1, sha: pr.data.head.sha });
    await simulator.settled();

    expect(
      simulator.deliveries.map(d =>
        [d.event, d.action].filter(Boolean).join('.'),
      ),
    ).toEqual([
      'push',
      'pull_request.opened',
      'push',
      'pull_request.synchronize',
      'pull_request_review.submitted',
      'check_run.created',
      'check_run.completed',
      'status',
      'push',
      'pull_request.closed',
    ]);
    const [created, , pushed, synchronized] = simulator.deliveries;
    expect(created.payload).toMatchObject({ created: true, after: head });
    expect(pushed.payload).toMatchObject({
      before: head,
      forced: false,
      commits: [
        expect.objectContaining({
          message: 'Explain the promotion',
          added: ['shop/overlays/prod/notes.md'],
          modified: [],
          removed: [],
        }),
      ],
    });
    expect(synchronized.payload).toMatchObject({
      before: head,
      after: pr.data.head.sha,
    });
    expect(simulator.deliveries[9].payload).toMatchObject({
      pull_request: { merged: true, state: 'closed' },
    });
    expect(hooks.received).toHaveLength(10);
    expect(simulator.deliveries.every(d => d.status === 202)).toBe(true);
    expect(simulator.problems).toEqual([]);
  });

  it('sends a push for commits a test made with git, when told', async () => {
    const { url } = await startReceiver();
    const { simulator, repoDir } = await start({
      webhooks: { url, secret: 's' },
    });
    const before = git(repoDir, ['rev-parse', 'main']);
    const after = appendCommit(repoDir, {
      message: 'Remove the dev overlay',
      files: { 'shop/overlays/dev/kustomization.yaml': null },
    });
    simulator.notifyPush(before, after, 'main');
    await simulator.setCheckRun('main', 'render', 'failure');
    await simulator.setStatus(after, 'ci/policy', 'failure', 'Denied');
    await simulator.settled();
    expect(simulator.deliveries.map(d => d.event)).toEqual([
      'push',
      'check_run',
      'check_run',
      'status',
    ]);
    expect(simulator.deliveries[0].payload).toMatchObject({
      ref: 'refs/heads/main',
      commits: [
        expect.objectContaining({
          id: after,
          removed: ['shop/overlays/dev/kustomization.yaml'],
        }),
      ],
      head_commit: expect.objectContaining({ id: after }),
    });
    expect(simulator.deliveries[2].payload).toMatchObject({
      action: 'completed',
      check_run: { conclusion: 'failure', head_sha: after },
    });
    expect(simulator.problems).toEqual([]);
  });

  it('records a delivery nobody received with status 0, and sends nothing without a target', async () => {
    const { simulator, bot, repo } = await start();
    await simulator.pushCommit('main', { 'a.txt': 'a' }, 'Unseen');
    await simulator.settled();
    expect(simulator.deliveries).toEqual([]);
    simulator.deliverWebhooks('http://127.0.0.1:9/hook', 'secret');
    await bot.git.deleteRef({ ...repo, ref: 'heads/main' });
    await simulator.settled();
    expect(simulator.deliveries).toEqual([
      expect.objectContaining({
        event: 'push',
        status: 0,
        payload: expect.objectContaining({ deleted: true, head_commit: null }),
      }),
    ]);
    expect(simulator.problems).toEqual([]);
  });
});
