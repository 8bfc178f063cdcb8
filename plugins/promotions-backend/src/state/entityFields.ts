/**
 * The entity fields a refresh asks the catalog for and stores: what it reads (annotations, the
 * names path rules use), and what the catalog's permission rules ask of most often.
 */
export const ENTITY_FIELDS = [
  'kind',
  'metadata.name',
  'metadata.namespace',
  'metadata.annotations',
  'metadata.labels',
  'spec.type',
  'spec.lifecycle',
  'spec.owner',
  'spec.system',
  'relations',
];

/** Whether a stored entity holds a field (`spec.owner`, `metadata.annotations.x`) in full. */
export function holdsField(field: string): boolean {
  const wanted = field.toLowerCase();
  return ENTITY_FIELDS.some(held => {
    const prefix = held.toLowerCase();
    return wanted === prefix || wanted.startsWith(`${prefix}.`);
  });
}
