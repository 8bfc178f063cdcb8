/** A partial object whose fields replace those of a built object, at any depth. */
export type Overrides = { [key: string]: unknown };

const isObject = (value: unknown): value is Overrides =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Merges overrides into a built object: objects merge key by key, anything else (arrays
 * included) replaces, and `undefined` removes the field. Lets a test give an object a shape the
 * seeds would never build, to see the simulator notice.
 */
export function applyOverrides<T extends object>(
  target: T,
  overrides?: Overrides,
): T {
  if (!overrides) return target;
  const out: Overrides = { ...(target as Overrides) };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete out[key];
    else if (isObject(value) && isObject(out[key]))
      out[key] = applyOverrides(out[key] as Overrides, value);
    else out[key] = value;
  }
  return out as T;
}
