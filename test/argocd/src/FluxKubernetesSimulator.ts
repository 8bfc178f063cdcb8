import http from 'node:http';
import { AddressInfo } from 'node:net';
import {
  BuiltFluxObject,
  FluxMeta,
  helmRelease,
  HelmReleaseSeed,
  kustomization,
  KustomizationSeed,
} from './fluxObjects';
import { helmModels, kustomizeModels, modelProblems } from './kubernetesModels';
import {
  matchesSelector,
  parseSelector,
  SelectorError,
  SelectorRequirement,
} from './selectors';

/**
 * A minimal Kubernetes API server serving Flux objects, for a backend that reads Flux status
 * through the Kubernetes API of a cluster: list and get of Kustomizations
 * (`kustomize.toolkit.fluxcd.io/v1`) and HelmReleases (`helm.toolkit.fluxcd.io/v2`), in all
 * namespaces or one, with label and field selectors and paging. Every object is built and
 * checked with `@kubernetes-models/flux-cd`; invalid objects, requests the server would not
 * serve and parameters it would ignore are recorded in `problems`.
 */

export interface FluxKubernetesSimulatorOptions {
  /** When set, requests must carry `Authorization: Bearer <token>`; others get 401. */
  token?: string;
  kustomizations?: KustomizationSeed[];
  helmReleases?: HelmReleaseSeed[];
  port?: number;
  host?: string;
}

/** One request the simulator received, with how it was answered. */
export interface FluxSimulatedRequest {
  /** `list kustomizations`, `get helmreleases`, or `?`. */
  operation: string;
  method: string;
  path: string;
  status?: number;
  authorization?: string;
}

interface Resource {
  group: string;
  version: string;
  kind: string;
  plural: string;
  build(seed: unknown, meta: FluxMeta): BuiltFluxObject<object>;
  list(data: object): { toJSON(): unknown; validate(): void };
}

interface StoredObject {
  seed: { name: string; namespace?: string };
  object: Record<string, any>;
}

type Fault = { kind: 'status'; status: 500 | 503 } | { kind: 'hang' };

interface Answer {
  status: number;
  body: unknown;
}

const RESOURCES: Resource[] = [
  {
    group: 'kustomize.toolkit.fluxcd.io',
    version: 'v1',
    kind: 'Kustomization',
    plural: 'kustomizations',
    build: (seed, meta) => kustomization(seed as KustomizationSeed, meta),
    list: data =>
      new (kustomizeModels().KustomizationList)(
        data as ConstructorParameters<
          ReturnType<typeof kustomizeModels>['KustomizationList']
        >[0],
      ),
  },
  {
    group: 'helm.toolkit.fluxcd.io',
    version: 'v2',
    kind: 'HelmRelease',
    plural: 'helmreleases',
    build: (seed, meta) => helmRelease(seed as HelmReleaseSeed, meta),
    list: data =>
      new (helmModels().HelmReleaseList)(
        data as ConstructorParameters<
          ReturnType<typeof helmModels>['HelmReleaseList']
        >[0],
      ),
  },
];

const LIST_PARAMETERS = [
  'labelSelector',
  'fieldSelector',
  'limit',
  'continue',
  'resourceVersion',
  'resourceVersionMatch',
  'timeoutSeconds',
  'pretty',
];
const GET_PARAMETERS = ['resourceVersion', 'pretty'];
const PATH =
  /^\/apis\/([^/]+)\/([^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?$/;

/** A Kubernetes `Status` of a failed request. */
function failure(
  code: number,
  reason: string,
  message: string,
  details?: Record<string, unknown>,
): Answer {
  return {
    status: code,
    body: {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      ...(details ? { details } : {}),
      code,
    },
  };
}

/** A field selector on `metadata.name` and `metadata.namespace`, the fields every resource has. */
function fieldFilter(
  text: string,
): ((object: StoredObject) => boolean) | string {
  const tests: Array<(object: StoredObject) => boolean> = [];
  for (const term of text.split(',').filter(Boolean)) {
    const parsed = /^([^!=]+)(==|=|!=)(.*)$/.exec(term);
    if (!parsed)
      return `invalid selector: '${text}'; can't understand '${term}'`;
    const [, field, operator, value] = parsed;
    if (field !== 'metadata.name' && field !== 'metadata.namespace')
      return `field label not supported: ${field}`;
    const key = field.split('.')[1] as 'name' | 'namespace';
    tests.push(o => (o.object.metadata[key] === value) === (operator !== '!='));
  }
  return o => tests.every(t => t(o));
}

/** A simulated Kubernetes API server of Flux objects; see the module comment. */
export class FluxKubernetesSimulator {
  /** Every request received, in order. */
  readonly requests: FluxSimulatedRequest[] = [];
  /** Invalid objects, and requests a Kubernetes API server would refuse or only partly follow. */
  readonly problems: string[] = [];
  private readonly server: http.Server;
  private readonly objects = new Map<string, StoredObject>();
  private readonly faults: Fault[] = [];
  private resourceVersion = 0;
  private authRejected = false;
  private endless = false;
  private origin = '';

  private constructor(
    private readonly options: FluxKubernetesSimulatorOptions,
  ) {
    this.server = http.createServer((req, res) => {
      try {
        this.serve(req, res);
      } catch (error) {
        this.problems.push(
          `the simulator failed on ${req.method} ${req.url}: ${
            (error as Error).stack ?? error
          }`,
        );
        if (!res.headersSent) res.writeHead(500).end();
      }
    });
    for (const seed of options.kustomizations ?? [])
      this.setKustomization(seed);
    for (const seed of options.helmReleases ?? []) this.setHelmRelease(seed);
  }

  static async start(
    options: FluxKubernetesSimulatorOptions = {},
  ): Promise<FluxKubernetesSimulator> {
    const simulator = new FluxKubernetesSimulator(options);
    await new Promise<void>(resolve =>
      simulator.server.listen(
        options.port ?? 0,
        options.host ?? '127.0.0.1',
        resolve,
      ),
    );
    const { port, address } = simulator.server.address() as AddressInfo;
    simulator.origin = `http://${address}:${port}`;
    return simulator;
  }

  /** The cluster's API URL, what a Backstage `kubernetes` cluster's `url` is set to. */
  get url(): string {
    return this.origin;
  }

  async stop() {
    this.server.closeAllConnections();
    await new Promise(resolve => this.server.close(resolve));
  }

  /** Adds or replaces a Kustomization; schema errors are recorded in `problems`. */
  setKustomization(seed: KustomizationSeed) {
    return this.set(RESOURCES[0], seed);
  }

  /** Adds or replaces a HelmRelease; schema errors are recorded in `problems`. */
  setHelmRelease(seed: HelmReleaseSeed) {
    return this.set(RESOURCES[1], seed);
  }

  /** The next `times` requests are answered with a server error. */
  failNext(times: number, status: 500 | 503 = 500) {
    for (let i = 0; i < times; i++)
      this.faults.push({ kind: 'status', status });
  }

  /** The next `times` requests get no answer: a client's timeout must end them. */
  hangNext(times: number) {
    for (let i = 0; i < times; i++) this.faults.push({ kind: 'hang' });
  }

  /** While on, every request is refused with 401, as for a revoked token. */
  rejectAuth(on = true) {
    this.authRejected = on;
  }

  /** While on, every list answer says there is another page, as a broken server or proxy might. */
  endlessPages(on = true) {
    this.endless = on;
  }

  /** Requests received since the start or the last `resetCounts`, of one operation or all. */
  count(operation?: string, status?: number): number {
    return this.requests.filter(
      r =>
        (!operation || r.operation === operation) &&
        (status === undefined || r.status === status),
    ).length;
  }

  resetCounts() {
    this.requests.length = 0;
  }

  private set(resource: Resource, seed: { name: string; namespace?: string }) {
    const key = `${resource.plural}/${seed.namespace ?? 'flux-system'}/${
      seed.name
    }`;
    const before = this.objects.get(key)?.object.metadata;
    const built = resource.build(seed, {
      resourceVersion: String(++this.resourceVersion),
      generation: before ? before.generation + 1 : 1,
      createdAt: before?.creationTimestamp,
    });
    this.problems.push(...built.problems);
    this.objects.set(key, {
      seed,
      object: built.object as Record<string, any>,
    });
    return built.object;
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', this.origin);
    const record: FluxSimulatedRequest = {
      operation: '?',
      method: req.method ?? '?',
      path: `${url.pathname}${url.search}`,
      authorization: req.headers.authorization,
    };
    this.requests.push(record);
    const problem = (text: string) =>
      this.problems.push(`${text} (${req.method} ${record.path})`);
    const answer = ({ status, body }: Answer) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };

    const authorization = req.headers.authorization ?? '';
    if (
      this.authRejected ||
      (this.options.token && authorization !== `Bearer ${this.options.token}`)
    ) {
      answer(failure(401, 'Unauthorized', 'Unauthorized'));
      return;
    }

    const parts = PATH.exec(url.pathname);
    const resource = parts
      ? RESOURCES.find(
          r =>
            r.group === parts[1] &&
            r.version === parts[2] &&
            r.plural === parts[4],
        )
      : undefined;
    if (!parts || !resource) {
      problem('a request for something this Kubernetes API does not serve');
      answer(
        failure(
          404,
          'NotFound',
          'the server could not find the requested resource',
          {},
        ),
      );
      return;
    }
    const [, , , namespace, , name] = parts;
    record.operation = `${name ? 'get' : 'list'} ${resource.plural}`;
    if (req.method !== 'GET') {
      problem(`${req.method} is not simulated`);
      answer(
        failure(
          405,
          'MethodNotAllowed',
          `the server does not allow this method on the requested resource`,
          {},
        ),
      );
      return;
    }
    for (const key of new Set(url.searchParams.keys())) {
      if (!(name ? GET_PARAMETERS : LIST_PARAMETERS).includes(key))
        problem(
          `${record.operation} has no query parameter "${key}"; Kubernetes would ignore it`,
        );
    }

    const fault = this.faults.shift();
    if (fault?.kind === 'hang') return; // the client's timeout is what ends this request
    if (fault) {
      answer(
        fault.status === 503
          ? failure(
              503,
              'ServiceUnavailable',
              'the server is currently unable to handle the request',
            )
          : failure(
              500,
              'InternalError',
              'Internal error occurred: simulated fault',
            ),
      );
      return;
    }

    const inScope = [...this.objects.entries()]
      .filter(([key]) => key.startsWith(`${resource.plural}/`))
      .map(([, stored]) => stored)
      .filter(o => !namespace || o.object.metadata.namespace === namespace);
    if (name) {
      const found = inScope.find(o => o.object.metadata.name === name);
      answer(
        found
          ? { status: 200, body: found.object }
          : failure(
              404,
              'NotFound',
              `${resource.plural}.${resource.group} "${name}" not found`,
              {
                name,
                group: resource.group,
                kind: resource.plural,
              },
            ),
      );
      return;
    }
    answer(this.list(resource, inScope, url.searchParams, problem));
  }

  private list(
    resource: Resource,
    objects: StoredObject[],
    query: URLSearchParams,
    problem: (text: string) => void,
  ): Answer {
    let selector: SelectorRequirement[];
    try {
      selector = parseSelector(query.get('labelSelector') ?? '');
    } catch (error) {
      if (!(error instanceof SelectorError)) throw error;
      problem(`a label selector Kubernetes cannot parse: ${error.message}`);
      return failure(
        400,
        'BadRequest',
        `unable to parse requirement: ${error.message}`,
      );
    }
    const fields = fieldFilter(query.get('fieldSelector') ?? '');
    if (typeof fields === 'string') {
      problem(`a field selector Kubernetes refuses: ${fields}`);
      return failure(400, 'BadRequest', fields);
    }
    const items = objects
      .filter(o => matchesSelector(selector, o.object.metadata.labels))
      .filter(fields)
      .sort((a, b) =>
        `${a.object.metadata.namespace}/${a.object.metadata.name}`.localeCompare(
          `${b.object.metadata.namespace}/${b.object.metadata.name}`,
        ),
      )
      .map(o => o.object);
    // Paging: `continue` carries the offset of the next page.
    const offset = query.has('continue')
      ? Number(Buffer.from(query.get('continue')!, 'base64url').toString())
      : 0;
    const limit = Number(query.get('limit')) || items.length;
    const page = items.slice(offset, offset + limit);
    const more = this.endless || offset + limit < items.length;
    const list = resource.list({
      apiVersion: `${resource.group}/${resource.version}`,
      kind: `${resource.kind}List`,
      metadata: {
        resourceVersion: String(this.resourceVersion),
        ...(more
          ? {
              continue: Buffer.from(String(offset + limit)).toString(
                'base64url',
              ),
            }
          : {}),
      },
      items: page,
    });
    this.problems.push(...modelProblems(list, `${resource.kind}List`));
    return { status: 200, body: list.toJSON() };
  }
}
