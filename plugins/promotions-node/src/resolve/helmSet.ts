/**
 * Helm's `--set` and `--set-string` syntax (Helm's `strvals` package), parsed into a values map:
 * `a.b=1,c[0].d=x`, with `\` escaping the next character (`\.`, `\,`, `\=`), `{a,b}` for a
 * list, and values typed as `--set` types them (`true`, `false`, `null` and integers) unless the
 * parameter is a `--set-string`.
 */

type Values = Record<string, unknown>;

/** Helm's limits: list indices and key nesting beyond these are refused. */
const MAX_INDEX = 65536;
const MAX_NESTED_NAME_LEVEL = 30;

const UNSAFE_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

/** A parameter Helm would refuse, or one that names an object's internals. */
export class HelmSetError extends Error {}

const isObject = (value: unknown): value is Values =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * A value as `--set` types it: `true`, `false` and `null` in any case, and integers that do not
 * start with `0` (except `0` itself). An integer JavaScript cannot hold exactly stays the string
 * of its digits, which Helm prints the same.
 */
export function typedValue(text: string, forceString: boolean): unknown {
  if (forceString) return text;
  const lower = text.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  if (lower === 'null') return null;
  if (text === '0') return 0;
  if (text.length > 0 && text[0] !== '0' && /^[+-]?[0-9]+$/.test(text)) {
    const big = BigInt(text);
    if (big < INT64_MIN || big > INT64_MAX) return text;
    const number = Number(big);
    return Number.isSafeInteger(number) ? number : text;
  }
  return text;
}

const EOF = Symbol('end of input');
const NOT_LIST = Symbol('not a list');

class Parser {
  private position = 0;
  private readonly runes: string[];

  constructor(text: string, private readonly forceString: boolean) {
    this.runes = Array.from(text);
  }

  parse(data: Values) {
    while (this.key(data, 0) !== EOF);
  }

  private read(): string | typeof EOF {
    return this.position < this.runes.length
      ? this.runes[this.position++]
      : EOF;
  }

  /** Runes up to one of `stop` (consumed), `\` taking the next rune as it is. */
  private until(stop: string): { text: string; last: string | typeof EOF } {
    let text = '';
    for (;;) {
      const rune = this.read();
      if (rune === EOF) return { text, last: EOF };
      if (stop.includes(rune)) return { text, last: rune };
      if (rune === '\\') {
        const next = this.read();
        if (next === EOF) return { text, last: EOF };
        text += next;
      } else text += rune;
    }
  }

  private typed(text: string) {
    return typedValue(text, this.forceString);
  }

  private static checkKey(key: string) {
    if (UNSAFE_KEYS.has(key))
      throw new HelmSetError(
        `the key "${key}" names an object's internals, not a value`,
      );
  }

  private static set(data: Values, key: string, value: unknown) {
    if (key.length === 0) return; // Helm ignores an empty key.
    Parser.checkKey(key);
    Object.defineProperty(data, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }

  private static setIndex(list: unknown[], index: number, value: unknown) {
    if (index < 0)
      throw new HelmSetError(`negative ${index} index not allowed`);
    while (list.length <= index) list.push(null);
    list[index] = value;
    return list;
  }

  /** One assignment `key...=value`; EOF when the input ends with it. */
  private key(data: Values, level: number): typeof EOF | undefined {
    const { text: key, last } = this.until('=[,.');
    if (last === EOF) {
      if (key.length === 0) return EOF;
      throw new HelmSetError(`key "${key}" has no value`);
    }
    Parser.checkKey(key);
    const current = Object.hasOwn(data, key) ? data[key] : undefined;
    if (last === '[') {
      const index = this.index();
      if (current !== undefined && !Array.isArray(current))
        throw new HelmSetError(
          `"${key}" is not a list, so it has no [${index}]`,
        );
      const { list, end } = this.listItem(
        current === undefined ? [] : [...current],
        index,
        level,
      );
      Parser.set(data, key, list);
      return end;
    }
    if (last === '=') {
      const list = this.valueList();
      if (list === EOF) {
        Parser.set(data, key, '');
        return EOF;
      }
      if (list !== NOT_LIST) {
        Parser.set(data, key, list);
        return undefined;
      }
      const value = this.until(',');
      Parser.set(data, key, this.typed(value.text));
      return value.last === EOF ? EOF : undefined;
    }
    if (last === ',') {
      throw new HelmSetError(`key "${key}" has no value (cannot end with ,)`);
    }
    // last === '.'
    if (level + 1 > MAX_NESTED_NAME_LEVEL)
      throw new HelmSetError(
        `value name nested level is greater than maximum supported nested level of ${MAX_NESTED_NAME_LEVEL}`,
      );
    // Like Helm, a key that holds anything but a map (null too) cannot be gone into.
    if (current !== undefined && !isObject(current))
      throw new HelmSetError(`"${key}" is not a map, so it has no keys`);
    const inner: Values = isObject(current) ? { ...current } : {};
    const end = this.key(inner, level + 1);
    if (end === undefined && Object.keys(inner).length === 0)
      throw new HelmSetError(`key map "${key}" has no value`);
    if (Object.keys(inner).length !== 0) Parser.set(data, key, inner);
    return end;
  }

  private index(): number {
    const { text, last } = this.until(']');
    if (last === EOF)
      throw new HelmSetError(`error parsing index: "[${text}" is not closed`);
    if (!/^[+-]?[0-9]+$/.test(text))
      throw new HelmSetError(`error parsing index: "${text}" is not a number`);
    const index = Number(text);
    if (index > MAX_INDEX)
      throw new HelmSetError(
        `index of ${index} is greater than maximum supported index of ${MAX_INDEX}`,
      );
    if (index < 0)
      throw new HelmSetError(`negative ${index} index not allowed`);
    return index;
  }

  private listItem(
    list: unknown[],
    index: number,
    level: number,
  ): { list: unknown[]; end: typeof EOF | undefined } {
    const { text, last } = this.until('[.=');
    if (text.length > 0)
      throw new HelmSetError(
        `unexpected data at end of array index: "${text}"`,
      );
    if (last === EOF)
      throw new HelmSetError(`the list index [${index}] is given no value`);
    if (last === '=') {
      const values = this.valueList();
      if (values === EOF)
        return { list: Parser.setIndex(list, index, ''), end: EOF };
      if (values !== NOT_LIST)
        return { list: Parser.setIndex(list, index, values), end: undefined };
      const value = this.until(',');
      return {
        list: Parser.setIndex(list, index, this.typed(value.text)),
        end: value.last === EOF ? EOF : undefined,
      };
    }
    const existing = index < list.length ? list[index] : undefined;
    if (last === '[') {
      const next = this.index();
      if (
        existing !== undefined &&
        existing !== null &&
        !Array.isArray(existing)
      )
        throw new HelmSetError(
          `item ${index} is not a list, so it has no [${next}]`,
        );
      const inner = this.listItem(
        Array.isArray(existing) ? [...existing] : [],
        next,
        level,
      );
      return { list: Parser.setIndex(list, index, inner.list), end: inner.end };
    }
    // last === '.': an item that is not a map is replaced by one, as Helm does.
    const inner: Values = isObject(existing) ? { ...existing } : {};
    const end = this.key(inner, level);
    return { list: Parser.setIndex(list, index, inner), end };
  }

  /** `{a,b}` after `=`; NOT_LIST when the value does not start with `{`. */
  private valueList(): unknown[] | typeof NOT_LIST | typeof EOF {
    const first = this.read();
    if (first === EOF) return EOF;
    if (first !== '{') {
      this.position--;
      return NOT_LIST;
    }
    const list: unknown[] = [];
    for (;;) {
      const { text, last } = this.until(',}');
      if (last === EOF) throw new HelmSetError("list must terminate with '}'");
      list.push(this.typed(text));
      if (last === '}') {
        if (this.runes[this.position] === ',') this.position++;
        return list;
      }
    }
  }
}

/**
 * Parses one `--set` (or, with `forceString`, `--set-string`) argument into `data`, as Helm's
 * `strvals.ParseInto` does; maps and lists on the way are copied, never changed in place.
 */
export function parseHelmSet(
  argument: string,
  data: Values,
  forceString: boolean,
): Values {
  const result = { ...data };
  new Parser(argument, forceString).parse(result);
  return result;
}

/**
 * A parameter's value as Argo CD hands it to Helm: commas not already escaped are escaped, so
 * the value stays one value, unless it is a `{a,b}` list.
 */
export function argoCdSetValue(value: string): string {
  if (value.startsWith('{') && value.endsWith('}')) return value;
  return value.replace(/([^\\]),/g, '$1\\,');
}
