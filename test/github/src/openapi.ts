import fs from 'node:fs';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * Checks answers against GitHub's published OpenAPI description of api.github.com (npm
 * `@octokit/openapi`), so that the simulator cannot drift into shapes GitHub never sends.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface OpenApiResponse {
  $ref?: string;
  description?: string;
  content?: Record<string, { schema?: Json }>;
}

interface OpenApiParameter {
  $ref?: string;
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema?: Json;
}

interface OpenApiOperation {
  operationId: string;
  externalDocs?: { url: string };
  parameters?: OpenApiParameter[];
  requestBody?: {
    required?: boolean;
    content?: Record<string, { schema?: Json }>;
  };
  responses: Record<string, OpenApiResponse>;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: Record<string, Record<string, Json>>;
}

/**
 * Answers GitHub gives to any operation, documented once for the whole API rather than per
 * operation: conditional requests, credentials, rate limits, server faults, resources the
 * caller cannot see and invalid input.
 * https://docs.github.com/rest/using-the-rest-api/best-practices-for-using-the-rest-api
 * https://docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api
 */
const GENERAL_RESPONSES: Record<string, string> = {
  '304': '#/components/responses/not_modified',
  '400': '#/components/responses/bad_request',
  '401': '#/components/responses/requires_authentication',
  '403': '#/components/responses/forbidden',
  '404': '#/components/responses/not_found',
  '422': '#/components/responses/validation_failed',
  '500': '#/components/responses/internal_error',
  '503': '#/components/responses/service_unavailable',
};
/** 429 has no shared response object in the description; its body is GitHub's basic error. */
const TOO_MANY_REQUESTS_SCHEMA = '#/components/schemas/basic-error';

/** OpenAPI 3.0 `nullable` without a `type` means "this schema, or null" in JSON Schema. */
function toJsonSchema(node: Json): Json {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(node))
    out[key] = toJsonSchema(value);
  if (out.type === undefined && out.nullable !== undefined) {
    const nullable = out.nullable === true;
    delete out.nullable;
    return nullable ? { anyOf: [out, { type: 'null' }] } : out;
  }
  return out;
}

const pointerSegment = (segment: string) =>
  encodeURIComponent(segment.replace(/~/g, '~0').replace(/\//g, '~1'));

export interface ResponseCheck {
  operationId: string;
  problems: string[];
}

/** A request as the simulator received it: path parameters by name, query and parsed body. */
export interface RequestToCheck {
  path: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
}

export interface RequestCheck {
  operationId: string;
  /** Everything GitHub's description does not allow, including query parameters GitHub ignores. */
  problems: string[];
  /** Why GitHub would refuse the request with 422, in its words; empty when it would not. */
  refusals: string[];
  /** A path parameter does not match its schema: GitHub answers 404, as no route matches. */
  unrouted: boolean;
  /** The operation's page in GitHub's REST documentation. */
  documentationUrl: string;
}

/** How GitHub explains an invalid request body ("Invalid request.\n\n<reasons>"). */
function refusal(error: ErrorObject): string {
  const path = error.instancePath
    .split('/')
    .filter(Boolean)
    .map(segment => `properties/${segment}`)
    .join('/');
  const where = path ? `For '${path}', ` : '';
  const value = (data: unknown) =>
    data === null ? 'nil' : JSON.stringify(data);
  switch (error.keyword) {
    case 'required':
      return `"${
        (error.params as { missingProperty: string }).missingProperty
      }" wasn't supplied.`;
    case 'type':
      return `${where}${value(error.data)} is not ${
        /^[aeiou]/.test(String(error.params.type)) ? 'an' : 'a'
      } ${error.params.type}.`;
    case 'enum':
      return `${where}${value(error.data)} is not a member of ${JSON.stringify(
        error.params.allowedValues,
      )}.`;
    default:
      return `${where}${value(error.data)} ${error.message}.`;
  }
}

/** A path or query value as the JSON value its schema describes, when it reads as one. */
function coerce(value: string, schema: Json | undefined): unknown {
  const type =
    schema && typeof schema === 'object' && !Array.isArray(schema)
      ? schema.type
      : undefined;
  if (
    (type === 'integer' || type === 'number') &&
    /^-?\d+(\.\d+)?$/.test(value)
  )
    return Number(value);
  if (type === 'boolean' && (value === 'true' || value === 'false'))
    return value === 'true';
  return value;
}

export class GithubOpenApi {
  private static instance?: GithubOpenApi;
  private readonly ajv: Ajv;
  private readonly document: OpenApiDocument;
  private readonly validators = new Map<string, ValidateFunction>();

  /** Loads the description once per process; compiling it is the slow part. */
  static load(): GithubOpenApi {
    GithubOpenApi.instance ??= new GithubOpenApi();
    return GithubOpenApi.instance;
  }

  private constructor() {
    const file = require.resolve(
      '@octokit/openapi/generated/api.github.com.json',
    );
    const full = JSON.parse(fs.readFileSync(file, 'utf8')) as OpenApiDocument;
    this.document = toJsonSchema({
      paths: full.paths,
      components: full.components,
    } as unknown as Json) as unknown as OpenApiDocument;
    this.ajv = new Ajv({
      strict: false,
      allErrors: true,
      validateSchema: false,
      logger: false,
      // Error objects carry the offending value, to explain a refusal as GitHub does.
      verbose: true,
    });
    addFormats(this.ajv);
    this.ajv.addSchema(this.document as object, 'github');
  }

  /** The operation a path template and method name, as GitHub's description lists it. */
  operationId(template: string, method: string): string | undefined {
    return this.document.paths[template]?.[method.toLowerCase()]?.operationId;
  }

  /**
   * Problems with an answer to an operation: a status the operation cannot answer with, or a
   * body that does not match the schema of that status. An empty list means it is valid.
   */
  check(
    template: string,
    method: string,
    status: number,
    body: unknown,
  ): ResponseCheck {
    const operation = this.document.paths[template]?.[method.toLowerCase()];
    if (!operation) {
      return {
        operationId: '?',
        problems: [
          `${method} ${template} is not an operation of api.github.com`,
        ],
      };
    }
    const where = `${operation.operationId} answered ${status}`;
    let pointer: string;
    let response: OpenApiResponse | undefined =
      operation.responses[String(status)];
    if (response) {
      pointer = `#/paths/${pointerSegment(
        template,
      )}/${method.toLowerCase()}/responses/${status}`;
    } else if (GENERAL_RESPONSES[String(status)]) {
      pointer = GENERAL_RESPONSES[String(status)];
    } else if (status === 429) {
      return {
        operationId: operation.operationId,
        problems: this.validate(TOO_MANY_REQUESTS_SCHEMA, body, where),
      };
    } else {
      return {
        operationId: operation.operationId,
        problems: [`${where}, which it is not documented to answer`],
      };
    }
    // A response may itself be a reference to a shared one.
    response ??= this.resolve(pointer) as OpenApiResponse;
    while (response.$ref) {
      pointer = response.$ref;
      response = this.resolve(pointer) as OpenApiResponse;
    }
    const schema = response.content?.['application/json']?.schema;
    if (!schema) {
      const empty = body === undefined || body === '';
      return {
        operationId: operation.operationId,
        problems: empty ? [] : [`${where} with a body, but it has none`],
      };
    }
    const schemaPointer = `${pointer}/content/${pointerSegment(
      'application/json',
    )}/schema`;
    return {
      operationId: operation.operationId,
      problems: this.validate(schemaPointer, body, where),
    };
  }

  /**
   * Problems with a request to an operation: path parameters and body that do not match their
   * schemas (GitHub refuses those with 422) and query parameters the operation does not declare
   * (GitHub ignores those).
   */
  checkRequest(
    template: string,
    method: string,
    request: RequestToCheck,
  ): RequestCheck {
    const lower = method.toLowerCase();
    const operation = this.document.paths[template]?.[lower];
    if (!operation) {
      return {
        operationId: '?',
        problems: [
          `${method} ${template} is not an operation of api.github.com`,
        ],
        refusals: [],
        unrouted: true,
        documentationUrl: 'https://docs.github.com/rest',
      };
    }
    const where = `${operation.operationId} request`;
    const problems: string[] = [];
    const refusals: string[] = [];
    let unrouted = false;
    const parameters = (operation.parameters ?? []).map(parameter =>
      parameter.$ref
        ? (this.resolve(parameter.$ref) as OpenApiParameter)
        : parameter,
    );
    const base = `#/paths/${pointerSegment(template)}/${lower}`;
    (operation.parameters ?? []).forEach((declared, index) => {
      const parameter = parameters[index];
      if (parameter.in === 'header' || !parameter.schema) return;
      const raw =
        parameter.in === 'path'
          ? request.path[parameter.name]
          : request.query.get(parameter.name) ?? undefined;
      if (raw === undefined) {
        if (parameter.required) {
          problems.push(`${where}: ${parameter.name} is required`);
          refusals.push(`"${parameter.name}" wasn't supplied.`);
        }
        return;
      }
      const pointer = declared.$ref
        ? `${declared.$ref}/schema`
        : `${base}/parameters/${index}/schema`;
      const errors = this.errors(pointer, coerce(raw, parameter.schema));
      for (const error of errors) {
        problems.push(
          `${where}: ${parameter.in} parameter ${parameter.name} ${
            error.message
          } ${JSON.stringify(error.params)}`,
        );
        if (parameter.in === 'path') unrouted = true;
        else refusals.push(refusal({ ...error, data: raw }));
      }
    });
    const declaredQuery = new Set(
      parameters.filter(p => p.in === 'query').map(p => p.name),
    );
    for (const name of new Set(request.query.keys())) {
      if (!declaredQuery.has(name))
        problems.push(
          `${where}: query parameter ${name} is not one ${operation.operationId} declares`,
        );
    }
    const content = operation.requestBody?.content?.['application/json'];
    if (request.body === undefined) {
      if (operation.requestBody?.required) {
        problems.push(`${where}: the body is required`);
        refusals.push('Invalid request.');
      }
    } else if (!content?.schema) {
      problems.push(`${where}: a body, but the operation takes none`);
    } else {
      const pointer = `${base}/requestBody/content/${pointerSegment(
        'application/json',
      )}/schema`;
      for (const error of this.errors(pointer, request.body)) {
        problems.push(
          `${where}: ${error.instancePath || '(body)'} ${
            error.message
          } ${JSON.stringify(error.params)}`,
        );
        refusals.push(refusal(error));
      }
    }
    return {
      operationId: operation.operationId,
      problems,
      refusals,
      unrouted,
      documentationUrl:
        operation.externalDocs?.url ?? 'https://docs.github.com/rest',
    };
  }

  private resolve(pointer: string): unknown {
    let node: unknown = this.document;
    for (const raw of pointer.replace(/^#\//, '').split('/')) {
      const segment = decodeURIComponent(raw)
        .replace(/~1/g, '/')
        .replace(/~0/g, '~');
      node = (node as Record<string, unknown>)[segment];
    }
    return node;
  }

  private validate(pointer: string, body: unknown, where: string): string[] {
    return this.errors(pointer, body).map(
      error =>
        `${where}: ${error.instancePath || '(body)'} ${
          error.message
        } ${JSON.stringify(error.params)}`,
    );
  }

  /** Validation errors of a value against the schema at a pointer, compiled once. */
  private errors(pointer: string, value: unknown): ErrorObject[] {
    let validate = this.validators.get(pointer);
    if (validate === undefined) {
      validate = this.ajv.compile({ $ref: `github${pointer}` });
      this.validators.set(pointer, validate);
    }
    return validate(value) ? [] : validate.errors ?? [];
  }
}

/**
 * Checks webhook payloads against GitHub's published description of its webhooks (npm
 * `@octokit/openapi-webhooks`), one schema per event and action.
 */
export class GithubWebhooksOpenApi {
  private static instance?: GithubWebhooksOpenApi;
  private readonly ajv: Ajv;
  private readonly document: {
    webhooks: Record<
      string,
      {
        post: {
          requestBody: {
            content: { 'application/json': { schema: { $ref: string } } };
          };
        };
      }
    >;
  };
  private readonly validators = new Map<string, ValidateFunction>();

  static load(): GithubWebhooksOpenApi {
    GithubWebhooksOpenApi.instance ??= new GithubWebhooksOpenApi();
    return GithubWebhooksOpenApi.instance;
  }

  private constructor() {
    const file = require.resolve(
      '@octokit/openapi-webhooks/generated/api.github.com.json',
    );
    const full = JSON.parse(fs.readFileSync(file, 'utf8'));
    this.document = { webhooks: full.webhooks };
    this.ajv = new Ajv({
      strict: false,
      allErrors: true,
      validateSchema: false,
      logger: false,
    });
    addFormats(this.ajv);
    this.ajv.addSchema(
      { webhooks: full.webhooks, components: full.components },
      'webhooks',
    );
  }

  /**
   * Problems with a payload of an event (`pull_request`) and action (`opened`), as the webhook
   * `pull-request-opened` of the description defines it. Empty when it is valid.
   */
  check(event: string, action: string | undefined, payload: unknown): string[] {
    const name = [event.replace(/_/g, '-'), action].filter(Boolean).join('-');
    const webhook = this.document.webhooks[name];
    if (!webhook) return [`${name} is not a webhook GitHub sends`];
    const pointer =
      webhook.post.requestBody.content['application/json'].schema.$ref;
    let validate = this.validators.get(pointer);
    if (validate === undefined) {
      validate = this.ajv.compile({ $ref: `webhooks${pointer}` });
      this.validators.set(pointer, validate);
    }
    if (validate(payload)) return [];
    return (validate.errors ?? []).map(
      error =>
        `webhook ${name}: ${error.instancePath || '(payload)'} ${
          error.message
        } ${JSON.stringify(error.params)}`,
    );
  }
}
