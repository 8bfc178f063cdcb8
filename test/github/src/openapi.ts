import fs from 'node:fs';
import Ajv, { ValidateFunction } from 'ajv';
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

interface OpenApiDocument {
  paths: Record<
    string,
    Record<
      string,
      { operationId: string; responses: Record<string, OpenApiResponse> }
    >
  >;
  components: Record<string, Record<string, Json>>;
}

/**
 * Answers GitHub gives to any operation, documented once for the whole API rather than per
 * operation: conditional requests, credentials, rate limits and server faults.
 * https://docs.github.com/rest/using-the-rest-api/best-practices-for-using-the-rest-api
 */
const GENERAL_RESPONSES: Record<string, string> = {
  '304': '#/components/responses/not_modified',
  '401': '#/components/responses/requires_authentication',
  '403': '#/components/responses/forbidden',
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
    let validate = this.validators.get(pointer);
    if (validate === undefined) {
      validate = this.ajv.compile({ $ref: `github${pointer}` });
      this.validators.set(pointer, validate);
    }
    if (validate(body)) return [];
    return (validate.errors ?? []).map(
      error =>
        `${where}: ${error.instancePath || '(body)'} ${
          error.message
        } ${JSON.stringify(error.params)}`,
    );
  }
}
