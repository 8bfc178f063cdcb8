import crypto from 'node:crypto';
import { RE2JS } from 're2js';
import { parseAllDocuments, stringify } from 'yaml';
import {
  compareStrings,
  GoMap,
  GoTemplateError,
  GoValue,
  goQuote,
  isGoMap,
  isPrintable,
  isTrue,
  kindOf,
  sprint,
  sprintf,
  sprintln,
  sprintValue,
  toInt64,
  typeName,
} from './goValues';

/**
 * The functions an Argo CD ApplicationSet template may call: Go's built-ins, the Sprig functions
 * templates commonly use, and Argo CD's own `normalize`, `slugify`, `toYaml`, `fromYaml` and
 * `fromYamlArray`. A name Argo CD knows but this module does not evaluate is refused by name.
 */

/** What a parameter accepts, as the Go function's signature types it. */
export type GoParam = 'any' | 'string' | 'int' | 'bool' | 'map';

/** What a function may ask of the execution that calls it. */
export interface FunctionContext {
  /** Counts work proportional to `units` against the execution's step budget. */
  charge(units: number): void;
}

export interface GoFunction {
  /** Types of the fixed parameters, in order. */
  params: GoParam[];
  /** The type of every further argument, when the function takes any number of them. */
  variadic?: GoParam;
  call(args: GoValue[], context: FunctionContext): GoValue;
}

/** The largest string or list a function may build, so that doubling loops stop early. */
export const MAX_VALUE_LENGTH = 1024 * 1024;
/** The largest list a function may build. */
const MAX_LIST_LENGTH = 100_000;
/** The most values a serializing or comparing function may walk, shared structure counted each time. */
const MAX_WALK = 1_000_000;

const fail = (message: string): never => {
  throw new GoTemplateError(message);
};

/** Counts the values and characters in a value, stopping (with an error) past `MAX_WALK`. */
export function checkWalkable(value: GoValue, what: string) {
  let count = 0;
  const stack: GoValue[] = [value];
  while (stack.length > 0) {
    const next = stack.pop();
    count += typeof next === 'string' ? 1 + (next.length >> 4) : 1;
    if (count > MAX_WALK)
      fail(`${what}: the value is too large (more than ${MAX_WALK} parts)`);
    if (Array.isArray(next)) stack.push(...next);
    else if (isGoMap(next)) stack.push(...Object.values(next));
  }
  return count;
}

const checkLength = (length: number, what: string) => {
  if (length > MAX_VALUE_LENGTH)
    fail(`${what} would be longer than ${MAX_VALUE_LENGTH} characters`);
};

const checkListLength = (length: number, what: string) => {
  if (length > MAX_LIST_LENGTH)
    fail(`${what} would hold more than ${MAX_LIST_LENGTH} items`);
};

// ---------------------------------------------------------------------------------------------
// Conversions as Sprig (through spf13/cast) makes them

/** Sprig's strval: strings as they are, anything else as `%v` prints it. */
export const strval = (value: GoValue): string =>
  typeof value === 'string' ? value : sprintValue(value);

/** Go's strconv.ParseInt with base 0 (prefixes 0x, 0o, 0b, 0 and underscores). */
function parseGoInt(text: string): bigint | undefined {
  const match =
    /^([+-]?)(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO]?[0-7_]+|[0-9][0-9_]*)$/.exec(
      text,
    );
  if (!match) return undefined;
  const [, sign, body] = match;
  if (/__|_$/.test(body) || (/^[1-9]/.test(body) && body.includes('_')))
    return undefined;
  const digits = body.replace(/_/g, '');
  let value: bigint;
  if (/^0[xXbB]/.test(digits)) value = BigInt(digits);
  else if (/^0[oO]/.test(digits)) value = BigInt(`0o${digits.slice(2)}`);
  else if (/^0[0-7]+$/.test(digits)) value = BigInt(`0o${digits.slice(1)}`);
  else value = BigInt(digits);
  if (sign === '-') value = -value;
  if (value > 2n ** 63n - 1n || value < -(2n ** 63n)) return undefined;
  return value;
}

/** cast's trimZeroDecimal: "1.0" and "1.00" read as "1". */
function trimZeroDecimal(text: string): string {
  let foundZero = false;
  for (let i = text.length; i > 0; i--) {
    const c = text[i - 1];
    if (c === '.') {
      if (foundZero) return text.slice(0, i - 1);
    } else if (c === '0') foundZero = true;
    else return text;
  }
  return text;
}

/** cast.ToInt64 as Sprig uses it: what cannot be converted is 0. */
export function castInt(value: GoValue): bigint {
  switch (kindOf(value)) {
    case 'int':
      return value as bigint;
    case 'float': {
      const float = value as number;
      if (!Number.isFinite(float)) return -(2n ** 63n);
      return toInt64(BigInt(Math.trunc(float)));
    }
    case 'bool':
      return value ? 1n : 0n;
    case 'string':
      return parseGoInt(trimZeroDecimal(value as string)) ?? 0n;
    default:
      return 0n;
  }
}

/** cast.ToFloat64 as Sprig uses it. */
function castFloat(value: GoValue): number {
  switch (kindOf(value)) {
    case 'int':
      return Number(value);
    case 'float':
      return value as number;
    case 'bool':
      return value ? 1 : 0;
    case 'string': {
      const text = value as string;
      if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text))
        return Number(text);
      if (/^[+-]?(inf|infinity)$/i.test(text))
        return text.startsWith('-') ? -Infinity : Infinity;
      if (/^nan$/i.test(text)) return NaN;
      return 0;
    }
    default:
      return 0;
  }
}

/** Sprig's strslice: a list's non-nil items as strings, or the value itself as one string. */
function strslice(value: GoValue): string[] {
  if (Array.isArray(value))
    return value.filter(v => v !== null && v !== undefined).map(strval);
  if (value === null || value === undefined) return [];
  return [strval(value)];
}

/** reflect.DeepEqual on template values. */
export function deepEqual(a: GoValue, b: GoValue): boolean {
  if (kindOf(a) !== kindOf(b)) return false;
  if (Array.isArray(a)) {
    const other = b as GoValue[];
    return (
      a.length === other.length && a.every((v, i) => deepEqual(v, other[i]))
    );
  }
  if (isGoMap(a)) {
    const other = b as GoMap;
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(other).length &&
      keys.every(k => Object.hasOwn(other, k) && deepEqual(a[k], other[k]))
    );
  }
  return a === b;
}

function deepCopy(value: GoValue): GoValue {
  if (Array.isArray(value)) return value.map(deepCopy);
  if (isGoMap(value)) {
    const copy: GoMap = {};
    for (const [k, v] of Object.entries(value)) copy[k] = deepCopy(v);
    return copy;
  }
  return value;
}

/** The reflect.Kind name Sprig's list errors print. */
const kindName = (value: GoValue) =>
  ({
    invalid: 'invalid',
    nil: 'invalid',
    string: 'string',
    bool: 'bool',
    float: 'float64',
    int: 'int',
    slice: 'slice',
    map: 'map',
  }[kindOf(value)]);

const asList = (value: GoValue, fn: string): GoValue[] => {
  if (Array.isArray(value)) return value;
  return fail(`Cannot find ${fn} on type ${kindName(value)}`);
};

// ---------------------------------------------------------------------------------------------
// Go's path package

/** path.Clean: the shortest equivalent path, "." for an empty one. */
export function pathClean(path: string): string {
  if (path === '') return '.';
  const rooted = path.startsWith('/');
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
      else if (!rooted) parts.push('..');
    } else parts.push(part);
  }
  const joined = parts.join('/');
  if (rooted) return `/${joined}`;
  return joined || '.';
}

/** The text without the runs of `chars` at its start and end (loops: no regex backtracking). */
export function trimChars(
  text: string,
  chars: string,
  ends: 'both' | 'end' = 'both',
) {
  let start = 0;
  let end = text.length;
  if (ends === 'both')
    while (start < end && chars.includes(text[start])) start++;
  while (end > start && chars.includes(text[end - 1])) end--;
  return text.slice(start, end);
}

/** path.Base: the last element, "." for an empty path and "/" for a root. */
export function pathBase(path: string): string {
  if (path === '') return '.';
  const trimmed = trimChars(path, '/', 'end');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** path.Dir: all but the last element, cleaned. */
export function pathDir(path: string): string {
  return pathClean(path.slice(0, path.lastIndexOf('/') + 1));
}

/** path.Ext: the suffix from the last dot of the last element. */
function pathExt(path: string): string {
  for (let i = path.length - 1; i >= 0 && path[i] !== '/'; i--) {
    if (path[i] === '.') return path.slice(i);
  }
  return '';
}

// ---------------------------------------------------------------------------------------------
// Strings

/** Byte-wise slicing of a string, as Go slices strings. */
const bytes = (text: string) => Buffer.from(text, 'utf8');

/** Go's simple case mapping: one rune at a time, never growing a rune into several. */
function mapRunes(text: string, map: (char: string) => string): string {
  let out = '';
  for (const char of text) {
    const mapped = map(char);
    out += Array.from(mapped).length === 1 ? mapped : char;
  }
  return out;
}

const isLetterOrDigit = (char: string) => /^[\p{L}\p{Nd}]$/u.test(char);
const isSpaceRune = (char: string) => /^\s$/u.test(char);

/** strings.Title: the first letter of every word in title case. */
function title(text: string): string {
  let previous = ' ';
  let out = '';
  for (const char of text) {
    const separator =
      previous.codePointAt(0)! <= 0x7f
        ? !/^[0-9A-Za-z_]$/.test(previous)
        : !isLetterOrDigit(previous) && isSpaceRune(previous);
    out += separator ? mapRunes(char, c => c.toUpperCase()) : char;
    previous = char;
  }
  return out;
}

/** strings.Replace with n < 0: an empty `old` inserts `replacement` around every rune. */
function replaceAll(text: string, old: string, replacement: string): string {
  if (old === '') {
    checkLength(
      text.length + (Array.from(text).length + 1) * replacement.length,
      'replace',
    );
    return (
      replacement +
      Array.from(text).join(replacement) +
      (text ? replacement : '')
    );
  }
  const parts = text.split(old);
  checkLength(text.length + (parts.length - 1) * replacement.length, 'replace');
  return parts.join(replacement);
}

/** strings.Split: an empty separator splits between runes. */
const splitGo = (text: string, separator: string) =>
  separator === '' ? Array.from(text) : text.split(separator);

/** Argo CD's normalize: a DNS-1123 subdomain made of the text. */
export function sanitizeName(name: string): string {
  let out = '';
  for (const char of name.toLowerCase())
    out += /^[-a-z0-9.]$/.test(char) ? char : '-';
  if (out.length > 253) out = out.slice(0, 253);
  return trimChars(out, '-.');
}

/** Argo CD's slugify: normalize, then gosimple/slug with its length limit and smart truncation. */
function slugify(args: GoValue[]): string {
  let maxLength = 50n;
  let smart = true;
  let name = '';
  args.forEach((arg, i) => {
    if (i === args.length - 1) {
      if (typeof arg !== 'string')
        fail(
          `interface conversion: interface {} is ${typeName(arg)}, not string`,
        );
      name = arg as string;
    } else if (i === 0) {
      if (typeof arg !== 'bigint')
        fail(`interface conversion: interface {} is ${typeName(arg)}, not int`);
      maxLength = arg as bigint;
    } else if (i === 1) {
      if (typeof arg !== 'boolean')
        fail(
          `interface conversion: interface {} is ${typeName(arg)}, not bool`,
        );
      smart = arg as boolean;
    }
  });
  let slug = sanitizeName(name);
  const max = Number(maxLength);
  if (!smart && slug.length >= max) {
    if (max < 0) fail(`slice bounds out of range [:${max}]`);
    slug = slug.slice(0, max);
  }
  slug = trimChars(
    slug.replace(/[^a-zA-Z0-9_-]/g, '-').replace(/-+/g, '-'),
    '-_',
  );
  if (max > 0 && smart && slug.length > max) {
    const cut = slug.lastIndexOf('-', max);
    slug = cut >= 0 ? slug.slice(0, cut) : slug.slice(0, max);
  }
  return slug;
}

/** The text html, js and urlquery escape: one string as it is, several printed by fmt.Sprint. */
const evalArgs = (args: GoValue[]) =>
  args.length === 1 && typeof args[0] === 'string' ? args[0] : sprint(args);

function htmlEscape(text: string): string {
  const named: Record<string, string> = {
    '"': '&#34;',
    "'": '&#39;',
    '&': '&amp;',
    '<': '&lt;',
    '>': '&gt;',
    '\0': '\uFFFD',
  };
  let out = '';
  for (const char of text) out += named[char] ?? char;
  return out;
}

function jsEscape(text: string): string {
  const named: Record<string, string> = {
    '\\': '\\\\',
    "'": "\\'",
    '"': '\\"',
    '<': '\\u003C',
    '>': '\\u003E',
    '&': '\\u0026',
    '=': '\\u003D',
  };
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (named[char]) out += named[char];
    else if (code < 0x20)
      out += `\\u00${code.toString(16).toUpperCase().padStart(2, '0')}`;
    else if (code < 0x80 || isPrintable(char)) out += char;
    else out += `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return out;
}

/** url.QueryEscape: spaces as "+", every byte outside A-Z a-z 0-9 - _ . ~ as %XX. */
function queryEscape(text: string): string {
  let out = '';
  for (const byte of bytes(text)) {
    const char = String.fromCharCode(byte);
    if (/^[A-Za-z0-9\-_.~]$/.test(char)) out += char;
    else if (char === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// JSON and YAML

const JSON_HTML_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

function jsonString(text: string, escapeHtml: boolean): string {
  let out = JSON.stringify(text);
  if (escapeHtml)
    out = out.replace(/[<>&\u2028\u2029]/g, c => JSON_HTML_ESCAPES[c]);
  else out = out.replace(/[\u2028\u2029]/g, c => JSON_HTML_ESCAPES[c]);
  return out;
}

/** encoding/json's Marshal (and MarshalIndent): keys sorted, HTML escaped unless told otherwise. */
export function marshalJson(
  value: GoValue,
  options: { escapeHtml?: boolean; indent?: string } = {},
): string {
  checkWalkable(value, 'toJson');
  const { escapeHtml = true, indent } = options;
  const write = (v: GoValue, depth: number): string => {
    switch (kindOf(v)) {
      case 'invalid':
      case 'nil':
        return 'null';
      case 'string':
        return jsonString(v as string, escapeHtml);
      case 'bool':
      case 'int':
        return String(v);
      case 'float': {
        const n = v as number;
        if (!Number.isFinite(n))
          fail(`json: unsupported value: ${sprintValue(n)}`);
        return Object.is(n, -0) ? '-0' : JSON.stringify(n);
      }
      case 'slice': {
        const items = (v as GoValue[]).map(item => write(item, depth + 1));
        if (items.length === 0) return '[]';
        if (indent === undefined) return `[${items.join(',')}]`;
        const inner = `\n${indent.repeat(depth + 1)}`;
        return `[${inner}${items.join(`,${inner}`)}\n${indent.repeat(depth)}]`;
      }
      default: {
        const map = v as GoMap;
        const keys = Object.keys(map).sort(compareStrings);
        if (keys.length === 0) return '{}';
        const colon = indent === undefined ? ':' : ': ';
        const entries = keys.map(
          k =>
            `${jsonString(k, escapeHtml)}${colon}${write(map[k], depth + 1)}`,
        );
        if (indent === undefined) return `{${entries.join(',')}}`;
        const inner = `\n${indent.repeat(depth + 1)}`;
        return `{${inner}${entries.join(`,${inner}`)}\n${indent.repeat(
          depth,
        )}}`;
      }
    }
  };
  return write(value, 0);
}

/** Data as Go holds it after decoding JSON or YAML into `any`: every number a float64. */
export function toGoValue(data: unknown): GoValue {
  if (data === undefined || data === null) return null;
  if (typeof data === 'number') return data;
  if (typeof data === 'bigint') return Number(data);
  if (typeof data === 'string' || typeof data === 'boolean') return data;
  if (Array.isArray(data)) return data.map(toGoValue);
  if (data instanceof Date) return data.toISOString();
  if (typeof data === 'object') {
    const map: GoMap = {};
    for (const [key, value] of Object.entries(data)) {
      if (value !== undefined) map[key] = toGoValue(value);
    }
    return map;
  }
  return String(data);
}

/** The value a template value stands for in JSON or YAML. */
export function fromGoValue(value: GoValue): unknown {
  if (value === undefined) return null;
  if (typeof value === 'bigint')
    return Number.isSafeInteger(Number(value)) ? Number(value) : String(value);
  if (Array.isArray(value)) return value.map(fromGoValue);
  if (isGoMap(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort(compareStrings))
      out[key] = fromGoValue(value[key]);
    return out;
  }
  return value;
}

/** Aliases a YAML text may use: enough for real values, far too few for an alias bomb. */
const MAX_YAML_ALIASES = 100;

/** The first YAML document of a text, as fromYaml reads it; errors name the line. */
function parseYamlValue(text: string, fn: string): unknown {
  checkLength(text.length, fn);
  const [doc] = parseAllDocuments(text, { prettyErrors: true, merge: true });
  if (!doc || !('errors' in doc)) return null;
  if (doc.errors.length > 0) {
    const error = doc.errors[0];
    const line = error.linePos?.[0]?.line;
    fail(
      `yaml${line ? `: line ${line}` : ''}: ${error.message.split('\n')[0]}`,
    );
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (error) {
    return fail(`yaml: ${(error as Error).message.split('\n')[0]}`);
  }
}

/** sigs.k8s.io/yaml's Marshal: through JSON, keys sorted, lists flush with their key. */
export function marshalYaml(value: GoValue): string {
  checkWalkable(value, 'toYaml');
  const text = stringify(fromGoValue(value), {
    version: '1.1',
    indentSeq: false,
    aliasDuplicateObjects: false,
    sortMapEntries: (a, b) => compareStrings(String(a.key), String(b.key)),
  });
  return text;
}

// ---------------------------------------------------------------------------------------------
// Regular expressions, through RE2 only: manifest text never reaches a backtracking engine

/** Patterns longer than this are refused; no real template needs one. */
const MAX_PATTERN_LENGTH = 4096;
/** Compiled programs larger than this are refused (nested counted repetitions). */
const MAX_PROGRAM_SIZE = 100_000;

const compiled = new Map<string, RE2JS>();

/** regexp.Compile: RE2 syntax; an error says what Go's would. */
export function compileRegex(pattern: string): RE2JS {
  const cached = compiled.get(pattern);
  if (cached) return cached;
  if (pattern.length > MAX_PATTERN_LENGTH)
    fail(`regexp: pattern longer than ${MAX_PATTERN_LENGTH} characters`);
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (error) {
    return fail(
      `regexp: Compile(${goQuote(pattern)}): ${(error as Error).message}`,
    );
  }
  if (re.programSize() > MAX_PROGRAM_SIZE)
    fail(`regexp: Compile(${goQuote(pattern)}): expression too large`);
  if (compiled.size > 1000) compiled.clear();
  compiled.set(pattern, re);
  return re;
}

/** Start and end of each group of a match (-1 where a group took no part). */
type Match = number[];

/**
 * Go's allMatches: successive non-overlapping matches, an empty match right after another
 * ignored, at most `n` of them (all when n < 0).
 */
function allMatches(re: RE2JS, text: string, n: number): Match[] {
  const matches: Match[] = [];
  const matcher = re.matcher(text);
  const groups = re.groupCount();
  let position = 0;
  let previousEnd = -1;
  while ((n < 0 || matches.length < n) && position <= text.length) {
    if (!matcher.find(position)) break;
    const match: Match = [];
    for (let g = 0; g <= groups; g++)
      match.push(matcher.start(g), matcher.end(g));
    let accept = true;
    if (match[1] === position) {
      if (match[0] === previousEnd) accept = false;
      const code = text.codePointAt(position);
      position += code !== undefined && code > 0xffff ? 2 : 1;
    } else position = match[1];
    previousEnd = match[1];
    if (accept) {
      matches.push(match);
      checkListLength(matches.length, 'the list of matches');
    }
  }
  return matches;
}

/** Go's Regexp.Expand: `$1`, `${1}`, `$name`, `${name}` and `$$` in a replacement. */
function expand(
  re: RE2JS,
  template: string,
  text: string,
  match: Match,
): string {
  let out = '';
  let rest = template;
  const names = re.namedGroups();
  for (;;) {
    const dollar = rest.indexOf('$');
    if (dollar < 0) break;
    out += rest.slice(0, dollar);
    rest = rest.slice(dollar + 1);
    if (rest.startsWith('$')) {
      out += '$';
      rest = rest.slice(1);
      continue;
    }
    const brace = rest.startsWith('{');
    const body = brace ? rest.slice(1) : rest;
    let length = 0;
    for (const char of body) {
      if (!/^[\p{L}\p{Nd}_]$/u.test(char)) break;
      length += char.length;
    }
    if (length === 0 || (brace && body[length] !== '}')) {
      out += '$';
      continue;
    }
    const name = body.slice(0, length);
    rest = body.slice(length + (brace ? 1 : 0));
    const number =
      /^\d+$/.test(name) &&
      !(name.length > 1 && name[0] === '0') &&
      name.length < 9
        ? Number(name)
        : -1;
    const group = number >= 0 ? number : names[name] ?? -1;
    if (group >= 0 && 2 * group + 1 < match.length && match[2 * group] >= 0)
      out += text.slice(match[2 * group], match[2 * group + 1]);
    checkLength(out.length, 'regexReplaceAll');
  }
  return out + rest;
}

/** Go's ReplaceAllString (expanding the replacement) or ReplaceAllLiteralString. */
function regexReplace(
  pattern: string,
  text: string,
  replacement: string,
  literal: boolean,
) {
  const re = compileRegex(pattern);
  let out = '';
  let last = 0;
  for (const match of allMatches(re, text, -1)) {
    out += text.slice(last, match[0]);
    out += literal ? replacement : expand(re, replacement, text, match);
    last = match[1];
    checkLength(out.length, 'regexReplaceAll');
  }
  return out + text.slice(last);
}

/** Go's Regexp.Split. */
function regexSplit(pattern: string, text: string, n: number): GoValue {
  if (n === 0) return null;
  const re = compileRegex(pattern);
  if (pattern.length > 0 && text.length === 0) return [''];
  const parts: string[] = [];
  let begin = 0;
  let end = 0;
  for (const match of allMatches(re, text, n)) {
    if (n > 0 && parts.length === n - 1) break;
    end = match[0];
    if (match[1] !== 0) parts.push(text.slice(begin, end));
    begin = match[1];
  }
  if (end !== text.length) parts.push(text.slice(begin));
  return parts;
}

// ---------------------------------------------------------------------------------------------
// Comparison, as Go's eq, lt and friends

type BasicKind = 'bool' | 'float' | 'int' | 'string';

function basicKind(value: GoValue): BasicKind | undefined {
  const kind = kindOf(value);
  return kind === 'bool' ||
    kind === 'float' ||
    kind === 'int' ||
    kind === 'string'
    ? kind
    : undefined;
}

/** Go unwraps a nil interface to no value before comparing. */
const unwrap = (value: GoValue) => (value === null ? undefined : value);

function eq(args: GoValue[]): boolean {
  const first = unwrap(args[0]);
  if (args.length < 2) fail('missing argument for comparison');
  const k1 = basicKind(first);
  for (const raw of args.slice(1)) {
    const arg = unwrap(raw);
    const k2 = basicKind(arg);
    let truth: boolean;
    if (k1 !== k2) {
      if (first !== undefined && arg !== undefined)
        fail('incompatible types for comparison');
      truth = false;
    } else if (k1 !== undefined) {
      truth = first === arg;
    } else if (first === undefined || arg === undefined) {
      truth = first === arg;
    } else if (kindOf(first) !== kindOf(arg)) {
      fail(
        `non-comparable types ${sprintValue(first)}: ${typeName(
          first,
        )}, ${typeName(arg)}: ${sprintValue(arg)}`,
      );
      truth = false;
    } else {
      fail(`non-comparable type ${sprintValue(arg)}: ${typeName(arg)}`);
      truth = false;
    }
    if (truth) return true;
  }
  return false;
}

function lt(a: GoValue, b: GoValue): boolean {
  const first = unwrap(a);
  const second = unwrap(b);
  const k1 = basicKind(first);
  const k2 = basicKind(second);
  if (k1 === undefined || k2 === undefined) fail('invalid type for comparison');
  if (k1 !== k2) fail('incompatible types for comparison');
  if (k1 === 'bool') fail('invalid type for comparison');
  if (k1 === 'string')
    return compareStrings(first as string, second as string) < 0;
  return (first as number | bigint) < (second as number | bigint);
}

// ---------------------------------------------------------------------------------------------
// Indexing

/** Go's indexArg: an int within [0, cap]. */
function indexArg(index: GoValue, cap: number): number {
  const value = unwrap(index);
  if (value === undefined) fail('cannot index slice/array with nil');
  if (typeof value !== 'bigint')
    fail(`cannot index slice/array with type ${typeName(value)}`);
  const x = value as bigint;
  if (x < 0n || x > BigInt(cap)) fail(`index out of range: ${x}`);
  return Number(x);
}

function goIndex(item: GoValue, indexes: GoValue[]): GoValue {
  let value: GoValue = unwrap(item);
  if (value === undefined) fail('index of untyped nil');
  for (const i of indexes) {
    if (value === null || value === undefined) fail('index of nil pointer');
    if (typeof value === 'string') {
      const encoded = bytes(value);
      const x = indexArg(i, encoded.length);
      if (x === encoded.length) fail(`index out of range: ${x}`);
      value = BigInt(encoded[x]);
    } else if (Array.isArray(value)) {
      const x = indexArg(i, value.length);
      if (x === value.length) fail(`index out of range: ${x}`);
      value = value[x];
    } else if (isGoMap(value)) {
      const key = unwrap(i);
      if (typeof key !== 'string')
        fail(
          key === undefined
            ? 'value is nil; should be of type string'
            : `value has type ${typeName(key)}; should be string`,
        );
      value = Object.hasOwn(value, key as string) ? value[key as string] : null;
    } else fail(`can't index item of type ${typeName(value)}`);
  }
  return value;
}

function goLen(item: GoValue): bigint {
  const value = unwrap(item);
  if (value === undefined) fail('len of nil pointer');
  if (typeof value === 'string') return BigInt(bytes(value).length);
  if (Array.isArray(value)) return BigInt(value.length);
  if (isGoMap(value)) return BigInt(Object.keys(value).length);
  return fail(`len of type ${typeName(value)}`);
}

/** Sprig's slice (it replaces Go's built-in of the same name): lists only. */
function sliceList(list: GoValue, indexes: GoValue[]): GoValue {
  const value = unwrap(list);
  if (!Array.isArray(value))
    fail(`list should be type of slice or array but ${kindName(value)}`);
  const items = value as GoValue[];
  if (items.length === 0) return null;
  const start = indexes.length > 0 ? Number(castInt(indexes[0])) : 0;
  const end = indexes.length > 1 ? Number(castInt(indexes[1])) : items.length;
  if (start < 0 || end < start || end > items.length)
    fail(
      `slice bounds out of range [${start}:${end}] with capacity ${items.length}`,
    );
  return items.slice(start, end);
}

// ---------------------------------------------------------------------------------------------
// Dictionaries

/** mergo's emptiness: nil, zero, false and empty strings, lists and maps. */
const isEmpty = (value: GoValue) => !isTrue(value);

/** mergo.Merge on maps: nested maps merged, other values taken where the target is empty (or always, overwriting). */
export function mergeMaps(
  target: GoMap,
  source: GoMap,
  overwrite: boolean,
): GoMap {
  for (const [key, value] of Object.entries(source)) {
    const current = target[key];
    if (value === null || value === undefined) {
      if (overwrite) target[key] = null;
      continue;
    }
    if (isGoMap(value)) {
      if (isGoMap(current) && !isEmpty(current)) {
        target[key] = mergeMaps({ ...current }, value, overwrite);
        continue;
      }
      if (!Object.hasOwn(target, key) || isEmpty(current)) target[key] = value;
      continue;
    }
    if (Array.isArray(value)) {
      if (overwrite || !Object.hasOwn(target, key) || isEmpty(current))
        target[key] = value;
      continue;
    }
    if (overwrite || !Object.hasOwn(target, key) || isEmpty(current))
      target[key] = value;
  }
  return target;
}

const asMap = (value: GoValue): GoMap => (isGoMap(value) ? value : {});

function dig(args: GoValue[]): GoValue {
  if (args.length < 3) fail('dig needs at least three arguments');
  const dict = args[args.length - 1];
  if (!isGoMap(dict))
    fail(
      `interface conversion: interface {} is ${typeName(
        dict,
      )}, not map[string]interface {}`,
    );
  const fallback = args[args.length - 2];
  let current: GoValue = dict;
  const keys = args.slice(0, -2);
  for (let i = 0; i < keys.length; i++) {
    if (typeof keys[i] !== 'string')
      fail(
        `interface conversion: interface {} is ${typeName(
          keys[i],
        )}, not string`,
      );
    const map = current as GoMap;
    if (!Object.hasOwn(map, keys[i] as string)) return fallback;
    current = map[keys[i] as string];
    if (i < keys.length - 1 && !isGoMap(current))
      fail(
        `interface conversion: interface {} is ${typeName(
          current,
        )}, not map[string]interface {}`,
      );
  }
  return current;
}

// ---------------------------------------------------------------------------------------------
// The function table

const fn = (
  params: GoParam[],
  call: GoFunction['call'],
  variadic?: GoParam,
): GoFunction => ({ params, call, variadic });

const string1 = (f: (s: string) => GoValue) =>
  fn(['string'], ([s]) => f(s as string));
const string2 = (f: (a: string, b: string) => GoValue) =>
  fn(['string', 'string'], ([a, b]) => f(a as string, b as string));
const int = (value: GoValue) => Number(value as bigint);

function untilStep(start: number, stop: number, step: number): GoValue {
  const out: bigint[] = [];
  if (stop < start) {
    if (step >= 0) return out;
    checkListLength(
      Math.ceil((start - stop) / -step),
      `untilStep ${start} ${stop} ${step}`,
    );
    for (let i = start; i > stop; i += step) out.push(BigInt(i));
    return out;
  }
  if (step <= 0) return out;
  checkListLength(
    Math.ceil((stop - start) / step),
    `untilStep ${start} ${stop} ${step}`,
  );
  for (let i = start; i < stop; i += step) out.push(BigInt(i));
  return out;
}

function repeat(count: number, text: string): string {
  if (count < 0) fail('strings: negative Repeat count');
  checkLength(count * text.length, `repeat ${count}`);
  return text.repeat(count);
}

function substring(start: number, end: number, text: string): string {
  const encoded = bytes(text);
  const slice = (from: number, to: number) => {
    if (from < 0 || to > encoded.length || from > to)
      fail(
        `slice bounds out of range [${from}:${to}] with length ${encoded.length}`,
      );
    return encoded.subarray(from, to).toString('utf8');
  };
  if (start < 0) return slice(0, end);
  if (end < 0 || end > encoded.length) return slice(start, encoded.length);
  return slice(start, end);
}

function trunc(count: number, text: string): string {
  const encoded = bytes(text);
  if (count < 0 && encoded.length + count > 0)
    return encoded.subarray(encoded.length + count).toString('utf8');
  if (count >= 0 && encoded.length > count)
    return encoded.subarray(0, count).toString('utf8');
  return text;
}

function indentLines(spaces: number, text: string): string {
  if (spaces < 0) fail('strings: negative Repeat count');
  const pad = ' '.repeat(Math.min(spaces, MAX_VALUE_LENGTH + 1));
  checkLength(text.length + text.split('\n').length * pad.length, 'indent');
  return pad + text.split('\n').join(`\n${pad}`);
}

function base64Decode(text: string): string {
  const clean = text.replace(/[\r\n]/g, '');
  const bad = clean.search(/[^A-Za-z0-9+/=]/);
  if (bad >= 0) return `illegal base64 data at input byte ${bad}`;
  const padding = clean.indexOf('=');
  if (
    clean.length % 4 !== 0 ||
    (padding >= 0 && !/^=={0,1}$/.test(clean.slice(padding)))
  )
    return `illegal base64 data at input byte ${
      padding >= 0 ? padding : clean.length - (clean.length % 4)
    }`;
  return Buffer.from(clean, 'base64').toString('utf8');
}

function push(list: GoValue, value: GoValue): GoValue[] {
  const items = asList(list, 'push');
  checkListLength(items.length + 1, 'append');
  return [...items, value];
}

const listOf = (args: GoValue[], fnName: string) => {
  checkListLength(args.length, fnName);
  return [...args];
};

const builtins: Record<string, GoFunction> = {
  // and / or are evaluated lazily by the executor; these are their signatures.
  and: fn(['any'], args => args[args.length - 1], 'any'),
  or: fn(['any'], args => args[args.length - 1], 'any'),
  not: fn(['any'], ([a]) => !isTrue(a)),
  len: fn(['any'], ([a]) => goLen(a)),
  index: fn(['any'], ([item, ...rest]) => goIndex(item, rest), 'any'),
  slice: fn(['any'], ([item, ...rest]) => sliceList(item, rest), 'any'),
  eq: fn(['any'], args => eq(args), 'any'),
  ne: fn(['any', 'any'], args => !eq(args)),
  lt: fn(['any', 'any'], ([a, b]) => lt(a, b)),
  le: fn(['any', 'any'], ([a, b]) => lt(a, b) || eq([a, b])),
  gt: fn(['any', 'any'], ([a, b]) => !(lt(a, b) || eq([a, b]))),
  ge: fn(['any', 'any'], ([a, b]) => !lt(a, b)),
  print: fn([], args => sprint(args), 'any'),
  printf: fn(
    ['string'],
    ([format, ...args]) => sprintf(format as string, args),
    'any',
  ),
  println: fn([], args => sprintln(args), 'any'),
  html: fn([], args => htmlEscape(evalArgs(args)), 'any'),
  js: fn([], args => jsEscape(evalArgs(args)), 'any'),
  urlquery: fn([], args => queryEscape(evalArgs(args)), 'any'),
};

const sprig: Record<string, GoFunction> = {
  // Defaults and flow
  default: fn(
    ['any'],
    ([fallback, ...given]) =>
      given.length === 0 || isEmpty(given[0]) ? fallback : given[0],
    'any',
  ),
  empty: fn(['any'], ([a]) => isEmpty(a)),
  coalesce: fn([], args => args.find(a => !isEmpty(a)) ?? null, 'any'),
  all: fn([], args => args.every(a => !isEmpty(a)), 'any'),
  any: fn([], args => args.some(a => !isEmpty(a)), 'any'),
  ternary: fn(['any', 'any', 'bool'], ([yes, no, test]) => (test ? yes : no)),
  fail: string1(message => fail(message)),

  // Strings
  quote: fn(
    [],
    args =>
      args
        .filter(a => a !== null && a !== undefined)
        .map(a => goQuote(strval(a)))
        .join(' '),
    'any',
  ),
  squote: fn(
    [],
    args =>
      args
        .filter(a => a !== null && a !== undefined)
        .map(a => `'${sprintValue(a)}'`)
        .join(' '),
    'any',
  ),
  cat: fn(
    [],
    args =>
      args
        .filter(a => a !== null && a !== undefined)
        .map(sprintValue)
        .join(' '),
    'any',
  ),
  upper: string1(s => mapRunes(s, c => c.toUpperCase())),
  lower: string1(s => mapRunes(s, c => c.toLowerCase())),
  title: string1(title),
  trim: string1(s => {
    const runes = Array.from(s);
    let start = 0;
    let end = runes.length;
    while (start < end && isSpaceRune(runes[start])) start++;
    while (end > start && isSpaceRune(runes[end - 1])) end--;
    return runes.slice(start, end).join('');
  }),
  trimAll: string2((cutset, s) => trimSet(s, cutset)),
  trimPrefix: string2((prefix, s) =>
    s.startsWith(prefix) ? s.slice(prefix.length) : s,
  ),
  trimSuffix: string2((suffix, s) =>
    suffix && s.endsWith(suffix) ? s.slice(0, s.length - suffix.length) : s,
  ),
  nospace: string1(s =>
    Array.from(s)
      .filter(c => !isSpaceRune(c))
      .join(''),
  ),
  replace: fn(['string', 'string', 'string'], ([old, replacement, s]) =>
    replaceAll(s as string, old as string, replacement as string),
  ),
  contains: string2((substring_, s) => s.includes(substring_)),
  hasPrefix: string2((prefix, s) => s.startsWith(prefix)),
  hasSuffix: string2((suffix, s) => s.endsWith(suffix)),
  repeat: fn(['int', 'string'], ([count, s]) =>
    repeat(int(count), s as string),
  ),
  substr: fn(['int', 'int', 'string'], ([start, end, s]) =>
    substring(int(start), int(end), s as string),
  ),
  trunc: fn(['int', 'string'], ([count, s]) => trunc(int(count), s as string)),
  indent: fn(['int', 'string'], ([n, s]) => indentLines(int(n), s as string)),
  nindent: fn(
    ['int', 'string'],
    ([n, s]) => `\n${indentLines(int(n), s as string)}`,
  ),
  split: string2((separator, s) => {
    const parts = splitGo(s, separator);
    checkListLength(parts.length, 'split');
    const out: GoMap = {};
    parts.forEach((part, i) => {
      out[`_${i}`] = part;
    });
    return out;
  }),
  splitList: string2((separator, s) => {
    const parts = splitGo(s, separator);
    checkListLength(parts.length, 'splitList');
    return parts;
  }),
  join: fn(['string', 'any'], ([separator, list]) => {
    const parts = strslice(list);
    checkLength(
      parts.reduce((n, p) => n + p.length + (separator as string).length, 0),
      'join',
    );
    return parts.join(separator as string);
  }),
  sortAlpha: fn(['any'], ([list]) =>
    Array.isArray(list) ? strslice(list).sort(compareStrings) : [strval(list)],
  ),
  toString: fn(['any'], ([a]) => strval(a)),
  toStrings: fn(['any'], ([a]) => strslice(a)),
  b64enc: string1(s => Buffer.from(s, 'utf8').toString('base64')),
  b64dec: string1(base64Decode),
  sha1sum: string1(s =>
    crypto.createHash('sha1').update(s, 'utf8').digest('hex'),
  ),
  sha256sum: string1(s =>
    crypto.createHash('sha256').update(s, 'utf8').digest('hex'),
  ),

  // Numbers
  atoi: string1(s => {
    if (!/^[+-]?\d{1,30}$/.test(s)) return 0n;
    const value = BigInt(s);
    return value === toInt64(value) ? value : 0n;
  }),
  int: fn(['any'], ([a]) => castInt(a)),
  int64: fn(['any'], ([a]) => castInt(a)),
  float64: fn(['any'], ([a]) => castFloat(a)),
  add: fn(
    [],
    args => toInt64(args.reduce<bigint>((sum, a) => sum + castInt(a), 0n)),
    'any',
  ),
  add1: fn(['any'], ([a]) => toInt64(castInt(a) + 1n)),
  sub: fn(['any', 'any'], ([a, b]) => toInt64(castInt(a) - castInt(b))),
  mul: fn(
    ['any'],
    ([a, ...rest]) =>
      rest.reduce<bigint>((p, b) => toInt64(p * castInt(b)), castInt(a)),
    'any',
  ),
  div: fn(['any', 'any'], ([a, b]) => {
    const divisor = castInt(b);
    if (divisor === 0n) fail('runtime error: integer divide by zero');
    return toInt64(castInt(a) / divisor);
  }),
  mod: fn(['any', 'any'], ([a, b]) => {
    const divisor = castInt(b);
    if (divisor === 0n) fail('runtime error: integer divide by zero');
    return castInt(a) % divisor;
  }),
  max: fn(
    ['any'],
    ([a, ...rest]) =>
      rest.map(castInt).reduce((m, b) => (b > m ? b : m), castInt(a)),
    'any',
  ),
  min: fn(
    ['any'],
    ([a, ...rest]) =>
      rest.map(castInt).reduce((m, b) => (b < m ? b : m), castInt(a)),
    'any',
  ),
  until: fn(['int'], ([count]) => {
    const n = int(count);
    return untilStep(0, n, n < 0 ? -1 : 1);
  }),
  untilStep: fn(['int', 'int', 'int'], ([start, stop, step]) =>
    untilStep(int(start), int(stop), int(step)),
  ),

  // Lists
  list: fn([], args => listOf(args, 'list'), 'any'),
  tuple: fn([], args => listOf(args, 'tuple'), 'any'),
  first: fn(['any'], ([l]) => {
    const items = asList(l, 'first');
    return items.length > 0 ? items[0] : null;
  }),
  last: fn(['any'], ([l]) => {
    const items = asList(l, 'last');
    return items.length > 0 ? items[items.length - 1] : null;
  }),
  rest: fn(['any'], ([l]) => {
    const items = asList(l, 'rest');
    return items.length > 0 ? items.slice(1) : null;
  }),
  initial: fn(['any'], ([l]) => {
    const items = asList(l, 'initial');
    return items.length > 0 ? items.slice(0, -1) : null;
  }),
  append: fn(['any', 'any'], ([l, v]) => push(l, v)),
  push: fn(['any', 'any'], ([l, v]) => push(l, v)),
  prepend: fn(['any', 'any'], ([l, v]) => {
    const items = asList(l, 'prepend');
    checkListLength(items.length + 1, 'prepend');
    return [v, ...items];
  }),
  concat: fn(
    [],
    lists => {
      const out: GoValue[] = [];
      for (const l of lists) {
        if (!Array.isArray(l))
          fail(`Cannot concat type ${kindName(l)} as list`);
        checkListLength(out.length + (l as GoValue[]).length, 'concat');
        out.push(...(l as GoValue[]));
      }
      return out;
    },
    'any',
  ),
  reverse: fn(['any'], ([l]) => [...asList(l, 'reverse')].reverse()),
  uniq: fn(['any'], ([l], context) => {
    const items = asList(l, 'uniq');
    context.charge(checkWalkable(items, 'uniq'));
    const out: GoValue[] = [];
    for (const item of items) {
      context.charge(out.length);
      if (!out.some(o => deepEqual(o, item))) out.push(item);
    }
    return out;
  }),
  compact: fn(['any'], ([l]) => asList(l, 'compact').filter(v => !isEmpty(v))),
  has: fn(['any', 'any'], ([needle, haystack], context) => {
    if (haystack === null || haystack === undefined) return false;
    const items = asList(haystack, 'has');
    context.charge(checkWalkable(items, 'has'));
    return items.some(item => deepEqual(needle, item));
  }),
  without: fn(
    ['any'],
    ([l, ...omit], context) => {
      const items = asList(l, 'without');
      context.charge(checkWalkable([items, omit], 'without'));
      return items.filter(item => !omit.some(o => deepEqual(o, item)));
    },
    'any',
  ),

  // Dictionaries
  dict: fn(
    [],
    args => {
      const out: GoMap = {};
      for (let i = 0; i < args.length; i += 2)
        out[strval(args[i])] = i + 1 < args.length ? args[i + 1] : '';
      return out;
    },
    'any',
  ),
  get: fn(['map', 'string'], ([d, key]) => {
    const map = asMap(d);
    return Object.hasOwn(map, key as string) ? map[key as string] : '';
  }),
  set: fn(['map', 'string', 'any'], ([d, key, value]) => {
    const map = asMap(d);
    map[key as string] = value;
    return map;
  }),
  unset: fn(['map', 'string'], ([d, key]) => {
    const map = asMap(d);
    delete map[key as string];
    return map;
  }),
  hasKey: fn(['map', 'string'], ([d, key]) =>
    Object.hasOwn(asMap(d), key as string),
  ),
  // Go's map order is random; sorted keys are one of the orders it may give.
  keys: fn(
    [],
    dicts => dicts.flatMap(d => Object.keys(asMap(d))).sort(compareStrings),
    'map',
  ),
  values: fn(['map'], ([d]) => {
    const map = asMap(d);
    return Object.keys(map)
      .sort(compareStrings)
      .map(k => map[k]);
  }),
  pluck: fn(
    ['string'],
    ([key, ...dicts]) =>
      dicts
        .filter(d => Object.hasOwn(asMap(d), key as string))
        .map(d => asMap(d)[key as string]),
    'map',
  ),
  pick: fn(
    ['map'],
    ([d, ...keys]) => {
      const map = asMap(d);
      const out: GoMap = {};
      for (const k of keys)
        if (Object.hasOwn(map, k as string))
          out[k as string] = map[k as string];
      return out;
    },
    'string',
  ),
  omit: fn(
    ['map'],
    ([d, ...keys]) => {
      const out: GoMap = { ...asMap(d) };
      for (const k of keys) delete out[k as string];
      return out;
    },
    'string',
  ),
  merge: fn(
    ['map'],
    ([d, ...sources], context) => {
      context.charge(checkWalkable(sources, 'merge'));
      return sources.reduce<GoMap>(
        (m, s) => mergeMaps(m, asMap(s), false),
        asMap(d),
      );
    },
    'map',
  ),
  mergeOverwrite: fn(
    ['map'],
    ([d, ...sources], context) => {
      context.charge(checkWalkable(sources, 'mergeOverwrite'));
      return sources.reduce<GoMap>(
        (m, s) => mergeMaps(m, asMap(s), true),
        asMap(d),
      );
    },
    'map',
  ),
  dig: fn([], args => dig(args), 'any'),
  deepCopy: fn(['any'], ([a], context) => {
    context.charge(checkWalkable(a, 'deepCopy'));
    return deepCopy(a);
  }),

  // Encodings
  toJson: fn(['any'], ([a]) => {
    try {
      return marshalJson(a);
    } catch (error) {
      // Sprig's toJson swallows marshalling errors into an empty string.
      if (error instanceof GoTemplateError && error.message.startsWith('json:'))
        return '';
      throw error;
    }
  }),
  toRawJson: fn(['any'], ([a]) => marshalJson(a, { escapeHtml: false })),
  toPrettyJson: fn(['any'], ([a]) => marshalJson(a, { indent: '  ' })),
  fromJson: string1(s => {
    checkLength(s.length, 'fromJson');
    try {
      return toGoValue(JSON.parse(s));
    } catch (error) {
      if (error instanceof RangeError) throw error;
      return null;
    }
  }),

  // Paths
  base: string1(pathBase),
  dir: string1(pathDir),
  clean: string1(pathClean),
  ext: string1(pathExt),
  isAbs: string1(p => p.startsWith('/')),

  // Regular expressions
  regexMatch: string2((pattern, s) => {
    try {
      compileRegex(pattern);
    } catch {
      return false;
    }
    return allMatches(compileRegex(pattern), s, 1).length > 0;
  }),
  regexFind: string2((pattern, s) => {
    const [match] = allMatches(compileRegex(pattern), s, 1);
    return match ? s.slice(match[0], match[1]) : '';
  }),
  regexFindAll: fn(['string', 'string', 'int'], ([pattern, s, n]) => {
    const matches = allMatches(
      compileRegex(pattern as string),
      s as string,
      int(n),
    );
    return matches.length > 0
      ? matches.map(m => (s as string).slice(m[0], m[1]))
      : null;
  }),
  regexReplaceAll: fn(
    ['string', 'string', 'string'],
    ([pattern, s, replacement]) =>
      regexReplace(
        pattern as string,
        s as string,
        replacement as string,
        false,
      ),
  ),
  regexReplaceAllLiteral: fn(
    ['string', 'string', 'string'],
    ([pattern, s, replacement]) =>
      regexReplace(pattern as string, s as string, replacement as string, true),
  ),
  regexSplit: fn(['string', 'string', 'int'], ([pattern, s, n]) =>
    regexSplit(pattern as string, s as string, int(n)),
  ),
  regexQuoteMeta: string1(s => s.replace(/[\\.+*?()|[\]{}^$]/g, c => `\\${c}`)),
};

/** Argo CD's additions to Sprig. */
const argocd: Record<string, GoFunction> = {
  normalize: string1(sanitizeName),
  slugify: fn([], args => slugify(args), 'any'),
  toYaml: fn(['any'], ([a]) => marshalYaml(a).replace(/\n$/, '')),
  fromYaml: string1(s => {
    const value = parseYamlValue(s, 'fromYaml');
    if (value === null || value === undefined) return {};
    if (typeof value !== 'object' || Array.isArray(value))
      fail(
        `error unmarshaling JSON: json: cannot unmarshal ${
          Array.isArray(value) ? 'array' : typeof value
        } into Go value of type map[string]interface {}`,
      );
    return toGoValue(value);
  }),
  fromYamlArray: string1(s => {
    const value = parseYamlValue(s, 'fromYamlArray');
    if (value === null || value === undefined) return [];
    if (!Array.isArray(value))
      fail(
        `error unmarshaling JSON: json: cannot unmarshal ${
          typeof value === 'object' ? 'object' : typeof value
        } into Go value of type []interface {}`,
      );
    return toGoValue(value);
  }),
};

/** strings.Trim: every rune of `cutset` removed from both ends. */
function trimSet(text: string, cutset: string): string {
  const set = new Set(Array.from(cutset));
  const chars = Array.from(text);
  let start = 0;
  let end = chars.length;
  while (start < end && set.has(chars[start])) start++;
  while (end > start && set.has(chars[end - 1])) end--;
  return chars.slice(start, end).join('');
}

/** Every function a template may call. */
export const goFunctions: Record<string, GoFunction> = {
  ...builtins,
  ...sprig,
  ...argocd,
};

/**
 * Names Argo CD's templates know (Go's built-ins, Sprig's functions and Argo CD's `tpl`) that
 * this module does not evaluate: a template using one is refused by name, not misread.
 */
export const UNSUPPORTED_FUNCTIONS = new Set([
  'call',
  'tpl',
  'hello',
  'ago',
  'date',
  'date_in_zone',
  'date_modify',
  'dateInZone',
  'dateModify',
  'duration',
  'durationRound',
  'htmlDate',
  'htmlDateInZone',
  'must_date_modify',
  'mustDateModify',
  'mustToDate',
  'now',
  'toDate',
  'unixEpoch',
  'abbrev',
  'abbrevboth',
  'untitle',
  'trimall',
  'initials',
  'randAlphaNum',
  'randAlpha',
  'randAscii',
  'randNumeric',
  'randSeededNumeric',
  'swapcase',
  'shuffle',
  'snakecase',
  'camelcase',
  'kebabcase',
  'wrap',
  'wrapWith',
  'plural',
  'adler32sum',
  'seq',
  'toDecimal',
  'splitn',
  'randInt',
  'add1f',
  'addf',
  'subf',
  'divf',
  'mulf',
  'biggest',
  'maxf',
  'minf',
  'ceil',
  'floor',
  'round',
  'mustCompact',
  'mustFromJson',
  'mustToJson',
  'mustToPrettyJson',
  'mustToRawJson',
  'mustDeepCopy',
  'typeOf',
  'typeIs',
  'typeIsLike',
  'kindOf',
  'kindIs',
  'deepEqual',
  'osBase',
  'osClean',
  'osDir',
  'osExt',
  'osIsAbs',
  'b32enc',
  'b32dec',
  'mustMerge',
  'mustMergeOverwrite',
  'mustAppend',
  'mustPush',
  'mustPrepend',
  'mustFirst',
  'mustRest',
  'mustLast',
  'mustInitial',
  'mustReverse',
  'mustUniq',
  'mustWithout',
  'mustHas',
  'mustSlice',
  'chunk',
  'mustChunk',
  'bcrypt',
  'htpasswd',
  'genPrivateKey',
  'derivePassword',
  'buildCustomCert',
  'genCA',
  'genCAWithKey',
  'genSelfSignedCert',
  'genSelfSignedCertWithKey',
  'genSignedCert',
  'genSignedCertWithKey',
  'encryptAES',
  'decryptAES',
  'randBytes',
  'uuidv4',
  'semver',
  'semverCompare',
  'mustRegexMatch',
  'mustRegexFindAll',
  'mustRegexFind',
  'mustRegexReplaceAll',
  'mustRegexReplaceAllLiteral',
  'mustRegexSplit',
  'urlParse',
  'urlJoin',
]);
