import { ConfigReader } from '@backstage/config';
import {
  DEFAULT_ENVIRONMENT_MAPPING,
  mapToEnvironment,
} from './environmentMapping';
import { readLiveStateConfig } from './liveStateConfig';

const ENVIRONMENTS = ['dev', 'staging', 'prod'];

describe('mapToEnvironment', () => {
  it('maps by the first rule that names an environment, and says which', () => {
    const map = (application: Parameters<typeof mapToEnvironment>[0]) =>
      mapToEnvironment(application, {
        entityName: 'payment',
        environments: ENVIRONMENTS,
        rules: DEFAULT_ENVIRONMENT_MAPPING,
      });
    expect(
      map({
        name: 'payment-dev',
        labels: { 'gitops-promotions/environment': 'prod' },
      }),
    ).toEqual({
      environment: 'prod',
      mapping: 'label gitops-promotions/environment=prod',
    });
    expect(map({ name: 'payment-dev', labels: { env: 'qa' } })).toEqual({
      environment: 'dev',
      mapping: 'name payment-{env}',
    });
    expect(
      map({ name: 'payments-eu-1', destinationNamespace: 'staging' }),
    ).toEqual({
      environment: 'staging',
      mapping: 'destination namespace staging',
    });
    expect(map({ name: 'checkout-dev' })).toBeUndefined();
  });
});

describe('readLiveStateConfig', () => {
  const read = (promotions: object, root: object = {}) =>
    readLiveStateConfig(new ConfigReader({ ...root, promotions }));

  it('reads several Argo CD instances, each with a token or an account, and the mapping rules', () => {
    const config = read({
      argocd: {
        instances: [
          { name: 'main', url: 'https://argocd.example.com/', token: 't' },
          {
            name: 'eu',
            url: 'https://argocd.eu.example.com',
            username: 'backstage',
            password: 'p',
            timeout: { seconds: 3 },
          },
        ],
      },
      live: { mapping: [{ namespace: 'payments-{env}' }, { label: 'stage' }] },
    });
    expect(config.argocd.instances).toEqual([
      expect.objectContaining({
        name: 'main',
        url: 'https://argocd.example.com',
        token: 't',
        timeoutMs: 10_000,
      }),
      expect.objectContaining({
        name: 'eu',
        username: 'backstage',
        password: 'p',
        timeoutMs: 3000,
      }),
    ]);
    expect(config.argocd.stream).toBe(true);
    expect(config.mapping).toEqual([
      { namespace: 'payments-{env}' },
      { label: 'stage' },
    ]);
  });

  it('stops the backend with the reason for a mistake', () => {
    const instance = { name: 'main', url: 'https://argocd.example.com' };
    expect(() => read({ argocd: { instances: [instance] } })).toThrow(
      /needs a token, or a username and a password/,
    );
    expect(() =>
      read({
        argocd: {
          instances: [
            { ...instance, token: 'a' },
            { ...instance, token: 'b' },
          ],
        },
      }),
    ).toThrow(/the name "main" is used twice/);
    expect(() =>
      read({ live: { mapping: [{ name: 'payment-prod' }] } }),
    ).toThrow(/has no \{env\}/);
    expect(() =>
      read({
        argocd: {
          instances: [{ ...instance, url: 'file:///etc', token: 'a' }],
        },
      }),
    ).toThrow(/must be http or https/);
  });

  it("reads Flux clusters from Backstage's kubernetes config, the serviceAccount ones", () => {
    const config = read(
      {},
      {
        kubernetes: {
          clusterLocatorMethods: [
            {
              type: 'config',
              clusters: [
                {
                  name: 'prod',
                  url: 'https://prod.k8s.example.com',
                  authProvider: 'serviceAccount',
                  serviceAccountToken: 'sa',
                },
                {
                  name: 'aws',
                  url: 'https://eks.example.com',
                  authProvider: 'aws',
                },
              ],
            },
          ],
        },
      },
    );
    expect(config.flux.clusters).toEqual([
      expect.objectContaining({ name: 'prod', token: 'sa' }),
    ]);
  });
});
