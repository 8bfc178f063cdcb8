import { buildRollout, RolloutSeed, rolloutHealth } from './rollouts';

const context = {
  name: 'payment',
  namespace: 'payment-prod',
  uid: '6f0c5b8e-0b7e-4d59-a3b1-2b1f6c1d9a01',
  createdAt: '2026-01-01T00:00:00Z',
  since: '2026-01-02T00:00:00Z',
  annotations: {},
};
const build = (seed: Partial<RolloutSeed>) =>
  buildRollout(
    {
      stableImage: 'ghcr.io/acme/payment:1.4.1',
      canaryImage: 'ghcr.io/acme/payment:1.4.2',
      ...seed,
    },
    context,
  );

describe('buildRollout', () => {
  it('builds a canary paused at a pause step, valid for the Argo Rollouts schema', () => {
    const { manifest, health, replicaSets, problems } = build({ step: 1 });
    expect(problems).toEqual([]);
    expect(health).toEqual({ status: 'Suspended', message: 'CanaryPauseStep' });
    expect(manifest.spec?.template?.spec?.containers[0].image).toBe(
      'ghcr.io/acme/payment:1.4.2',
    );
    expect(manifest.status).toMatchObject({
      currentStepIndex: 1,
      controllerPause: true,
      pauseConditions: [
        { reason: 'CanaryPauseStep', startTime: context.since },
      ],
      stableRS: replicaSets[0].hash,
      currentPodHash: replicaSets[1].hash,
      canary: {
        weights: {
          canary: { weight: 20, serviceName: 'payment-canary' },
          stable: { weight: 80, serviceName: 'payment' },
        },
      },
    });
    expect(replicaSets.map(rs => [rs.image, rs.pods])).toEqual([
      ['ghcr.io/acme/payment:1.4.1', 4],
      ['ghcr.io/acme/payment:1.4.2', 1],
    ]);
  });

  it('follows the rollout through its steps to promotion', () => {
    const progressing = build({ step: 2, paused: false, weight: 50 });
    expect(progressing.health.status).toBe('Progressing');
    expect(progressing.manifest.status?.canary?.weights?.canary.weight).toBe(
      50,
    );

    const promoted = build({ step: 5 });
    expect(promoted.problems).toEqual([]);
    expect(promoted.health).toEqual({ status: 'Healthy' });
    expect(promoted.replicaSets).toEqual([
      expect.objectContaining({ image: 'ghcr.io/acme/payment:1.4.2', pods: 4 }),
    ]);
    expect(promoted.manifest.status?.stableRS).toBe(
      promoted.manifest.status?.currentPodHash,
    );

    const steady = build({ canaryImage: undefined });
    expect(steady.health.status).toBe('Healthy');
    expect(steady.manifest.status?.currentStepIndex).toBe(5);
  });

  it('reports an aborted rollout as Degraded, back on the stable image', () => {
    const { manifest, health, replicaSets, problems } = build({
      step: 3,
      aborted: true,
    });
    expect(problems).toEqual([]);
    expect(health).toEqual({
      status: 'Degraded',
      message: 'RolloutAborted: Rollout aborted update to revision 2',
    });
    expect(manifest.status).toMatchObject({
      abort: true,
      abortedAt: context.since,
    });
    expect(manifest.status?.canary?.weights?.canary.weight).toBe(0);
    expect(replicaSets.map(rs => rs.pods)).toEqual([4, 0]);
  });

  it('maps health as Argo CD does, waiting for a spec update to be observed', () => {
    const { manifest } = build({ step: 1 });
    expect(
      rolloutHealth({
        ...manifest,
        status: { ...manifest.status, observedGeneration: '1' },
      }),
    ).toEqual({
      status: 'Progressing',
      message: 'Waiting for rollout spec update to be observed',
    });
  });

  it('reports a Rollout the Argo Rollouts schema refuses', () => {
    const { problems } = build({ steps: [{ setWeight: 12.5 }], step: 1 });
    expect(problems).toEqual([
      'Rollout payment-prod/payment is invalid: data/spec/strategy/canary/steps/0/setWeight must be integer',
      'Rollout payment-prod/payment is invalid: data/spec/strategy/canary/steps/0/setWeight must match format "int32"',
    ]);
  });
});
