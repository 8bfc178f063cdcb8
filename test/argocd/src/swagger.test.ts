import { application } from './applications';
import { ArgoCdSwagger, MatchedOperation } from './swagger';

describe('ArgoCdSwagger', () => {
  const swagger = ArgoCdSwagger.load();
  const list = swagger.match('GET', '/api/v1/applications')!;
  const get = swagger.match('GET', '/api/v1/applications/payment-dev')!;
  const watch = swagger.match('GET', '/api/v1/stream/applications')!;
  const login = swagger.match('POST', '/api/v1/session')!;

  it('matches paths to operations, literal segments first', () => {
    expect(list.operationId).toBe('ApplicationService_List');
    expect(get).toMatchObject({
      operationId: 'ApplicationService_Get',
      pathParams: { name: 'payment-dev' },
      streaming: false,
    });
    expect(
      swagger.match('GET', '/api/v1/applications/payment-dev/resource-tree'),
    ).toMatchObject({
      operationId: 'ApplicationService_ResourceTree',
      pathParams: { applicationName: 'payment-dev' },
    });
    expect(watch).toMatchObject({
      operationId: 'ApplicationService_Watch',
      streaming: true,
    });
    expect(swagger.match('GET', '/api/v1/nothing-here')).toBeUndefined();
    expect(swagger.match('PUT', '/api/v1/session')).toBeUndefined();
  });

  it('accepts the applications the seeds build, single- and multi-source', () => {
    expect(
      swagger.checkDefinition(
        'v1alpha1Application',
        application({ name: 'a' }),
      ),
    ).toEqual([]);
    expect(
      swagger.checkDefinition(
        'v1alpha1Application',
        application({
          name: 'b',
          sources: [
            {
              repoURL: 'https://charts.example.com',
              chart: 'api',
              targetRevision: '1.2.3',
              helm: {
                valueFiles: ['$values/api/values-prod.yaml'],
                parameters: [{ name: 'image.tag', value: '1.2.3' }],
                valuesObject: { replicaCount: 3, ingress: { enabled: true } },
              },
            },
            {
              repoURL: 'https://github.com/example/gitops.git',
              targetRevision: 'main',
              ref: 'values',
            },
          ],
        }),
      ),
    ).toEqual([]);
  });

  it('rejects an application with a field of the wrong type', () => {
    const app = application({
      name: 'a',
      overrides: { metadata: { generation: '2' } },
    });
    expect(swagger.checkDefinition('v1alpha1Application', app)).toEqual([
      expect.stringContaining('/metadata/generation must be integer'),
    ]);
  });

  it('rejects an application with a field Argo CD does not have', () => {
    const app = application({
      name: 'a',
      overrides: { status: { sync: { revison: 'abc' } } },
    });
    expect(swagger.checkDefinition('v1alpha1Application', app)).toEqual([
      expect.stringMatching(
        /\/status\/sync must NOT have additional properties.*revison/,
      ),
    ]);
  });

  it('rejects query parameters an operation does not declare, and values of the wrong type', () => {
    const check = (match: MatchedOperation, query: string) =>
      swagger.checkRequest(match, { query: new URLSearchParams(query) });
    expect(check(list, 'selector=a%3Db&projects=x&projects=y')).toEqual([]);
    expect(check(list, 'labelSelector=a%3Db')).toEqual([
      expect.stringContaining('has no query parameter "labelSelector"'),
    ]);
    expect(check(list, 'name=a&name=b')).toEqual([
      expect.stringContaining('"name" is not repeatable'),
    ]);
    expect(check(list, 'fields=items.metadata.name')).toEqual([
      expect.stringContaining('has no query parameter "fields"'),
    ]);
    expect(
      swagger.checkRequest(list, {
        query: new URLSearchParams('fields=items.metadata.name'),
        alsoAccepted: ['fields'],
      }),
    ).toEqual([]);
    const remove = swagger.match('DELETE', '/api/v1/applications/a')!;
    expect(check(remove, 'cascade=maybe')).toEqual([
      expect.stringContaining('"cascade" is "maybe", not a boolean'),
    ]);
  });

  it('checks a request body against its schema', () => {
    const body = (text?: string) =>
      swagger.checkRequest(login, { query: new URLSearchParams(), body: text });
    expect(body('{"username":"admin","password":"x"}')).toEqual([]);
    expect(body('{"user":"admin","password":"x"}')).toEqual([
      expect.stringMatching(/must NOT have additional properties.*user/),
    ]);
    expect(body('{"username":1}')).toEqual([
      expect.stringContaining('/username must be string'),
    ]);
    expect(body('not json')).toEqual([expect.stringContaining('not JSON')]);
    expect(body(undefined)).toEqual([
      expect.stringContaining('request body is missing'),
    ]);
  });

  it('rejects an answer whose status calls for another body', () => {
    expect(
      swagger.checkResponse(get, 404, {
        error: 'x',
        code: 5,
        message: 'x',
      }),
    ).toEqual([]);
    expect(
      swagger.checkResponse(get, 404, application({ name: 'a' })),
    ).not.toEqual([]);
    expect(swagger.checkResponse(get, 204, undefined)).toEqual([
      expect.stringContaining('must be object'),
    ]);
    expect(
      swagger.checkResponse(list, 200, { items: [], metadata: {}, total: 0 }),
    ).toEqual([expect.stringContaining('additional properties')]);
  });

  it('expects a failed stream to answer with the error half of its result', () => {
    const streamError = {
      error: {
        grpc_code: 16,
        http_code: 401,
        message: 'no session information',
        http_status: 'Unauthorized',
      },
    };
    expect(swagger.checkResponse(watch, 401, streamError)).toEqual([]);
    expect(
      swagger.checkResponse(watch, 401, {
        error: 'no session information',
        code: 16,
        message: 'no session information',
      }),
    ).not.toEqual([]);
  });

  it('checks streamed messages against the stream result schema', () => {
    const app = application({ name: 'a' });
    expect(
      swagger.checkStreamMessage(watch, {
        result: { type: 'ADDED', application: app },
      }),
    ).toEqual([]);
    expect(
      swagger.checkStreamMessage(watch, { type: 'ADDED', application: app }),
    ).not.toEqual([]);
  });

  it('reads int64 as Argo CD writes it: numbers, and strings of digits where documented so', () => {
    const history = {
      id: 3,
      revision: 'abc',
      deployedAt: '2026-01-01T00:00:00Z',
    };
    expect(swagger.checkDefinition('v1alpha1RevisionHistory', history)).toEqual(
      [],
    );
    expect(
      swagger.checkDefinition('v1alpha1RevisionHistory', {
        ...history,
        id: '3',
      }),
    ).not.toEqual([]);
    const sync = { sourcePositions: ['1', 2] };
    expect(
      swagger.checkDefinition('applicationApplicationSyncRequest', sync),
    ).toEqual([]);
    expect(
      swagger.checkDefinition('applicationApplicationSyncRequest', {
        sourcePositions: ['one'],
      }),
    ).not.toEqual([]);
  });
});
