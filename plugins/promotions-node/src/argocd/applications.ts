import { pathClean } from './goFunctions';
import {
  ArgoCdApplication,
  ArgoCdHelm,
  ArgoCdHelmParameter,
  ArgoCdSource,
  ArgoCdSyncPolicy,
  ArgoCdValueFile,
} from './types';

/**
 * Reads an Application object (as written, or as an ApplicationSet rendered it) the way Argo CD
 * reads its fields. What the Application's schema would refuse, or Argo CD would read
 * differently than it looks, is kept as a note on the Application rather than guessed at.
 */

type Json = Record<string, unknown>;

export const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

class FieldReader {
  constructor(readonly notes: string[]) {}

  /** A string field; a number or boolean is read as its text, and noted (YAML did not quote it). */
  text(value: unknown, field: string): string | null {
    if (value === undefined || value === null) return null;
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') {
      this.notes.push(
        `${field} is ${JSON.stringify(
          value,
        )}, a ${typeof value} where Argo CD expects a string: quote it`,
      );
      return String(value);
    }
    this.notes.push(`${field} is not a string`);
    return null;
  }

  flag(value: unknown, field: string): boolean {
    if (value === undefined || value === null) return false;
    if (typeof value === 'boolean') return value;
    this.notes.push(
      `${field} is ${JSON.stringify(value)}, not a boolean: Argo CD refuses it`,
    );
    return false;
  }

  texts(value: unknown, field: string): string[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      this.notes.push(`${field} is not a list`);
      return [];
    }
    return value.flatMap((item, i) => this.text(item, `${field}[${i}]`) ?? []);
  }

  map(value: unknown, field: string): Record<string, string> {
    if (value === undefined || value === null) return {};
    if (!isObject(value)) {
      this.notes.push(`${field} is not a map`);
      return {};
    }
    const out: Record<string, string> = {};
    for (const [key, item] of Object.entries(value)) {
      const text = this.text(item, `${field}.${key}`);
      if (text !== null) out[key] = text;
    }
    return out;
  }

  object(value: unknown, field: string): Json {
    if (value === undefined || value === null) return {};
    if (isObject(value)) return value;
    this.notes.push(`${field} is not a map`);
    return {};
  }
}

/**
 * A path from the repository root, as Argo CD reads a file of a source: relative to `base`, or
 * from the root when it starts with `/`; null where it leaves the repository.
 */
export function repositoryPath(base: string, file: string): string | null {
  let relative = file;
  // Argo CD reads an absolute value file path from the repository root.
  while (relative.startsWith('/')) relative = relative.slice(1);
  if (relative === file && base) relative = `${base}/${file}`;
  const joined = pathClean(relative);
  if (joined === '..' || joined.startsWith('../')) return null;
  return joined;
}

function valueFile(
  file: string,
  source: ArgoCdSource,
  sources: ArgoCdSource[],
  multiple: boolean,
  field: string,
  notes: string[],
): ArgoCdValueFile {
  if (/^https?:\/\//i.test(file))
    return {
      file,
      from: 'url',
      path: null,
      repoURL: null,
      targetRevision: null,
    };
  if (file.startsWith('$') && multiple) {
    const slash = file.indexOf('/');
    const ref = file.slice(1, slash < 0 ? file.length : slash);
    const target = sources.find(s => s.ref === ref);
    const rest = slash < 0 ? '' : file.slice(slash + 1);
    if (!target) {
      notes.push(`${field}: no source has ref "${ref}"`);
      return {
        file,
        from: 'ref',
        ref,
        path: null,
        repoURL: null,
        targetRevision: null,
      };
    }
    const path = repositoryPath('', rest);
    if (path === null) notes.push(`${field}: "${file}" leaves the repository`);
    return {
      file,
      from: 'ref',
      ref,
      path,
      repoURL: target.repoURL,
      targetRevision: target.targetRevision,
    };
  }
  const path = repositoryPath(source.path ?? '', file);
  if (path === null) notes.push(`${field}: "${file}" leaves the repository`);
  return {
    file,
    from: 'source',
    path,
    repoURL: source.repoURL,
    targetRevision: source.targetRevision,
  };
}

function readHelm(
  raw: Json,
  field: string,
  read: FieldReader,
): Omit<ArgoCdHelm, 'valueFiles'> & {
  files: string[];
} {
  const parameters: ArgoCdHelmParameter[] = [];
  const rawParameters = raw.parameters;
  if (Array.isArray(rawParameters)) {
    rawParameters.forEach((item, i) => {
      const parameter = read.object(item, `${field}.parameters[${i}]`);
      parameters.push({
        name: read.text(parameter.name, `${field}.parameters[${i}].name`) ?? '',
        value:
          read.text(parameter.value, `${field}.parameters[${i}].value`) ?? '',
        forceString: read.flag(
          parameter.forceString,
          `${field}.parameters[${i}].forceString`,
        ),
      });
    });
  } else if (rawParameters !== undefined && rawParameters !== null) {
    read.notes.push(`${field}.parameters is not a list`);
  }
  return {
    files: read.texts(raw.valueFiles, `${field}.valueFiles`),
    parameters,
    valuesObject: raw.valuesObject ?? null,
    values: read.text(raw.values, `${field}.values`),
    releaseName: read.text(raw.releaseName, `${field}.releaseName`),
    ignoreMissingValueFiles: read.flag(
      raw.ignoreMissingValueFiles,
      `${field}.ignoreMissingValueFiles`,
    ),
  };
}

function readSyncPolicy(raw: unknown, read: FieldReader): ArgoCdSyncPolicy {
  const policy = read.object(raw, 'spec.syncPolicy');
  const automated =
    policy.automated === undefined || policy.automated === null
      ? undefined
      : read.object(policy.automated, 'spec.syncPolicy.automated');
  const field = 'spec.syncPolicy.automated';
  return {
    automated:
      automated !== undefined &&
      (automated.enabled === undefined ||
        automated.enabled === null ||
        read.flag(automated.enabled, `${field}.enabled`)),
    prune: read.flag(automated?.prune, `${field}.prune`),
    selfHeal: read.flag(automated?.selfHeal, `${field}.selfHeal`),
    allowEmpty: read.flag(automated?.allowEmpty, `${field}.allowEmpty`),
    syncOptions: read.texts(policy.syncOptions, 'spec.syncPolicy.syncOptions'),
  };
}

/** The Application an object describes; `notes` collects what Argo CD would refuse or read otherwise. */
export function readApplication(
  object: Json,
): Omit<ArgoCdApplication, 'generatedBy'> {
  const notes: string[] = [];
  const read = new FieldReader(notes);
  const metadata = read.object(object.metadata, 'metadata');
  const spec = read.object(object.spec, 'spec');
  const destination = read.object(spec.destination, 'spec.destination');
  const name = read.text(metadata.name, 'metadata.name');
  if (!name) notes.push('metadata.name is missing: Argo CD cannot create it');

  const multiple = Array.isArray(spec.sources) && spec.sources.length > 0;
  if (multiple && spec.source !== undefined && spec.source !== null)
    notes.push('spec.source is ignored: spec.sources is set');
  let rawSources: Array<[Json, string]> = [];
  if (multiple)
    rawSources = (spec.sources as unknown[]).map((s, i) => [
      read.object(s, `spec.sources[${i}]`),
      `spec.sources[${i}]`,
    ]);
  else if (spec.source !== undefined && spec.source !== null)
    rawSources = [[read.object(spec.source, 'spec.source'), 'spec.source']];
  if (rawSources.length === 0) notes.push('the Application has no source');

  const helms: Array<ReturnType<typeof readHelm> | null> = [];
  const sources: ArgoCdSource[] = rawSources.map(([raw, field]) => {
    helms.push(
      raw.helm === undefined || raw.helm === null
        ? null
        : readHelm(
            read.object(raw.helm, `${field}.helm`),
            `${field}.helm`,
            read,
          ),
    );
    return {
      repoURL: read.text(raw.repoURL, `${field}.repoURL`),
      path: read.text(raw.path, `${field}.path`),
      targetRevision: read.text(raw.targetRevision, `${field}.targetRevision`),
      chart: read.text(raw.chart, `${field}.chart`),
      ref: read.text(raw.ref, `${field}.ref`),
      helm: null,
      kustomize:
        raw.kustomize === undefined || raw.kustomize === null
          ? null
          : {
              images: read.texts(
                read.object(raw.kustomize, `${field}.kustomize`).images,
                `${field}.kustomize.images`,
              ),
            },
    };
  });
  // Value files are resolved once every source is known: `$ref/...` names another source.
  sources.forEach((source, i) => {
    const helm = helms[i];
    if (!helm) return;
    const field = `${rawSources[i][1]}.helm.valueFiles`;
    const { files, ...rest } = helm;
    source.helm = {
      ...rest,
      valueFiles: files.map((file, j) =>
        valueFile(file, source, sources, multiple, `${field}[${j}]`, notes),
      ),
    };
  });

  return {
    name: name ?? '',
    namespace: read.text(metadata.namespace, 'metadata.namespace'),
    project: read.text(spec.project, 'spec.project'),
    labels: read.map(metadata.labels, 'metadata.labels'),
    annotations: read.map(metadata.annotations, 'metadata.annotations'),
    destination: {
      server: read.text(destination.server, 'spec.destination.server'),
      name: read.text(destination.name, 'spec.destination.name'),
      namespace: read.text(destination.namespace, 'spec.destination.namespace'),
    },
    sources,
    syncPolicy: readSyncPolicy(spec.syncPolicy, read),
    notes,
  };
}
