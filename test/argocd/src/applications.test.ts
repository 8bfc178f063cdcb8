import { ApplicationSeed, buildApplication } from './applications';
import { ArgoCdSwagger } from './swagger';

describe('buildApplication', () => {
  const swagger = ArgoCdSwagger.load();
  const valid = (seed: ApplicationSeed) => {
    const built = buildApplication(seed);
    expect(
      swagger.checkDefinition('v1alpha1Application', built.application),
    ).toEqual([]);
    expect(
      swagger.checkDefinition('v1alpha1ApplicationTree', built.tree),
    ).toEqual([]);
    expect(built.problems).toEqual([]);
    return built;
  };

  it('is OutOfSync when Git holds another revision than the one deployed', () => {
    const { application } = valid({
      name: 'orders-prod',
      revision: 'a'.repeat(40),
      desiredRevision: 'b'.repeat(40),
      syncedAt: '2026-03-01T10:00:00Z',
      history: [
        { revision: '1'.repeat(40), deployedAt: '2026-01-01T10:00:00Z' },
        { revision: '2'.repeat(40), deployedAt: '2026-02-01T10:00:00Z' },
      ],
    });
    expect(application.status.sync).toMatchObject({
      status: 'OutOfSync',
      revision: 'b'.repeat(40),
    });
    expect(
      application.status.history!.map(h => [h.id, h.revision, h.deployedAt]),
    ).toEqual([
      [0, '1'.repeat(40), '2026-01-01T10:00:00Z'],
      [1, '2'.repeat(40), '2026-02-01T10:00:00Z'],
      [2, 'a'.repeat(40), '2026-03-01T10:00:00Z'],
    ]);
    expect(
      application.status.resources.find(r => r.kind === 'Deployment'),
    ).toMatchObject({
      status: 'OutOfSync',
    });
  });

  it('shows a sync under way as a running operation, without an end', () => {
    const { application } = valid({
      name: 'orders-prod',
      revision: 'a'.repeat(40),
      desiredRevision: 'b'.repeat(40),
      health: 'Progressing',
      operation: { phase: 'Running', startedAt: '2026-03-01T10:00:00Z' },
    });
    expect(application.operation).toMatchObject({
      sync: { revision: 'b'.repeat(40) },
      initiatedBy: { automated: true },
    });
    expect(application.status.operationState).toMatchObject({
      phase: 'Running',
      startedAt: '2026-03-01T10:00:00Z',
      syncResult: { revision: 'b'.repeat(40) },
    });
    expect(application.status.operationState?.finishedAt).toBeUndefined();
  });

  it('reports a failed sync with its message', () => {
    const { application } = valid({
      name: 'orders-prod',
      operation: {
        phase: 'Failed',
        message: 'one or more objects failed to apply',
        username: 'ana',
      },
    });
    expect(application.status.operationState).toMatchObject({
      phase: 'Failed',
      message: 'one or more objects failed to apply',
      operation: { initiatedBy: { username: 'ana' } },
    });
  });

  it('has no live resources when they are Missing', () => {
    const { application, tree } = valid({
      name: 'new-app',
      health: 'Missing',
      sync: 'OutOfSync',
    });
    expect(tree.nodes).toEqual([]);
    expect(application.status.health.status).toBe('Missing');
    expect(application.status.summary).toEqual({});
    expect(application.status.resources.map(r => r.health?.status)).toEqual([
      'Missing',
      'Missing',
    ]);
  });

  it('shows crashing pods under a Degraded Deployment, with every container image', () => {
    const { application, tree } = valid({
      name: 'orders-prod',
      health: 'Degraded',
      images: ['ghcr.io/acme/orders:3.9.0', 'ghcr.io/acme/log-shipper:0.9.1'],
    });
    const pods = tree.nodes.filter(n => n.kind === 'Pod');
    expect(pods).toHaveLength(2);
    expect(pods[0]).toMatchObject({
      health: { status: 'Degraded' },
      images: ['ghcr.io/acme/orders:3.9.0', 'ghcr.io/acme/log-shipper:0.9.1'],
    });
    expect(application.status.summary.images).toEqual([
      'ghcr.io/acme/log-shipper:0.9.1',
      'ghcr.io/acme/orders:3.9.0',
    ]);
  });

  it('refuses a seed with both source and sources', () => {
    expect(() =>
      buildApplication({
        name: 'x',
        source: { repoURL: 'a' },
        sources: [{ repoURL: 'b' }],
      }),
    ).toThrow('either source or sources');
  });
});
