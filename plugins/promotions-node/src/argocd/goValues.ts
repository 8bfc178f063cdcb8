/**
 * Values as Go's text/template sees the data Argo CD hands it (JSON decoded into `any`): strings,
 * booleans, float64 numbers (JS numbers), ints (bigints: template constants and what functions
 * such as `len` return), lists, maps, nil (null) and "no value" (undefined: a missing key).
 */
export type GoValue =
  | undefined
  | null
  | string
  | boolean
  | number
  | bigint
  | GoValue[]
  | { [key: string]: GoValue };

export type GoMap = { [key: string]: GoValue };

/** A Go template could not be parsed or executed; the message says where and why. */
export class GoTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GoTemplateError';
  }
}

export const isGoMap = (value: unknown): value is GoMap =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  Object.getPrototypeOf(value) === Object.prototype;

/** The kinds Go's comparison functions tell apart. */
export type GoKind =
  | 'invalid'
  | 'nil'
  | 'string'
  | 'bool'
  | 'float'
  | 'int'
  | 'slice'
  | 'map';

export function kindOf(value: GoValue): GoKind {
  if (value === undefined) return 'invalid';
  if (value === null) return 'nil';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return 'float';
  if (typeof value === 'bigint') return 'int';
  return Array.isArray(value) ? 'slice' : 'map';
}

/** The Go type name of a value, as Go's error messages write it. */
export function typeName(value: GoValue): string {
  return {
    invalid: 'invalid value',
    nil: 'interface {}',
    string: 'string',
    bool: 'bool',
    float: 'float64',
    int: 'int',
    slice: '[]interface {}',
    map: 'map[string]interface {}',
  }[kindOf(value)];
}

/** Go's truth: false, 0, nil, and empty strings, lists and maps are false. */
export function isTrue(value: GoValue): boolean {
  switch (kindOf(value)) {
    case 'invalid':
    case 'nil':
      return false;
    case 'string':
      return (value as string).length > 0;
    case 'bool':
      return value as boolean;
    case 'float':
      return (value as number) !== 0;
    case 'int':
      return (value as bigint) !== 0n;
    case 'slice':
      return (value as GoValue[]).length > 0;
    default:
      return Object.keys(value as GoMap).length > 0;
  }
}

/** Go's int is 64 bits wide and wraps around. */
export const toInt64 = (value: bigint) => BigInt.asIntN(64, value);

/** Go's exponent: a sign and at least two digits. */
const goExponent = (exponent: number) =>
  `e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;

function nonFinite(value: number): string | undefined {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return undefined;
}

/**
 * A float64 as `%v` and `%g` print it: the shortest digits that read back the same (or
 * `precision` significant digits), in exponent form from 1e+06 (or 1e+precision) up and below
 * 1e-04, as strconv's `'g'` format does.
 */
export function formatFloat(value: number, precision?: number): string {
  const special = nonFinite(value);
  if (special) return special;
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const exponential =
    precision === undefined
      ? value.toExponential()
      : value.toExponential(Math.max(Math.min(precision, 100), 1) - 1);
  const [mantissaText, exponentText] = exponential.split('e');
  const exponent = Number(exponentText);
  // %g drops trailing zeros unless asked to keep them.
  const mantissa = mantissaText.includes('.')
    ? mantissaText.replace(/\.?0+$/, '')
    : mantissaText;
  const digits = mantissa.replace(/[-.]/g, '').length;
  let limit = precision === undefined ? 6 : Math.max(precision, 1);
  if (precision !== undefined && limit > digits && digits >= exponent + 1)
    limit = digits;
  if (exponent < -4 || exponent >= limit)
    return mantissa + goExponent(exponent);
  return Number(`${mantissa}e${exponent}`).toFixed(
    Math.max(digits - exponent - 1, 0),
  );
}

/** `%e` with a precision (6 by default), Go's two-digit exponent included. */
function formatExponent(value: number, precision: number): string {
  const special = nonFinite(value);
  if (special) return special;
  const [mantissa, exponent] = value
    .toExponential(Math.min(precision, 100))
    .split('e');
  return mantissa + goExponent(Number(exponent));
}

/** `%f` with a precision (6 by default). */
function formatFixed(value: number, precision: number): string {
  const special = nonFinite(value);
  if (special) return special;
  if (Math.abs(value) >= 1e21) {
    // toFixed switches to exponent form there; Go keeps writing digits.
    const whole = BigInt(Math.trunc(value)).toString();
    return precision > 0 ? `${whole}.${'0'.repeat(precision)}` : whole;
  }
  return value.toFixed(Math.min(precision, 100));
}

/** Whether Go's unicode.IsPrint holds: letters, marks, numbers, punctuation, symbols, ' '. */
export function isPrintable(char: string): boolean {
  return char === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(char);
}

const NAMED_ESCAPES: Record<string, string> = {
  '\u0007': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
};

function escapeRune(char: string, quote: string): string {
  if (char === quote || char === '\\') return `\\${char}`;
  if (NAMED_ESCAPES[char]) return NAMED_ESCAPES[char];
  if (isPrintable(char)) return char;
  const code = char.codePointAt(0)!;
  if (code < 0x80) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code < 0x10000) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\U${code.toString(16).padStart(8, '0')}`;
}

/** strconv.Quote: a Go string literal. */
export function goQuote(text: string): string {
  let out = '"';
  for (const char of text) out += escapeRune(char, '"');
  return `${out}"`;
}

/** A code point, or U+FFFD where the number is none. */
const validRune = (code: bigint) =>
  code >= 0n && code <= 0x10ffffn && !(code >= 0xd800n && code <= 0xdfffn)
    ? Number(code)
    : 0xfffd;

/** strconv.QuoteRune: a Go character literal. */
const goQuoteRune = (code: bigint) =>
  `'${escapeRune(String.fromCodePoint(validRune(code)), "'")}'`;

interface Flags {
  minus: boolean;
  plus: boolean;
  zero: boolean;
  space: boolean;
  sharp: boolean;
  width?: number;
  precision?: number;
}

const NO_FLAGS: Flags = {
  minus: false,
  plus: false,
  zero: false,
  space: false,
  sharp: false,
};

/** Go's `%v`: how fmt prints a value (nil is `<nil>`; maps sorted by key). */
export function sprintValue(value: GoValue): string {
  return formatValue(value, 'v', NO_FLAGS);
}

/** What an action prints: `<no value>` for nil and missing values, `%v` otherwise. */
export function printValue(value: GoValue): string {
  return value === undefined || value === null
    ? '<no value>'
    : sprintValue(value);
}

/** fmt.Sprint: operands joined, with a space between two that are not strings. */
export function sprint(args: GoValue[]): string {
  let out = '';
  args.forEach((arg, i) => {
    const isString = typeof arg === 'string';
    if (i > 0 && !isString && typeof args[i - 1] !== 'string') out += ' ';
    out += sprintValue(arg);
  });
  return out;
}

/** fmt.Sprintln: operands always separated by a space, and a newline at the end. */
export function sprintln(args: GoValue[]): string {
  return `${args.map(sprintValue).join(' ')}\n`;
}

const runeLength = (text: string) => {
  let count = 0;
  for (const _ of text) count++;
  return count;
};

function pad(text: string, flags: Flags, numeric: boolean): string {
  const width = flags.width ?? 0;
  const length = runeLength(text);
  if (length >= width) return text;
  if (flags.minus) return text + ' '.repeat(width - length);
  if (flags.zero && numeric) {
    const sign = text[0] === '-' || text[0] === '+' ? text[0] : '';
    return sign + '0'.repeat(width - length) + text.slice(sign.length);
  }
  return ' '.repeat(width - length) + text;
}

/** The sign Go writes before a number: `+` with the plus flag, a space with the space flag. */
function signed(text: string, flags: Flags): string {
  if (text.startsWith('-')) return text;
  if (flags.plus) return `+${text}`;
  if (flags.space) return ` ${text}`;
  return text;
}

/** `%!verb(type=value)`: what fmt writes for a verb that does not fit its operand. */
function badVerb(verb: string, value: GoValue): string {
  return value === undefined || value === null
    ? `%!${verb}(<nil>)`
    : `%!${verb}(${typeName(value)}=${sprintValue(value)})`;
}

function truncateRunes(text: string, precision: number | undefined) {
  if (precision === undefined) return text;
  return Array.from(text).slice(0, precision).join('');
}

function formatInt(
  value: bigint,
  verb: string,
  flags: Flags,
): string | undefined {
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  let digits: string;
  switch (verb) {
    case 'v':
    case 'd':
      digits = magnitude.toString();
      break;
    case 'b':
      digits = magnitude.toString(2);
      break;
    case 'o':
      digits = magnitude.toString(8);
      break;
    case 'O':
      digits = `0o${magnitude.toString(8)}`;
      break;
    case 'x':
      digits = magnitude.toString(16);
      break;
    case 'X':
      digits = magnitude.toString(16).toUpperCase();
      break;
    case 'c':
      return String.fromCodePoint(validRune(value));
    case 'q':
      return goQuoteRune(value);
    case 'U':
      return `U+${magnitude.toString(16).toUpperCase().padStart(4, '0')}`;
    default:
      return undefined;
  }
  if (flags.precision !== undefined)
    digits = digits.padStart(flags.precision, '0');
  if (flags.sharp && (verb === 'x' || verb === 'X'))
    digits = `0${verb}${digits}`;
  return signed(negative ? `-${digits}` : digits, flags);
}

function formatFloatVerb(
  value: number,
  verb: string,
  flags: Flags,
): string | undefined {
  let text: string;
  switch (verb) {
    case 'v':
    case 'g':
    case 'G':
      text = formatFloat(value, flags.precision);
      if (verb === 'G') text = text.toUpperCase();
      break;
    case 'e':
    case 'E':
      text = formatExponent(value, flags.precision ?? 6);
      if (verb === 'E') text = text.toUpperCase();
      break;
    case 'f':
    case 'F':
      text = formatFixed(value, flags.precision ?? 6);
      break;
    default:
      return undefined;
  }
  return signed(text, flags);
}

/** One operand printed with a verb: lists and maps print each element with the same verb. */
function formatValue(value: GoValue, verb: string, flags: Flags): string {
  switch (kindOf(value)) {
    case 'slice':
      return `[${(value as GoValue[])
        .map(item => formatValue(item, verb, flags))
        .join(' ')}]`;
    case 'map': {
      const map = value as GoMap;
      return `map[${Object.keys(map)
        .sort(compareStrings)
        .map(
          key =>
            `${formatValue(key, verb, flags)}:${formatValue(
              map[key],
              verb,
              flags,
            )}`,
        )
        .join(' ')}]`;
    }
    default:
      return formatScalar(value, verb, flags);
  }
}

function formatScalar(value: GoValue, verb: string, flags: Flags): string {
  const kind = kindOf(value);
  let text: string | undefined;
  let numeric = false;
  if (kind === 'invalid' || kind === 'nil') {
    text = verb === 'v' ? '<nil>' : badVerb(verb, value);
  } else if (kind === 'string') {
    const string = value as string;
    if (verb === 'v' || verb === 's')
      text = truncateRunes(string, flags.precision);
    else if (verb === 'q')
      text = goQuote(truncateRunes(string, flags.precision));
    else if (verb === 'x' || verb === 'X') {
      text = Buffer.from(string, 'utf8').toString('hex');
      if (verb === 'X') text = text.toUpperCase();
    }
  } else if (kind === 'bool') {
    if (verb === 'v' || verb === 't') text = String(value);
  } else if (kind === 'int') {
    text = formatInt(value as bigint, verb, flags);
    numeric = text !== undefined && !['c', 'q', 'U'].includes(verb);
  } else if (kind === 'float') {
    text = formatFloatVerb(value as number, verb, flags);
    numeric = text !== undefined && Number.isFinite(value as number);
  }
  if (text === undefined) text = badVerb(verb, value);
  return pad(text, flags, numeric);
}

/** Orders strings as Go does: by their UTF-8 bytes. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

const isDigit = (char: string | undefined) =>
  char !== undefined && char >= '0' && char <= '9';

/** fmt.Sprintf: flags, width, precision and the verbs of fmt; what does not fit says so as fmt does. */
export function sprintf(format: string, args: GoValue[]): string {
  let out = '';
  let next = 0;
  let i = 0;
  while (i < format.length) {
    const percent = format.indexOf('%', i);
    if (percent < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, percent);
    i = percent + 1;
    const flags: Flags = { ...NO_FLAGS };
    for (; i < format.length; i++) {
      const c = format[i];
      if (c === '-') flags.minus = true;
      else if (c === '+') flags.plus = true;
      else if (c === '0') flags.zero = true;
      else if (c === ' ') flags.space = true;
      else if (c === '#') flags.sharp = true;
      else break;
    }
    let widthText = '';
    while (isDigit(format[i]) && widthText.length < 7) widthText += format[i++];
    if (widthText) flags.width = Number(widthText);
    if (format[i] === '.') {
      i++;
      let precisionText = '';
      while (isDigit(format[i]) && precisionText.length < 7)
        precisionText += format[i++];
      flags.precision = Number(precisionText || '0');
    }
    if (i >= format.length) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (next >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += formatValue(args[next++], verb, flags);
  }
  if (next < args.length) {
    out += `%!(EXTRA ${args
      .slice(next)
      .map(a =>
        a === undefined || a === null
          ? '<nil>'
          : `${typeName(a)}=${sprintValue(a)}`,
      )
      .join(', ')})`;
  }
  return out;
}
