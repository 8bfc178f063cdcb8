/**
 * The `fields` query parameter, which Argo CD's own HTTP forwarders read outside its API
 * description (`pkg/apiclient/application/forwarder_overwrite.go` and argoproj/pkg's
 * `grpc/http` forwarders): `fields=a.b,c` keeps only those paths, `fields=-a.b` drops them.
 */

/** A parsed `fields` value; undefined when the request gave none. */
export interface FieldSelection {
  fields: Set<string>;
  exclude: boolean;
}

/** The `fields` parameter of a request. */
export function parseFields(
  query: URLSearchParams,
): FieldSelection | undefined {
  let value = query.get('fields');
  if (!value) return undefined;
  const exclude = value.startsWith('-');
  if (exclude) value = value.slice(1);
  return { fields: new Set(value.split(',')), exclude };
}

/** The application fields the list endpoint can select, as `items.<field>`. */
const LIST_FIELDS: Record<string, string[]> = Object.fromEntries(
  [
    'metadata.name',
    'metadata.namespace',
    'metadata.annotations',
    'metadata.labels',
    'metadata.creationTimestamp',
    'metadata.deletionTimestamp',
    'spec',
    'spec.destination',
    'spec.project',
    'spec.source',
    'spec.sources',
    'spec.sourceHydrator',
    'spec.syncPolicy',
    'status.sourceHydrator',
    'status.summary',
    'status.sync.status',
    'status.sync.revision',
    'status.health',
    'status.operationState.startedAt',
    'status.operationState.finishedAt',
    'status.resources',
    'operation.sync',
    'status.operationState.phase',
  ].map(field => [field, field.split('.')]),
);
// Argo CD answers this one with the operation's sync result, not its requested sync.
LIST_FIELDS['status.operationState.operation.sync'] = [
  'status',
  'operationState',
  'syncResult',
];

const get = (value: unknown, path: string[]) =>
  path.reduce<unknown>(
    (node, key) =>
      node && typeof node === 'object'
        ? (node as Record<string, unknown>)[key]
        : undefined,
    value,
  );

/**
 * One application of a list, reduced to the selected fields as the list endpoint does: only the
 * fields it knows, each copied whole, ancestors taking precedence over their descendants.
 */
export function selectListFields(
  application: object,
  selection: FieldSelection,
): Record<string, unknown> {
  const selected = Object.keys(LIST_FIELDS).filter(
    field => selection.fields.has(`items.${field}`) !== selection.exclude,
  );
  const out: Record<string, unknown> = {};
  for (const field of selected.sort()) {
    const parts = field.split('.');
    if (
      parts.some(
        (_, i) => i > 0 && selected.includes(parts.slice(0, i).join('.')),
      )
    )
      continue;
    const value = get(application, LIST_FIELDS[field]);
    if (value === undefined) continue;
    let node = out;
    for (const part of parts.slice(0, -1))
      node = (node[part] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1]] = value;
  }
  return out;
}

/**
 * A streamed message reduced to the selected paths (`result.application.metadata.name`), as
 * argoproj/pkg's stream marshaler does: a key stays when its path, or a path below it, is
 * selected (or, excluding, when its path is not).
 */
export function selectStreamFields(
  message: unknown,
  selection: FieldSelection,
  path: string[] = [],
): void {
  if (Array.isArray(message)) {
    message.forEach(item => selectStreamFields(item, selection, path));
    return;
  }
  if (!message || typeof message !== 'object') return;
  const node = message as Record<string, unknown>;
  for (const key of Object.keys(node)) {
    const fieldPath = [...path, key].join('.');
    const pathIn = selection.fields.has(fieldPath);
    const parentPathIn =
      pathIn || [...selection.fields].some(f => f.startsWith(fieldPath));
    const keep = selection.exclude ? !pathIn : parentPathIn;
    if (!keep) delete node[key];
    else if (!pathIn) selectStreamFields(node[key], selection, [...path, key]);
  }
}
