import { strategicMerge } from './strategicMerge';

const pod = () => ({
  spec: {
    containers: [
      {
        name: 'app',
        image: 'app:1',
        args: ['--a', '--b'],
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ],
        ports: [{ containerPort: 8080, name: 'http' }],
        volumeMounts: [{ mountPath: '/data', name: 'data' }],
      },
      { name: 'sidecar', image: 'sidecar:1' },
    ],
    volumes: [{ name: 'data', emptyDir: {} }],
    imagePullSecrets: [{ name: 'registry' }],
    nodeSelector: { zone: 'a', disk: 'ssd' },
  },
});

describe('strategicMerge', () => {
  it('merges maps recursively and deletes keys set to null', () => {
    const merged = strategicMerge(
      pod(),
      {
        spec: { nodeSelector: { zone: 'b', disk: null } },
      },
      'Pod',
    ) as any;
    expect(merged.spec.nodeSelector).toEqual({ zone: 'b' });
    expect(merged.spec.containers).toHaveLength(2);
  });

  it('merges containers by name, those of the patch first as kustomize orders them, and keeps what the patch does not mention', () => {
    const merged = strategicMerge(
      pod(),
      {
        spec: {
          containers: [
            { name: 'app', image: 'app:2' },
            { name: 'agent', image: 'agent:1' },
          ],
        },
      },
      'Pod',
    ) as any;
    expect(
      merged.spec.containers.map((c: any) => `${c.name}=${c.image}`),
    ).toEqual(['app=app:2', 'agent=agent:1', 'sidecar=sidecar:1']);
    expect(merged.spec.containers[0].env).toHaveLength(2);
  });

  it('merges env by name, volumeMounts by mountPath, ports by containerPort, volumes and pull secrets by name', () => {
    const merged = strategicMerge(
      pod(),
      {
        spec: {
          containers: [
            {
              name: 'app',
              env: [
                { name: 'B', value: 'two' },
                { name: 'C', value: '3' },
              ],
              ports: [{ containerPort: 8080, name: 'web' }],
              volumeMounts: [{ mountPath: '/data', readOnly: true }],
            },
          ],
          volumes: [{ name: 'data', emptyDir: { medium: 'Memory' } }],
          imagePullSecrets: [{ name: 'registry' }, { name: 'mirror' }],
        },
      },
      'Pod',
    ) as any;
    const app = merged.spec.containers[0];
    expect(app.env).toEqual([
      { name: 'B', value: 'two' },
      { name: 'C', value: '3' },
      { name: 'A', value: '1' },
    ]);
    expect(app.ports).toEqual([{ containerPort: 8080, name: 'web' }]);
    expect(app.volumeMounts).toEqual([
      { mountPath: '/data', name: 'data', readOnly: true },
    ]);
    expect(merged.spec.volumes).toEqual([
      { name: 'data', emptyDir: { medium: 'Memory' } },
    ]);
    expect(merged.spec.imagePullSecrets).toEqual([
      { name: 'registry' },
      { name: 'mirror' },
    ]);
  });

  it('merges service ports by port and protocol, new ones first as kustomize orders them', () => {
    const service = {
      spec: {
        ports: [
          { port: 80, protocol: 'TCP', targetPort: 8080 },
          { port: 81, targetPort: 8081 },
        ],
      },
    };
    expect(
      strategicMerge(
        service,
        {
          spec: {
            ports: [
              { port: 81, targetPort: 9091 },
              { port: 82, targetPort: 9092 },
            ],
          },
        },
        'Service',
      ),
    ).toEqual({
      spec: {
        ports: [
          { port: 82, targetPort: 9092 },
          { port: 80, protocol: 'TCP', targetPort: 8080 },
          { port: 81, targetPort: 9091 },
        ],
      },
    });
  });

  it('merges by the schema of the place: pull secrets of a pod, not of a service account', () => {
    const patch = { imagePullSecrets: [{ name: 'mirror' }] };
    expect(
      strategicMerge(
        { imagePullSecrets: [{ name: 'registry' }] },
        patch,
        'ServiceAccount',
      ),
    ).toEqual(patch);
    expect(
      (
        strategicMerge(
          { spec: { imagePullSecrets: [{ name: 'registry' }] } },
          { spec: patch },
          'Pod',
        ) as any
      ).spec.imagePullSecrets,
    ).toEqual([{ name: 'mirror' }, { name: 'registry' }]);
  });

  it('replaces the lists of a type kustomize has no schema for, such as an Argo Rollout', () => {
    const merged = strategicMerge(
      pod(),
      { spec: { containers: [{ name: 'app', image: 'app:2' }] } },
      null,
    ) as any;
    expect(merged.spec.containers).toEqual([{ name: 'app', image: 'app:2' }]);
  });

  it('merges finalizers, those of the patch first', () => {
    expect(
      strategicMerge(
        { metadata: { finalizers: ['a', 'b'] } },
        { metadata: { finalizers: ['c', 'a'] } },
        'ConfigMap',
      ),
    ).toEqual({ metadata: { finalizers: ['c', 'a', 'b'] } });
  });

  it('replaces lists that have no merge key', () => {
    const merged = strategicMerge(
      pod(),
      {
        spec: { containers: [{ name: 'app', args: ['--c'] }] },
      },
      'Pod',
    ) as any;
    expect(merged.spec.containers[0].args).toEqual(['--c']);
  });

  it('honours $patch: delete on list items and on the whole object', () => {
    const merged = strategicMerge(
      pod(),
      {
        spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] },
      },
      'Pod',
    ) as any;
    expect(merged.spec.containers.map((c: any) => c.name)).toEqual(['app']);
    expect(strategicMerge(pod(), { $patch: 'delete' }, 'Pod')).toBeUndefined();
  });

  it('honours $patch: replace on maps and on lists', () => {
    const map = strategicMerge(
      pod(),
      {
        spec: { nodeSelector: { $patch: 'replace', zone: 'c' } },
      },
      'Pod',
    ) as any;
    expect(map.spec.nodeSelector).toEqual({ zone: 'c' });
    const list = strategicMerge(
      pod(),
      {
        spec: {
          containers: [
            { $patch: 'replace' },
            { name: 'only', image: 'only:1' },
          ],
        },
      },
      'Pod',
    ) as any;
    expect(list.spec.containers).toEqual([{ name: 'only', image: 'only:1' }]);
  });

  it('changes neither the target nor the patch', () => {
    const target = pod();
    const patch = { spec: { containers: [{ name: 'app', image: 'app:2' }] } };
    strategicMerge(target, patch, 'Pod');
    expect(target).toEqual(pod());
    expect(patch).toEqual({
      spec: { containers: [{ name: 'app', image: 'app:2' }] },
    });
  });
});
