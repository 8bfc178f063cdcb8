import fs from 'node:fs';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * Checks requests and answers against Argo CD's own API description (Swagger 2.0, as published
 * with Argo CD 3.6.0 in `reference/`), so that the simulator cannot drift into shapes Argo CD
 * never sends, nor accept requests Argo CD would not understand.
 *
 * The description is generated from protobuf messages, while Argo CD writes its answers with Go's
 * `encoding/json`. Where the two differ, the schema follows what goes over the wire:
 * - int64 fields documented as `integer` are written as JSON numbers (Argo CD's grpc-gateway
 *   marshaler is `encoding/json`, not protojson), and the few documented as `string, int64`
 *   are accepted as a number or a string of digits;
 * - Kubernetes types with their own JSON form (`IntOrString`, `MicroTime`, `RawExtension`,
 *   `FieldsV1`, `JSON`) are checked as that form, not as the protobuf message;
 * - every object is closed (`additionalProperties: false`), since the description lists every
 *   field of the Go structs: a misspelt or invented field is a problem, where Argo CD's decoder
 *   would silently ignore it;
 * - a streaming operation reports its errors as `{"error": runtimeStreamError}`, the error half of
 *   its 200 schema, not as the `default` runtimeError the description gives.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface SwaggerParameter {
  name: string;
  in: 'query' | 'path' | 'body' | 'header' | 'formData';
  type?: string;
  format?: string;
  enum?: string[];
  items?: { type?: string; format?: string; enum?: string[] };
  required?: boolean;
  schema?: Json;
}

interface SwaggerOperation {
  operationId: string;
  parameters?: SwaggerParameter[];
  responses: Record<string, { description?: string; schema?: Json }>;
}

interface SwaggerDocument {
  paths: Record<string, Record<string, SwaggerOperation>>;
  definitions: Record<string, Json>;
}

/** An operation of the description a request was matched to. */
export interface MatchedOperation {
  operationId: string;
  method: string;
  /** The path as the description writes it, e.g. `/api/v1/applications/{name}`. */
  template: string;
  pathParams: Record<string, string>;
  /** Whether the answer is a stream of `{"result": …}` lines. */
  streaming: boolean;
}

/** What a request carried, for checking it against its operation. */
export interface RequestParts {
  query: URLSearchParams;
  /** The raw body, or undefined when there was none. */
  body?: string;
  /** Query parameters Argo CD reads outside the description (its own forwarders do). */
  alsoAccepted?: string[];
}

const DESCRIPTION = require.resolve('../reference/argocd-v3.6.0-swagger.json');

/** Go types whose JSON form differs from the protobuf message the description documents. */
const GO_JSON_FORMS: Record<string, Json> = {
  // k8s.io/apimachinery's IntOrString marshals as a bare number or string.
  intstrIntOrString: { anyOf: [{ type: 'integer' }, { type: 'string' }] },
  // metav1.MicroTime marshals as an RFC 3339 time, like metav1.Time.
  v1MicroTime: { type: 'string', format: 'date-time' },
  // These hold raw JSON and marshal as that JSON.
  v1FieldsV1: { type: 'object' },
  runtimeRawExtension: {},
  v1JSON: {},
};

const BOOLEAN = /^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/;
const INTEGER = /^-?[0-9]+$/;

const pointerSegment = (segment: string) =>
  encodeURIComponent(segment.replace(/~/g, '~0').replace(/\//g, '~1'));

/** Turns one Swagger 2.0 schema node into the JSON Schema of what Argo CD writes. */
function toJsonSchema(node: Json, definitions: JsonObject): Json {
  if (Array.isArray(node)) return node.map(n => toJsonSchema(n, definitions));
  if (node === null || typeof node !== 'object') return node;
  if (node.type === 'string' && node.format === 'int64') {
    return {
      anyOf: [{ type: 'integer' }, { type: 'string', pattern: INTEGER.source }],
    };
  }
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('x-') || key === 'allOf') continue;
    out[key] =
      key === 'properties' && value && typeof value === 'object'
        ? Object.fromEntries(
            Object.entries(value).map(([name, schema]) => [
              name,
              toJsonSchema(schema, definitions),
            ]),
          )
        : toJsonSchema(value, definitions);
  }
  // Closing an object with allOf would reject the properties allOf adds: merge them in instead.
  for (const part of (node.allOf as JsonObject[] | undefined) ?? []) {
    const ref = typeof part.$ref === 'string' ? part.$ref : undefined;
    const merged = (
      ref ? definitions[ref.replace('#/definitions/', '')] : part
    ) as JsonObject;
    const converted = toJsonSchema(merged, definitions) as JsonObject;
    out.properties = {
      ...(converted.properties as JsonObject),
      ...(out.properties as JsonObject),
    };
  }
  if (out.type === 'object' && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

/** Argo CD's API description, compiled for checking requests and answers. */
export class ArgoCdSwagger {
  private static instance?: ArgoCdSwagger;
  private readonly ajv: Ajv;
  /** The description as published, for parameters; `document` holds it converted for ajv. */
  private readonly raw: SwaggerDocument;
  private readonly document: SwaggerDocument;
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly templates: Array<{
    template: string;
    segments: string[];
    literals: number;
  }>;

  /** Loads the description once per process; compiling it is the slow part. */
  static load(): ArgoCdSwagger {
    ArgoCdSwagger.instance ??= new ArgoCdSwagger();
    return ArgoCdSwagger.instance;
  }

  private constructor() {
    const raw = JSON.parse(
      fs.readFileSync(DESCRIPTION, 'utf8'),
    ) as SwaggerDocument;
    this.raw = raw;
    const rawDefinitions = raw.definitions as JsonObject;
    const definitions: JsonObject = {};
    for (const [name, schema] of Object.entries(rawDefinitions)) {
      definitions[name] =
        GO_JSON_FORMS[name] ?? toJsonSchema(schema, rawDefinitions);
    }
    this.document = {
      paths: toJsonSchema(
        raw.paths as unknown as Json,
        rawDefinitions,
      ) as unknown as SwaggerDocument['paths'],
      definitions,
    };
    this.ajv = new Ajv({
      strict: false,
      allErrors: true,
      validateSchema: false,
      logger: false,
    });
    addFormats(this.ajv);
    this.ajv.addSchema(this.document as object, 'argocd');
    this.templates = Object.keys(raw.paths).map(template => {
      const segments = template.split('/');
      return {
        template,
        segments,
        literals: segments.filter(s => !s.startsWith('{')).length,
      };
    });
  }

  /** The operation a request's method and path name, the most literal template first. */
  match(method: string, pathname: string): MatchedOperation | undefined {
    const parts = pathname.split('/');
    const candidates = this.templates
      .filter(t => t.segments.length === parts.length)
      .filter(t => this.raw.paths[t.template][method.toLowerCase()])
      .sort((a, b) => b.literals - a.literals);
    for (const { template, segments } of candidates) {
      const pathParams: Record<string, string> = {};
      const matches = segments.every((segment, i) => {
        if (!segment.startsWith('{')) return segment === parts[i];
        if (parts[i] === '') return false;
        try {
          pathParams[segment.slice(1, -1)] = decodeURIComponent(parts[i]);
        } catch {
          return false;
        }
        return true;
      });
      if (!matches) continue;
      const operation = this.raw.paths[template][method.toLowerCase()];
      return {
        operationId: operation.operationId,
        method: method.toUpperCase(),
        template,
        pathParams,
        streaming: /streaming responses/.test(
          operation.responses['200']?.description ?? '',
        ),
      };
    }
    return undefined;
  }

  /** Whether some operation has this path, whatever its method. */
  hasPath(pathname: string): boolean {
    return ['get', 'post', 'put', 'patch', 'delete'].some(method =>
      this.match(method, pathname),
    );
  }

  /**
   * Problems with a request: parameters the operation does not declare (Argo CD would silently
   * ignore them), values of the wrong type, a missing or malformed body.
   */
  checkRequest(match: MatchedOperation, request: RequestParts): string[] {
    const operation = this.operation(match);
    const where = `${match.operationId} (${match.method} ${match.template})`;
    const problems: string[] = [];
    const parameters = operation.parameters ?? [];
    for (const parameter of parameters.filter(p => p.in === 'path')) {
      problems.push(
        ...this.checkValue(
          parameter,
          match.pathParams[parameter.name] ?? '',
          where,
        ),
      );
    }
    const declared = new Map(
      parameters.filter(p => p.in === 'query').map(p => [p.name, p]),
    );
    for (const name of new Set(request.query.keys())) {
      const parameter = declared.get(name);
      const values = request.query.getAll(name);
      if (!parameter) {
        if (!request.alsoAccepted?.includes(name))
          problems.push(
            `${where} has no query parameter "${name}"; Argo CD would ignore it`,
          );
        continue;
      }
      if (parameter.type !== 'array' && values.length > 1)
        problems.push(
          `${where}: query parameter "${name}" is not repeatable but was given ${values.length} times`,
        );
      for (const value of values)
        problems.push(...this.checkValue(parameter, value, where));
    }
    for (const parameter of parameters) {
      if (
        parameter.required &&
        parameter.in === 'query' &&
        !request.query.has(parameter.name)
      )
        problems.push(
          `${where}: required query parameter "${parameter.name}" is missing`,
        );
    }
    const bodyIndex = parameters.findIndex(p => p.in === 'body');
    if (bodyIndex < 0) {
      if (request.body)
        problems.push(`${where} takes no body, but the request has one`);
      return problems;
    }
    if (!request.body) {
      if (parameters[bodyIndex].required)
        problems.push(`${where}: the request body is missing`);
      return problems;
    }
    let body: unknown;
    try {
      body = JSON.parse(request.body);
    } catch {
      return [...problems, `${where}: the request body is not JSON`];
    }
    const pointer = `#/paths/${pointerSegment(
      match.template,
    )}/${match.method.toLowerCase()}/parameters/${bodyIndex}/schema`;
    return [
      ...problems,
      ...this.validate(pointer, body, `${where} request body`),
    ];
  }

  /**
   * Problems with an answer: a status the operation cannot answer with, or a body that does not
   * match the schema of that status. An empty list means it is valid.
   */
  checkResponse(
    match: MatchedOperation,
    status: number,
    body: unknown,
  ): string[] {
    const operation = this.operation(match);
    const where = `${match.operationId} answered ${status}`;
    const key = operation.responses[String(status)]
      ? String(status)
      : 'default';
    if (!operation.responses[key]) {
      return [`${where}, which it is not documented to answer`];
    }
    // grpc-gateway writes a stream's failure as the error half of its result schema.
    const responseKey = match.streaming && status !== 200 ? '200' : key;
    const pointer = `${this.operationPointer(
      match,
    )}/responses/${responseKey}/schema`;
    if (!operation.responses[responseKey].schema) {
      return body === undefined
        ? []
        : [`${where} with a body, but it has none`];
    }
    if (match.streaming && status !== 200) {
      const problems = this.validate(pointer, body, where);
      const isError =
        body !== null &&
        typeof body === 'object' &&
        'error' in body &&
        !('result' in body);
      return isError
        ? problems
        : [...problems, `${where} without {"error": …}`];
    }
    return this.validate(pointer, body, where);
  }

  /** Problems with one line of a streaming answer, checked against the stream's result schema. */
  checkStreamMessage(match: MatchedOperation, message: unknown): string[] {
    return this.validate(
      `${this.operationPointer(match)}/responses/200/schema`,
      message,
      `${match.operationId} streamed a message that`,
    );
  }

  /** Problems with a value as the named definition, e.g. `v1alpha1Application`. */
  checkDefinition(definition: string, value: unknown): string[] {
    if (!this.document.definitions[definition])
      return [`${definition} is not a definition of Argo CD's API`];
    return this.validate(`#/definitions/${definition}`, value, `${definition}`);
  }

  private operation(match: MatchedOperation): SwaggerOperation {
    return this.raw.paths[match.template][match.method.toLowerCase()];
  }

  private operationPointer(match: MatchedOperation): string {
    return `#/paths/${pointerSegment(
      match.template,
    )}/${match.method.toLowerCase()}`;
  }

  private checkValue(
    parameter: SwaggerParameter,
    value: string,
    where: string,
  ): string[] {
    const type =
      parameter.type === 'array' ? parameter.items?.type : parameter.type;
    const format =
      parameter.type === 'array' ? parameter.items?.format : parameter.format;
    const allowed =
      parameter.type === 'array' ? parameter.items?.enum : parameter.enum;
    const what = `${where}: ${parameter.in} parameter "${parameter.name}" is "${value}"`;
    if (type === 'boolean' && !BOOLEAN.test(value))
      return [`${what}, not a boolean`];
    const integral =
      type === 'integer' ||
      (type === 'string' && /int(32|64)/.test(format ?? ''));
    if (integral && !INTEGER.test(value)) return [`${what}, not an integer`];
    if (allowed && !allowed.includes(value))
      return [`${what}, not one of ${allowed.join(', ')}`];
    return [];
  }

  private validate(pointer: string, value: unknown, where: string): string[] {
    let validate = this.validators.get(pointer);
    if (validate === undefined) {
      validate = this.ajv.compile({ $ref: `argocd${pointer}` });
      this.validators.set(pointer, validate);
    }
    if (validate(value)) return [];
    return (validate.errors ?? []).map(
      error =>
        `${where}: ${error.instancePath || '(body)'} ${
          error.message
        } ${JSON.stringify(error.params)}`,
    );
  }
}
