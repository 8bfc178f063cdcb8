import { RepositorySnapshot } from '../repository/types';
import { parseYamlDocuments } from '../resolve/yaml';
import { ResolutionError } from '../resolve/types';
import { isObject, readApplication } from './applications';
import { DEFAULT_ARGOCD_LIMITS, LimitError, ReadBudget } from './budget';
import { renderFastTemplate } from './fastTemplate';
import {
  expand,
  GeneratorContext,
  GeneratorError,
  NotRead,
  Params,
} from './generators';
import { GoTemplate, MissingKey, parseGoTemplate } from './goTemplate';
import { GoTemplateError } from './goValues';
import { applyTemplatePatch, TemplatePatchError } from './templatePatch';
import {
  ArgoCdApplication,
  ArgoCdManifest,
  ArgoCdManifestError,
  ArgoCdReadOptions,
} from './types';

/**
 * Reads Argo CD `Application` and `ApplicationSet` documents the way Argo CD does: every
 * ApplicationSet's generators expanded, its template rendered for each parameter set (Go
 * templates with `goTemplateOptions`, or fasttemplate), its `templatePatch` applied, and each
 * Application's sources, Helm inputs and sync policy read.
 */

type Json = Record<string, unknown>;

/** Deeper than any real manifest; past it, reading stops with that reason. */
const MAX_DEPTH = 100;

const MISSING_KEY_OPTIONS = new Set(['default', 'invalid', 'zero', 'error']);

/** Maps whose keys are data that Argo CD templates too (the rest are a type's field names). */
const TEMPLATED_KEYS = new Set([
  'labels',
  'annotations',
  'commonLabels',
  'commonAnnotations',
  'map',
]);

function checkDepth(value: unknown, where: string) {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [next, depth] = stack.pop()!;
    if (depth > MAX_DEPTH)
      throw new GeneratorError(
        where,
        `nests more than ${MAX_DEPTH} levels deep`,
      );
    if (Array.isArray(next))
      for (const item of next) stack.push([item, depth + 1]);
    else if (isObject(next))
      for (const item of Object.values(next)) stack.push([item, depth + 1]);
  }
}

/** The YAML documents of a text, with the resolver's limits on aliases and its error messages. */
function parseDocuments(text: string, where: string): unknown[] {
  let documents: unknown[];
  try {
    documents = parseYamlDocuments(text, where);
  } catch (error) {
    // The YAML parser reports its own stack overflow as a syntax error.
    if (
      error instanceof ResolutionError &&
      !error.message.includes('Maximum call stack')
    )
      throw new GeneratorError(where, error.message.slice(where.length + 2));
    if (error instanceof ResolutionError || error instanceof RangeError)
      throw new GeneratorError(where, 'the YAML nests too deeply');
    throw error;
  }
  checkDepth(documents, where);
  return documents;
}

const text = (value: unknown) => (typeof value === 'string' ? value : '');

/** What `goTemplateOptions` ask: Go's `missingkey=` (the last one wins), nothing else. */
function missingKeyOf(options: unknown): MissingKey {
  let missingKey: MissingKey = 'default';
  if (options === undefined || options === null) return missingKey;
  if (!Array.isArray(options))
    throw new GeneratorError(
      'goTemplateOptions',
      'goTemplateOptions is not a list',
    );
  for (const option of options) {
    const [name, value] = String(option).split('=', 2);
    if (name !== 'missingkey' || !MISSING_KEY_OPTIONS.has(value))
      throw new GeneratorError(
        'goTemplateOptions',
        `unrecognized option: ${JSON.stringify(
          option,
        )}; Go templates take missingkey=default|invalid|zero|error`,
      );
    missingKey = value as MissingKey;
  }
  return missingKey;
}

/** mergo.Merge of a generator's template over the ApplicationSet's: what the generator leaves empty is filled in. */
function fillEmpty(target: unknown, source: unknown, key = ''): unknown {
  const empty =
    target === undefined ||
    target === null ||
    target === '' ||
    target === false ||
    target === 0 ||
    (Array.isArray(target) && target.length === 0) ||
    (isObject(target) && Object.keys(target).length === 0);
  if (empty) return source;
  if (isObject(target) && isObject(source) && key !== 'valuesObject') {
    const out: Json = { ...target };
    for (const [k, v] of Object.entries(source))
      out[k] = fillEmpty(target[k], v, k);
    return out;
  }
  return target;
}

/** A short picture of a parameter set, for error messages. */
function describeParams(params: Params): string {
  const shown = JSON.stringify(params);
  return shown.length > 120 ? `${shown.slice(0, 117)}...` : shown;
}

class ApplicationSetReader {
  private readonly templates = new Map<string, GoTemplate>();
  private readonly name: string;
  private readonly namespace: string | null;
  private readonly spec: Json;
  private readonly goTemplate: boolean;
  private readonly missingKey: MissingKey;

  constructor(
    document: Json,
    private readonly options: ArgoCdReadOptions,
    private readonly budget: ReadBudget,
    private readonly notes: string[],
  ) {
    const metadata = isObject(document.metadata) ? document.metadata : {};
    this.name = text(metadata.name);
    this.namespace =
      typeof metadata.namespace === 'string' ? metadata.namespace : null;
    this.spec = isObject(document.spec) ? document.spec : {};
    this.goTemplate = this.spec.goTemplate === true;
    this.missingKey = missingKeyOf(this.spec.goTemplateOptions);
  }

  /** Argo CD's Replace: one string through a Go template or fasttemplate. */
  render = (value: string, params: Params, missingKey?: MissingKey): string => {
    if (!this.goTemplate) return renderFastTemplate(value, params);
    let template = this.templates.get(value);
    if (!template) {
      template = parseGoTemplate(value);
      this.templates.set(value, template);
    }
    return template.execute(params, {
      missingKey: missingKey ?? this.missingKey,
      budget: this.budget,
    });
  };

  /** Every string of the template rendered, and the keys of data maps. */
  private renderValue(value: unknown, params: Params, path: string[]): unknown {
    this.budget.copy(1);
    if (typeof value === 'string') {
      try {
        return this.render(value, params);
      } catch (error) {
        if (error instanceof GoTemplateError)
          throw new GoTemplateError(
            `template ${path.join('.')}: ${error.message}`,
          );
        throw error;
      }
    }
    if (Array.isArray(value))
      return value.map((item, i) =>
        this.renderValue(item, params, [...path, String(i)]),
      );
    if (!isObject(value)) return value;
    const data =
      TEMPLATED_KEYS.has(path[path.length - 1]) ||
      path.includes('valuesObject');
    const out: Json = {};
    for (const [key, item] of Object.entries(value)) {
      // Argo CD's copy leaves out map entries that hold nothing.
      if (item === null || item === undefined) continue;
      const name = data
        ? (this.renderValue(key, params, [...path, key]) as string)
        : key;
      out[name] = this.renderValue(item, params, [...path, key]);
    }
    return out;
  }

  private parseYaml = (value: string, where: string): unknown =>
    parseDocuments(value, where)[0] ?? null;

  private application(
    template: Json,
    params: Params,
    where: string,
  ): ArgoCdApplication {
    const metadata = isObject(template.metadata) ? template.metadata : {};
    let application: Json = {
      metadata: {
        name: metadata.name,
        namespace: metadata.namespace,
        labels: metadata.labels,
        annotations: metadata.annotations,
        finalizers: metadata.finalizers,
      },
      spec: template.spec,
    };
    // Argo CD renders nothing for an empty parameter set.
    if (Object.keys(params).length > 0)
      application = this.renderValue(application, params, []) as Json;
    const patch = this.spec.templatePatch;
    if (typeof patch === 'string') {
      let rendered: string;
      try {
        rendered = this.render(patch, params);
      } catch (error) {
        if (error instanceof GoTemplateError)
          throw new GoTemplateError(`templatePatch: ${error.message}`);
        throw error;
      }
      application = applyTemplatePatch(
        application,
        this.parseYaml(rendered, `${where}: templatePatch`),
      );
    }
    // The Application lives where its ApplicationSet does, whatever the template says.
    const renderedMetadata = isObject(application.metadata)
      ? application.metadata
      : {};
    application = {
      ...application,
      metadata: { ...renderedMetadata, namespace: this.namespace ?? undefined },
    };
    return {
      ...readApplication(application),
      generatedBy: {
        applicationSet: this.name,
        generator: where,
        parameters: params,
      },
    };
  }

  async read(generated: { count: number }): Promise<ArgoCdApplication[]> {
    if (!isObject(this.spec.template))
      throw new GeneratorError(
        'spec.template',
        'the ApplicationSet has no template',
      );
    const baseTemplate = this.spec.template;
    const generators = Array.isArray(this.spec.generators)
      ? this.spec.generators
      : [];
    const context: GeneratorContext = {
      goTemplate: this.goTemplate,
      render: this.render,
      parseYaml: this.parseYaml,
      options: this.options,
      budget: this.budget,
    };
    const out: ArgoCdApplication[] = [];
    for (let i = 0; i < generators.length; i++) {
      const expansions = await expand(
        generators[i],
        `generators[${i}]`,
        context,
        undefined,
        0,
        this.notes,
      );
      for (const expansion of expansions) {
        if (expansion.params instanceof NotRead) {
          this.notes.push(
            `ApplicationSet ${this.name}: ${expansion.params.note}`,
          );
          continue;
        }
        const template = fillEmpty(expansion.template, baseTemplate) as Json;
        for (const [j, params] of expansion.params.entries()) {
          this.budget.generated(++generated.count);
          try {
            out.push(this.application(template, params, expansion.where));
          } catch (error) {
            if (
              error instanceof GoTemplateError ||
              error instanceof TemplatePatchError
            )
              throw new GeneratorError(
                `${expansion.where}, parameters ${j} ${describeParams(params)}`,
                error.message,
              );
            throw error;
          }
        }
      }
    }
    return out;
  }
}

/**
 * Reads every Application a manifest declares or generates. ApplicationSet generators that need
 * a cluster or a forge, and git generators of repositories `gitRepository` does not give, are
 * noted as not read; anything Argo CD would refuse, and any limit passed, is an
 * `ArgoCdManifestError` naming the file, the ApplicationSet and the generator.
 *
 * @public
 */
export async function parseArgoCdManifest(
  manifest: string,
  options: ArgoCdReadOptions = {},
): Promise<ArgoCdManifest> {
  const file = options.file ?? 'manifest';
  const limits = { ...DEFAULT_ARGOCD_LIMITS, ...options.limits };
  const bytes = Buffer.byteLength(manifest, 'utf8');
  if (bytes > limits.fileBytes)
    throw new ArgoCdManifestError(
      file,
      `the manifest is ${bytes} bytes, more than the ${limits.fileBytes} allowed`,
    );
  const budget = new ReadBudget(limits);
  const applications: ArgoCdApplication[] = [];
  const notes: string[] = [];
  const generated = { count: 0 };
  let label = '';
  try {
    const documents = parseDocuments(manifest, 'YAML');
    for (const document of documents) {
      if (!isObject(document)) continue;
      const apiVersion = text(document.apiVersion);
      if (apiVersion && !apiVersion.startsWith('argoproj.io/')) continue;
      const metadata = isObject(document.metadata) ? document.metadata : {};
      label = `${String(document.kind)} ${text(metadata.name) || '(unnamed)'}`;
      if (document.kind === 'Application') {
        applications.push(readApplication(document));
        budget.generated(++generated.count);
      } else if (document.kind === 'ApplicationSet') {
        const reader = new ApplicationSetReader(
          document,
          options,
          budget,
          notes,
        );
        applications.push(...(await reader.read(generated)));
      }
    }
  } catch (error) {
    const prefix = label ? `${label}: ` : '';
    if (error instanceof GeneratorError)
      throw new ArgoCdManifestError(
        file,
        `${prefix}${error.where}: ${error.message}`,
      );
    if (error instanceof LimitError || error instanceof GoTemplateError)
      throw new ArgoCdManifestError(file, `${prefix}${error.message}`);
    if (error instanceof RangeError)
      throw new ArgoCdManifestError(
        file,
        `${prefix}the manifest nests too deeply`,
      );
    throw error;
  }
  return { applications, notes };
}

/**
 * Reads a manifest file of a repository snapshot (see `parseArgoCdManifest`); a missing file or
 * one larger than the limit is an `ArgoCdManifestError`.
 *
 * @public
 */
export async function readArgoCdManifest(
  snapshot: RepositorySnapshot,
  path: string,
  options: ArgoCdReadOptions = {},
): Promise<ArgoCdManifest> {
  const fileBytes =
    options.limits?.fileBytes ?? DEFAULT_ARGOCD_LIMITS.fileBytes;
  const entry = snapshot.files.get(path);
  if (!entry) throw new ArgoCdManifestError(path, 'file not found');
  if (entry.size > fileBytes)
    throw new ArgoCdManifestError(
      path,
      `the manifest is ${entry.size} bytes, more than the ${fileBytes} allowed`,
    );
  const content = await snapshot.readFile(path);
  if (!content) throw new ArgoCdManifestError(path, 'file not found');
  return parseArgoCdManifest(content.toString('utf8'), {
    ...options,
    file: options.file ?? path,
  });
}
