import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { PromotionsClient } from '@gitops-promotions/plugin-promotions';
import promotionsBackend from '@gitops-promotions/plugin-promotions-backend';
import { createGitFixture, FixtureCommit } from '@internal/promotions-fixtures';
import { Server } from 'node:http';
import request from 'supertest';

/** The overlay of one service's environment, pinning its image tag. */
const overlay = (service: string, env: string, tag: string) => `resources:
  - ../../base
namePrefix: ${env}-
images:
  - name: ghcr.io/acme/${service}
    newTag: "${tag}"
`;

const deployment = (service: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${service}
spec:
  template:
    spec:
      containers:
        - name: ${service}
          image: ghcr.io/acme/${service}:0.0.1
`;

/** One service of the fleet: its index decides its owner, system, lifecycle and versions. */
export interface FleetService {
  i: number;
  name: string;
  owner: string;
  system: string;
  lifecycle: string;
  versions: { dev: string; staging: string; prod: string };
  entity: Entity;
}

/**
 * `count` services in one GitOps repository. Even ones are owned by team-a, odd ones by team-b;
 * every third service's prod is behind staging (prod 0.9.0); every fourth is experimental.
 */
export function fleetOf(count: number): FleetService[] {
  return Array.from({ length: count }, (_, i) => {
    const name = `svc-${String(i).padStart(2, '0')}`;
    const current = `1.${i}.0`;
    const owner = i % 2 === 0 ? 'team-a' : 'team-b';
    const system = i < 10 ? 'shop' : 'back-office';
    const lifecycle = i % 4 === 0 ? 'experimental' : 'production';
    return {
      i,
      name,
      owner,
      system,
      lifecycle,
      versions: {
        dev: current,
        staging: current,
        prod: i % 3 === 0 ? '0.9.0' : current,
      },
      entity: {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Component',
        metadata: {
          name,
          namespace: 'default',
          annotations: {
            'gitops-promotions/repository': 'gitops',
            'gitops-promotions/path': `${name}/overlays/{env}`,
          },
        },
        spec: { type: 'service', owner, system, lifecycle },
        relations: [
          { type: 'ownedBy', targetRef: `group:default/${owner}` },
          { type: 'partOf', targetRef: `system:default/${system}` },
        ],
      },
    };
  });
}

function historyOf(services: FleetService[]): FixtureCommit[] {
  const files: Record<string, string> = {};
  for (const s of services) {
    files[`${s.name}/base/deployment.yaml`] = deployment(s.name);
    files[`${s.name}/base/kustomization.yaml`] =
      'resources:\n  - deployment.yaml\n';
    for (const env of ['dev', 'staging', 'prod'] as const) {
      files[`${s.name}/overlays/${env}/kustomization.yaml`] = overlay(
        s.name,
        env,
        s.versions[env],
      );
    }
  }
  return [
    {
      author: 'Ana Lima',
      date: '2026-11-02T09:00:00Z',
      message: 'Lay out the fleet',
      files,
    },
  ];
}

/**
 * A fetch over the test backend's own server, as the browser's would be: the test environment
 * refuses network requests, so each request goes through supertest to the in-process server.
 */
function fetchThrough(server: Server): FetchApi {
  return {
    fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = new URL(String(input instanceof Request ? input.url : input));
      const method = (init?.method ?? 'GET').toLowerCase() as 'get' | 'post';
      let call = request(server)[method](`${url.pathname}${url.search}`);
      for (const [name, value] of Object.entries(
        (init?.headers as Record<string, string> | undefined) ?? {},
      )) {
        call = call.set(name, value);
      }
      const res = await (init?.body ? call.send(String(init.body)) : call);
      return new Response(res.status === 204 ? null : res.text, {
        status: res.status,
        headers: { 'content-type': res.headers['content-type'] ?? '' },
      });
    },
  };
}

/**
 * The promotions backend with the catalog holding `services`, refreshed once from a real Git
 * repository, and a PromotionsClient that calls it as the portal would.
 */
export async function startRealBackend(services: FleetService[]) {
  const scheduler = mockServices.scheduler() as ReturnType<
    typeof mockServices.scheduler
  > & { factory(options: { skipTaskRunOnStartup: boolean }): any };
  const { server } = await startTestBackend({
    features: [
      promotionsBackend,
      scheduler.factory({ skipTaskRunOnStartup: true }),
      catalogServiceMock.factory({ entities: services.map(s => s.entity) }),
      mockServices.rootConfig.factory({
        data: {
          promotions: {
            repositories: [
              {
                id: 'gitops',
                provider: 'git',
                url: createGitFixture(historyOf(services)),
                paths: ['{entity.metadata.name}/**'],
              },
            ],
          },
        },
      }),
    ],
  });
  await scheduler.triggerTask('promotions-refresh:gitops');
  const discoveryApi: DiscoveryApi = {
    getBaseUrl: async pluginId => `http://localhost/api/${pluginId}`,
  };
  const fetchApi = fetchThrough(server);
  return {
    server,
    client: new PromotionsClient({ discoveryApi, fetchApi }),
  };
}
