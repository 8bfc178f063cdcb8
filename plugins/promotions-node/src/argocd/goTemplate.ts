import {
  FunctionContext,
  GoFunction,
  GoParam,
  goFunctions,
  MAX_VALUE_LENGTH,
  toGoValue,
  UNSUPPORTED_FUNCTIONS,
} from './goFunctions';
import {
  GoMap,
  GoTemplateError,
  GoValue,
  isGoMap,
  isTrue,
  kindOf,
  printValue,
  sprintValue,
  typeName,
} from './goValues';

/**
 * A subset of Go's text/template, enough for the templates Argo CD renders for ApplicationSets:
 * text and actions with trim markers and comments; fields, variables, literals, pipelines and
 * parenthesized pipelines; if / else if / else, with / else with, range (lists, maps, ints,
 * break and continue); variable declaration and assignment; the functions of `goFunctions`.
 * `define`, `template` and `block` are refused with that reason, as is any function Argo CD knows
 * that `goFunctions` does not evaluate.
 */

/** What `missingkey=` tells a template to do with a map key that is absent. */
export type MissingKey = 'default' | 'invalid' | 'zero' | 'error';

/** How much one execution may do before it is stopped, so a hostile template cannot stall. */
export const MAX_STEPS = 100_000;
/** How much one execution may write. */
export const MAX_OUTPUT = MAX_VALUE_LENGTH;
/** How deeply controls and parentheses may nest. */
const MAX_NESTING = 100;

/** Work shared by several executions (every string of an ApplicationSet), counted and limited. */
export interface TemplateBudget {
  /** Counts steps and written characters; throws when a limit is passed. */
  spend(steps: number, output: number): void;
}

type Operand =
  | { type: 'field'; names: string[] }
  | { type: 'dot' }
  | { type: 'variable'; name: string; names: string[] }
  | { type: 'identifier'; name: string }
  | { type: 'string'; value: string }
  | { type: 'number'; value: bigint | number }
  | { type: 'bool'; value: boolean }
  | { type: 'nil' }
  | { type: 'pipe'; pipe: Pipe; names: string[] };

interface Command {
  args: Operand[];
  text: string;
}

interface Pipe {
  decl: string[];
  assign: boolean;
  cmds: Command[];
}

interface ControlNode {
  type: 'if' | 'with' | 'range';
  pipe: Pipe;
  list: Node[];
  elseList?: Node[];
}

type Node =
  | { type: 'text'; text: string }
  | { type: 'action'; pipe: Pipe }
  | ControlNode
  | { type: 'break' | 'continue' };

// ---------------------------------------------------------------------------------------------
// Lexing: index-based scanning only, so that no input makes it slower than linear

type Token =
  | { type: 'text'; text: string }
  | { type: 'action'; items: Item[]; source: string };

type ItemKind =
  | 'field'
  | 'variable'
  | 'identifier'
  | 'string'
  | 'number'
  | 'dot'
  | 'pipe'
  | 'open'
  | 'close'
  | 'declare'
  | 'assign'
  | 'comma';

type Item =
  | { kind: 'number'; value: bigint | number; text: string; space: boolean }
  | {
      kind: Exclude<ItemKind, 'number'>;
      value: string;
      text: string;
      space: boolean;
    };

const isSpace = (c: string | undefined) =>
  c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isDigit = (c: string | undefined) =>
  c !== undefined && c >= '0' && c <= '9';
const isAlnum = (c: string | undefined) =>
  c !== undefined &&
  (/[A-Za-z0-9_]/.test(c) || (c > '\x7f' && /[\p{L}\p{Nd}]/u.test(c)));

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\u0007',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
};

/** Go's string and character escapes. */
function unquote(body: string, quote: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    if (e === quote) out += quote;
    else if (SIMPLE_ESCAPES[e] !== undefined) out += SIMPLE_ESCAPES[e];
    else if (e === 'x' || e === 'u' || e === 'U') {
      const length = { x: 2, u: 4, U: 8 }[e];
      const hex = body.slice(i + 1, i + 1 + length);
      if (hex.length !== length || !/^[0-9a-fA-F]+$/.test(hex))
        throw new GoTemplateError(`invalid syntax: bad escape \\${e}${hex}`);
      const code = parseInt(hex, 16);
      if (e !== 'x' && (code > 0x10ffff || (code >= 0xd800 && code < 0xe000)))
        throw new GoTemplateError(`invalid syntax: bad escape \\${e}${hex}`);
      out += String.fromCodePoint(code);
      i += length;
    } else if (e !== undefined && e >= '0' && e <= '7') {
      const octal = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(octal) || parseInt(octal, 8) > 255)
        throw new GoTemplateError(`invalid syntax: bad escape \\${octal}`);
      out += String.fromCharCode(parseInt(octal, 8));
      i += 2;
    } else throw new GoTemplateError(`invalid syntax: unknown escape \\${e}`);
  }
  return out;
}

const INT64_MAX = 2n ** 63n - 1n;

/** A Go number literal as a template constant: an int, unless it is written as a float. */
function numberConstant(text: string): bigint | number {
  const clean = text.replace(/_/g, '');
  const negative = clean.startsWith('-');
  const unsigned = clean.replace(/^[+-]/, '');
  let value: bigint | undefined;
  if (/^0[xX][0-9a-fA-F]+$/.test(unsigned) || /^0[bB][01]+$/.test(unsigned))
    value = BigInt(unsigned);
  else if (/^0[oO][0-7]+$/.test(unsigned))
    value = BigInt(`0o${unsigned.slice(2)}`);
  else if (/^0[0-7]+$/.test(unsigned)) value = BigInt(`0o${unsigned.slice(1)}`);
  else if (/^\d+$/.test(unsigned)) value = BigInt(unsigned);
  if (value !== undefined) {
    if (value > INT64_MAX + (negative ? 1n : 0n))
      throw new GoTemplateError(`${text} overflows int`);
    return negative ? -value : value;
  }
  if (/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(unsigned)) {
    const float = Number(unsigned);
    return negative ? -float : float;
  }
  throw new GoTemplateError(`bad number syntax: "${text}"`);
}

const NUMBER =
  /[+-]?(0[xXoObB][0-9a-fA-F_]+|[0-9_]*\.?[0-9_]*([eE][+-]?[0-9_]+)?)/y;

function lexAction(source: string): Item[] {
  const items: Item[] = [];
  let i = 0;
  let space = false;
  const push = (
    kind: ItemKind,
    value: string | bigint | number,
    text: string,
  ) => {
    items.push({ kind, value, text, space } as Item);
    space = false;
  };
  const single: Record<string, ItemKind> = {
    '|': 'pipe',
    '(': 'open',
    ')': 'close',
    ',': 'comma',
    '=': 'assign',
  };
  while (i < source.length) {
    const c = source[i];
    if (isSpace(c)) {
      space = true;
      i++;
    } else if (c === ':' && source[i + 1] === '=') {
      push('declare', ':=', ':=');
      i += 2;
    } else if (single[c]) {
      push(single[c], c, c);
      i++;
    } else if (c === '`') {
      const end = source.indexOf('`', i + 1);
      if (end < 0) throw new GoTemplateError('unterminated raw quoted string');
      push('string', source.slice(i + 1, end), source.slice(i, end + 1));
      i = end + 1;
    } else if (c === '"') {
      let end = -1;
      for (let j = i + 1; j < source.length; j++) {
        if (source[j] === '\\') j++;
        else if (source[j] === '"') {
          end = j;
          break;
        } else if (source[j] === '\n') break;
      }
      if (end < 0) throw new GoTemplateError('unterminated quoted string');
      push(
        'string',
        unquote(source.slice(i + 1, end), '"'),
        source.slice(i, end + 1),
      );
      i = end + 1;
    } else if (c === "'") {
      let end = i + 1;
      if (source[end] === '\\') {
        end += 2;
        while (end < source.length && source[end] !== "'" && end - i < 12)
          end++;
      } else {
        end += (source.codePointAt(end) ?? 0) > 0xffff ? 2 : 1;
      }
      if (source[end] !== "'")
        throw new GoTemplateError('unterminated character constant');
      const char = unquote(source.slice(i + 1, end), "'");
      if (Array.from(char).length !== 1)
        throw new GoTemplateError('malformed character constant');
      push('number', BigInt(char.codePointAt(0)!), source.slice(i, end + 1));
      i = end + 1;
    } else if (c === '$') {
      let j = i + 1;
      while (isAlnum(source[j])) j++;
      push('variable', source.slice(i, j), source.slice(i, j));
      i = j;
    } else if (
      isDigit(c) ||
      ((c === '-' || c === '+' || c === '.') && isDigit(source[i + 1]))
    ) {
      NUMBER.lastIndex = i;
      const match = NUMBER.exec(source)!;
      const end = i + match[0].length;
      if (isAlnum(source[end]) || source[end] === '.')
        throw new GoTemplateError(
          `bad number syntax: "${source.slice(i, end + 1)}"`,
        );
      push('number', numberConstant(match[0]), match[0]);
      i = end;
    } else if (c === '.') {
      let j = i + 1;
      while (isAlnum(source[j])) j++;
      if (j === i + 1) push('dot', '.', '.');
      else push('field', source.slice(i + 1, j), source.slice(i, j));
      i = j;
    } else if (isAlnum(c)) {
      let j = i;
      while (isAlnum(source[j])) j++;
      push('identifier', source.slice(i, j), source.slice(i, j));
      i = j;
    } else {
      throw new GoTemplateError(
        `unrecognized character in action: ${JSON.stringify(c)}`,
      );
    }
  }
  return items;
}

/** Where the action that starts at `inner` closes: the first `}}` outside quotes, or -1. */
function closingDelimiter(text: string, inner: number): number {
  for (let j = inner; j < text.length; j++) {
    const c = text[j];
    if (c === '"' || c === '`' || c === "'") {
      j++;
      while (j < text.length && text[j] !== c) {
        if (text[j] === '\\' && c !== '`') j++;
        j++;
      }
    } else if (c === '}' && text[j + 1] === '}') return j;
  }
  return -1;
}

function lex(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let trimNext = false;
  while (i <= text.length) {
    const start = text.indexOf('{{', i);
    let textStart = i;
    let textEnd = start < 0 ? text.length : start;
    if (trimNext)
      while (textStart < textEnd && isSpace(text[textStart])) textStart++;
    let inner = start + 2;
    if (start >= 0 && text[inner] === '-' && isSpace(text[inner + 1])) {
      while (textEnd > textStart && isSpace(text[textEnd - 1])) textEnd--;
      inner += 2;
    }
    if (textEnd > textStart)
      tokens.push({ type: 'text', text: text.slice(textStart, textEnd) });
    if (start < 0) break;
    trimNext = false;
    // A comment must sit right against its delimiters (or their trim markers).
    if (text.startsWith('/*', inner)) {
      const close = text.indexOf('*/', inner + 2);
      if (close < 0) throw new GoTemplateError('unclosed comment');
      let j = close + 2;
      if (
        isSpace(text[j]) &&
        text[j + 1] === '-' &&
        text.startsWith('}}', j + 2)
      ) {
        trimNext = true;
        j += 4;
      } else if (text.startsWith('}}', j)) j += 2;
      else throw new GoTemplateError('comment ends before closing delimiter');
      i = j;
      continue;
    }
    const end = closingDelimiter(text, inner);
    if (end < 0)
      throw new GoTemplateError(
        `unclosed action: ${text.slice(start, start + 40)}`,
      );
    let sourceEnd = end;
    if (end - 2 >= inner && isSpace(text[end - 2]) && text[end - 1] === '-') {
      trimNext = true;
      sourceEnd = end - 2;
    }
    tokens.push({
      type: 'action',
      items: lexAction(text.slice(inner, sourceEnd)),
      source: text.slice(start, end + 2),
    });
    i = end + 2;
  }
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Parsing

const KEYWORDS = new Set([
  'if',
  'else',
  'end',
  'range',
  'with',
  'break',
  'continue',
  'define',
  'template',
  'block',
]);

class Parser {
  private position = 0;
  private readonly variables: string[][] = [['$']];
  private rangeDepth = 0;
  private depth = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly functions: Record<string, GoFunction>,
  ) {}

  parse(): Node[] {
    const { list, end } = this.parseList();
    if (end) throw new GoTemplateError(`unexpected ${end.source}`);
    return list;
  }

  private nest<T>(source: string, work: () => T): T {
    if (++this.depth > MAX_NESTING)
      throw new GoTemplateError(
        `the template nests more than ${MAX_NESTING} levels deep at ${source}`,
      );
    try {
      return work();
    } finally {
      this.depth--;
    }
  }

  /** Nodes up to the end of the input, or up to an `else` or `end` action (returned). */
  private parseList(): {
    list: Node[];
    end?: { keyword: 'else' | 'end'; items: Item[]; source: string };
  } {
    const list: Node[] = [];
    while (this.position < this.tokens.length) {
      const token = this.tokens[this.position++];
      if (token.type === 'text') {
        list.push({ type: 'text', text: token.text });
        continue;
      }
      const [first, ...rest] = token.items;
      const keyword =
        first?.kind === 'identifier' && KEYWORDS.has(first.value)
          ? first.value
          : undefined;
      switch (keyword) {
        case 'end':
          if (rest.length > 0)
            throw new GoTemplateError(`unexpected ${token.source}`);
          return { list, end: { keyword, items: rest, source: token.source } };
        case 'else':
          return { list, end: { keyword, items: rest, source: token.source } };
        case 'if':
        case 'with':
        case 'range':
          list.push(this.parseControl(keyword, rest, token.source));
          break;
        case 'break':
        case 'continue':
          if (this.rangeDepth === 0)
            throw new GoTemplateError(
              `{{${keyword}}} outside {{range}}: ${token.source}`,
            );
          if (rest.length > 0)
            throw new GoTemplateError(`unexpected ${token.source}`);
          list.push({ type: keyword });
          break;
        case 'define':
        case 'template':
        case 'block':
          throw new GoTemplateError(
            `{{${keyword}}} is not supported: ${token.source}`,
          );
        default:
          if (token.items.length === 0)
            throw new GoTemplateError(
              `missing value for command: ${token.source}`,
            );
          list.push({
            type: 'action',
            pipe: this.parsePipe(token.items, token.source, 'command'),
          });
      }
    }
    return { list };
  }

  private parseControl(
    keyword: 'if' | 'with' | 'range',
    items: Item[],
    source: string,
  ): Node {
    return this.nest(source, () => {
      // Variables of the pipeline are seen by both branches, as in Go.
      this.variables.push([]);
      try {
        const pipe = this.parsePipe(items, source, keyword);
        if (keyword === 'range') this.rangeDepth++;
        const body = this.scoped(() => this.parseList());
        if (keyword === 'range') this.rangeDepth--;
        if (!body.end)
          throw new GoTemplateError(`unexpected EOF: unclosed ${source}`);
        const node: Node = { type: keyword, pipe, list: body.list };
        if (body.end.keyword === 'end') return node;
        const [next, ...rest] = body.end.items;
        if (
          next?.kind === 'identifier' &&
          next.value === keyword &&
          keyword !== 'range'
        ) {
          // {{else if ...}} and {{else with ...}} end at the same {{end}}.
          node.elseList = [this.parseControl(keyword, rest, body.end.source)];
          return node;
        }
        if (next) throw new GoTemplateError(`unexpected ${body.end.source}`);
        const otherwise = this.scoped(() => this.parseList());
        if (otherwise.end?.keyword !== 'end')
          throw new GoTemplateError(
            `expected {{end}} after {{else}} in ${source}`,
          );
        node.elseList = otherwise.list;
        return node;
      } finally {
        this.variables.pop();
      }
    });
  }

  private scoped<T>(work: () => T): T {
    this.variables.push([]);
    try {
      return work();
    } finally {
      this.variables.pop();
    }
  }

  private isDefined(name: string) {
    return this.variables.some(scope => scope.includes(name));
  }

  private parsePipe(items: Item[], source: string, context: string): Pipe {
    const pipe: Pipe = { decl: [], assign: false, cmds: [] };
    // Declarations: $x := ..., $x = ..., and in range, $i, $e := ...
    const declared: string[] = [];
    let j = 0;
    while (items[j]?.kind === 'variable') {
      declared.push(items[j].value as string);
      if (items[j + 1]?.kind === 'comma' && context === 'range') j += 2;
      else break;
    }
    const op = items[j + 1];
    let start = 0;
    if (
      declared.length > 0 &&
      (op?.kind === 'declare' || op?.kind === 'assign')
    ) {
      if (declared.length > 2 || (declared.length > 1 && context !== 'range'))
        throw new GoTemplateError(`too many declarations in ${source}`);
      pipe.assign = op.kind === 'assign';
      for (const name of declared) {
        if (pipe.assign && !this.isDefined(name))
          throw new GoTemplateError(
            `undefined variable "${name}" in ${source}`,
          );
      }
      pipe.decl = declared;
      start = j + 2;
    }
    let rest = items.slice(start);
    while (rest.length > 0) {
      let depth = 0;
      let end = -1;
      for (let k = 0; k < rest.length && end < 0; k++) {
        if (rest[k].kind === 'open') depth++;
        else if (rest[k].kind === 'close') depth--;
        else if (rest[k].kind === 'pipe' && depth === 0) end = k;
      }
      const part = end < 0 ? rest : rest.slice(0, end);
      if (part.length === 0)
        throw new GoTemplateError(`missing command in ${source}`);
      pipe.cmds.push({ args: this.parseOperands(part, source), text: source });
      rest = end < 0 ? [] : rest.slice(end + 1);
      if (end >= 0 && rest.length === 0)
        throw new GoTemplateError(`missing command after | in ${source}`);
    }
    if (pipe.cmds.length === 0)
      throw new GoTemplateError(`missing value for ${context} in ${source}`);
    if (!pipe.assign)
      this.variables[this.variables.length - 1].push(...pipe.decl);
    return pipe;
  }

  /** The operands of one command. */
  private parseOperands(items: Item[], source: string): Operand[] {
    const operands: Operand[] = [];
    let i = 0;
    while (i < items.length) {
      const item = items[i];
      if (i > 0 && !item.space)
        throw new GoTemplateError(
          `unexpected ${item.text} in operand: ${source}`,
        );
      let operand: Operand;
      if (item.kind === 'open') {
        let depth = 0;
        let close = -1;
        for (let j = i; j < items.length && close < 0; j++) {
          if (items[j].kind === 'open') depth++;
          if (items[j].kind === 'close' && --depth === 0) close = j;
        }
        if (close < 0)
          throw new GoTemplateError(`unclosed left paren in ${source}`);
        const inner = items.slice(i + 1, close);
        operand = {
          type: 'pipe',
          pipe: this.nest(source, () =>
            this.parsePipe(inner, source, 'parenthesized pipeline'),
          ),
          names: [],
        };
        i = close + 1;
      } else {
        i++;
        operand = this.operand(item, source);
      }
      // Fields chained right after a term: .a.b, $x.a, (pipe).a
      while (items[i]?.kind === 'field' && !items[i].space) {
        const name = items[i++].value as string;
        if (
          operand.type === 'field' ||
          operand.type === 'variable' ||
          operand.type === 'pipe'
        )
          operand.names.push(name);
        else throw new GoTemplateError(`unexpected . after term in ${source}`);
      }
      operands.push(operand);
    }
    return operands;
  }

  private operand(item: Item, source: string): Operand {
    switch (item.kind) {
      case 'field':
        return { type: 'field', names: [item.value] };
      case 'dot':
        return { type: 'dot' };
      case 'variable':
        if (!this.isDefined(item.value))
          throw new GoTemplateError(
            `undefined variable "${item.value}" in ${source}`,
          );
        return { type: 'variable', name: item.value, names: [] };
      case 'string':
        return { type: 'string', value: item.value };
      case 'number':
        return { type: 'number', value: item.value };
      case 'identifier':
        if (item.value === 'true' || item.value === 'false')
          return { type: 'bool', value: item.value === 'true' };
        if (item.value === 'nil') return { type: 'nil' };
        if (KEYWORDS.has(item.value))
          throw new GoTemplateError(`unexpected "${item.value}" in ${source}`);
        if (Object.hasOwn(this.functions, item.value))
          return { type: 'identifier', name: item.value };
        if (UNSUPPORTED_FUNCTIONS.has(item.value))
          throw new GoTemplateError(
            `function "${item.value}" is not supported: ${source}`,
          );
        throw new GoTemplateError(
          `function "${item.value}" not defined: ${source}`,
        );
      default:
        throw new GoTemplateError(`unexpected "${item.text}" in ${source}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Executing

class BreakSignal {}
class ContinueSignal {}

const NO_FINAL = Symbol('no final value');
type Final = GoValue | typeof NO_FINAL;

const GO_TYPES: Record<GoParam, string> = {
  any: 'interface {}',
  string: 'string',
  int: 'int',
  bool: 'bool',
  map: 'map[string]interface {}',
};

/** Go's validateType: a value handed to a typed parameter must be of that type. */
function checkArgument(value: GoValue, param: GoParam): GoValue {
  if (param === 'any') return value;
  if (value === undefined || (value === null && param === 'map')) {
    if (param === 'map') return null;
    throw new GoTemplateError(`invalid value; expected ${GO_TYPES[param]}`);
  }
  const matches = {
    string: typeof value === 'string',
    int: typeof value === 'bigint',
    bool: typeof value === 'boolean',
    map: isGoMap(value),
  }[param];
  if (!matches)
    throw new GoTemplateError(
      `wrong type for value; expected ${GO_TYPES[param]}; got ${typeName(
        value,
      )}`,
    );
  return value;
}

class Execution implements FunctionContext {
  private steps = 0;
  private output = '';
  private readonly variables: Array<{ name: string; value: GoValue }>;

  constructor(
    private readonly data: GoValue,
    private readonly missingKey: MissingKey,
    private readonly functions: Record<string, GoFunction>,
    private readonly budget: TemplateBudget | undefined,
  ) {
    this.variables = [{ name: '$', value: data }];
  }

  run(nodes: Node[]): string {
    this.walkList(this.data, nodes);
    return this.output;
  }

  charge(units: number) {
    this.steps += units;
    this.budget?.spend(units, 0);
    if (this.steps > MAX_STEPS)
      throw new GoTemplateError(
        `the template takes more than ${MAX_STEPS} steps`,
      );
  }

  private write(text: string) {
    this.output += text;
    this.budget?.spend(0, text.length);
    if (this.output.length > MAX_OUTPUT)
      throw new GoTemplateError(
        `the template writes more than ${MAX_OUTPUT} characters`,
      );
  }

  private walkList(dot: GoValue, nodes: Node[]) {
    for (const node of nodes) this.walk(dot, node);
  }

  private scoped(work: () => void) {
    const mark = this.variables.length;
    try {
      work();
    } finally {
      this.variables.length = mark;
    }
  }

  private walk(dot: GoValue, node: Node) {
    this.charge(1);
    switch (node.type) {
      case 'text':
        this.write(node.text);
        return;
      case 'action': {
        const value = this.evalPipe(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.write(printValue(value));
        return;
      }
      case 'if':
      case 'with':
        this.scoped(() => {
          const value = this.evalPipe(dot, node.pipe);
          if (isTrue(value)) {
            this.walkList(node.type === 'with' ? value : dot, node.list);
          } else if (node.elseList) {
            this.walkList(dot, node.elseList);
          }
        });
        return;
      case 'range':
        this.scoped(() => this.walkRange(dot, node));
        return;
      case 'break':
        throw new BreakSignal();
      case 'continue':
        throw new ContinueSignal();
      default:
    }
  }

  private walkRange(dot: GoValue, node: ControlNode) {
    const value = this.evalCommands(dot, node.pipe);
    const { decl } = node.pipe;
    const entries: Array<[GoValue, GoValue]> = [];
    switch (kindOf(value)) {
      case 'slice':
        (value as GoValue[]).forEach((item, i) =>
          entries.push([BigInt(i), item]),
        );
        break;
      case 'map': {
        const map = value as GoMap;
        for (const key of Object.keys(map).sort())
          entries.push([key, map[key]]);
        break;
      }
      case 'int': {
        const count = value as bigint;
        if (decl.length > 1)
          throw new GoTemplateError(
            `can't use ${count} to iterate over more than one variable`,
          );
        if (count > BigInt(MAX_STEPS))
          throw new GoTemplateError(
            `range over ${count} takes more than ${MAX_STEPS} steps`,
          );
        for (let i = 0n; i < count; i++) entries.push([i, i]);
        break;
      }
      case 'invalid':
      case 'nil':
        break;
      default:
        throw new GoTemplateError(
          `range can't iterate over ${sprintValue(value)}`,
        );
    }
    if (entries.length === 0) {
      if (node.elseList) this.walkList(dot, node.elseList);
      return;
    }
    const mark = this.variables.length;
    for (const [key, item] of entries) {
      this.charge(1);
      this.variables.length = mark;
      const bound = decl.length === 2 ? [key, item] : [item];
      decl.forEach((name, i) => this.bind(name, bound[i], node.pipe.assign));
      try {
        this.walkList(item, node.list);
      } catch (signal) {
        if (signal instanceof BreakSignal) break;
        if (signal instanceof ContinueSignal) continue;
        throw signal;
      }
    }
  }

  private bind(name: string, value: GoValue, assign: boolean) {
    if (!assign) {
      this.variables.push({ name, value });
      return;
    }
    for (let i = this.variables.length - 1; i >= 0; i--) {
      if (this.variables[i].name === name) {
        this.variables[i].value = value;
        return;
      }
    }
    throw new GoTemplateError(`undefined variable: ${name}`);
  }

  private lookup(name: string): GoValue {
    for (let i = this.variables.length - 1; i >= 0; i--) {
      if (this.variables[i].name === name) return this.variables[i].value;
    }
    throw new GoTemplateError(`undefined variable: ${name}`);
  }

  /** A pipeline's value, without binding its variables. */
  private evalCommands(dot: GoValue, pipe: Pipe): GoValue {
    let value: Final = NO_FINAL;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, value);
      // A nil inside an interface is no value at all, as Go's pipelines see it.
      if (value === null) value = undefined;
    }
    return value as GoValue;
  }

  private evalPipe(dot: GoValue, pipe: Pipe): GoValue {
    const value = this.evalCommands(dot, pipe);
    for (const name of pipe.decl) this.bind(name, value, pipe.assign);
    return value;
  }

  private evalCommand(dot: GoValue, cmd: Command, final: Final): GoValue {
    this.charge(1);
    const [first, ...rest] = cmd.args;
    const noArguments = () => {
      if (rest.length > 0 || final !== NO_FINAL)
        throw new GoTemplateError(
          `can't give argument to non-function ${describe(first)} in ${
            cmd.text
          }`,
        );
    };
    if (first.type === 'identifier')
      return this.call(dot, first.name, rest, final, cmd.text);
    if (first.type === 'nil')
      throw new GoTemplateError(`nil is not a command in ${cmd.text}`);
    noArguments();
    return this.evalArg(dot, first, cmd.text);
  }

  private evalArg(dot: GoValue, arg: Operand, text: string): GoValue {
    switch (arg.type) {
      case 'dot':
        return dot;
      case 'field':
        return this.fields(dot, arg.names, text);
      case 'variable':
        return this.fields(this.lookup(arg.name), arg.names, text);
      case 'pipe': {
        const value = this.evalPipe(dot, arg.pipe);
        return arg.names.length > 0
          ? this.fields(value, arg.names, text)
          : value;
      }
      case 'identifier':
        return this.call(dot, arg.name, [], NO_FINAL, text);
      case 'string':
      case 'number':
      case 'bool':
        return arg.value;
      default:
        return null;
    }
  }

  /** `.a.b` on a receiver: map keys, with `missingkey` deciding about absent ones. */
  private fields(receiver: GoValue, names: string[], text: string): GoValue {
    let value = receiver;
    for (const name of names) {
      if (value === undefined) {
        if (this.missingKey === 'error')
          throw new GoTemplateError(
            `nil data; no entry for key "${name}" in ${text}`,
          );
        return undefined;
      }
      if (value === null)
        throw new GoTemplateError(
          `nil pointer evaluating interface {}.${name} in ${text}`,
        );
      if (!isGoMap(value))
        throw new GoTemplateError(
          `can't evaluate field ${name} in type ${typeName(value)} in ${text}`,
        );
      if (Object.hasOwn(value, name)) value = value[name];
      else if (this.missingKey === 'error')
        throw new GoTemplateError(
          `map has no entry for key "${name}" in ${text}`,
        );
      else value = this.missingKey === 'zero' ? null : undefined;
    }
    return value;
  }

  private call(
    dot: GoValue,
    name: string,
    args: Operand[],
    final: Final,
    text: string,
  ): GoValue {
    const fn = this.functions[name];
    const thunks: Array<() => GoValue> = args.map(
      arg => () => this.evalArg(dot, arg, text),
    );
    if (final !== NO_FINAL) thunks.push(() => final);
    const count = thunks.length;
    const fixed = fn.params.length;
    if (fn.variadic ? count < fixed : count !== fixed)
      throw new GoTemplateError(
        `wrong number of args for ${name}: want ${
          fn.variadic ? 'at least ' : ''
        }${fixed} got ${count} in ${text}`,
      );
    if (name === 'and' || name === 'or') {
      // Go's and / or stop at the first argument that decides, and return it.
      let value: GoValue = undefined;
      for (const thunk of thunks) {
        value = thunk();
        if (isTrue(value) === (name === 'or')) return value;
      }
      return value;
    }
    const values = thunks.map((thunk, i) => {
      try {
        return checkArgument(thunk(), fn.params[i] ?? fn.variadic!);
      } catch (error) {
        if (error instanceof GoTemplateError && !/ in \{\{/.test(error.message))
          throw new GoTemplateError(`${error.message} in ${text}`);
        throw error;
      }
    });
    let result: GoValue;
    try {
      result = fn.call(values, this);
    } catch (error) {
      if (error instanceof GoTemplateError)
        throw new GoTemplateError(
          `error calling ${name}: ${error.message} in ${text}`,
        );
      if (error instanceof RangeError)
        throw new GoTemplateError(
          `error calling ${name}: the value nests too deeply in ${text}`,
        );
      throw error;
    }
    if (typeof result === 'string') {
      this.charge(result.length >> 8);
      if (result.length > MAX_VALUE_LENGTH)
        throw new GoTemplateError(
          `${name} returns more than ${MAX_VALUE_LENGTH} characters in ${text}`,
        );
    }
    return result;
  }
}

function describe(operand: Operand): string {
  switch (operand.type) {
    case 'field':
      return `.${operand.names.join('.')}`;
    case 'variable':
      return [operand.name, ...operand.names].join('.');
    case 'string':
      return JSON.stringify(operand.value);
    case 'number':
    case 'bool':
      return String(operand.value);
    case 'dot':
      return '.';
    default:
      return operand.type;
  }
}

/** How one execution runs. */
export interface ExecuteOptions {
  missingKey?: MissingKey;
  /** Counts this execution's work together with others'. */
  budget?: TemplateBudget;
}

/** A parsed Go template, executed on data as Go's text/template does. */
export interface GoTemplate {
  execute(data: unknown, options?: ExecuteOptions): string;
}

/**
 * Parses a Go template (Go's text/template, with Sprig's functions and Argo CD's); throws a
 * `GoTemplateError` naming what it cannot parse.
 */
export function parseGoTemplate(text: string): GoTemplate {
  let nodes: Node[];
  try {
    nodes = new Parser(lex(text), goFunctions).parse();
  } catch (error) {
    if (error instanceof GoTemplateError) throw error;
    if (error instanceof RangeError)
      throw new GoTemplateError('the template nests too deeply');
    throw error;
  }
  return {
    execute: (data, options = {}) => {
      try {
        return new Execution(
          toGoValue(data),
          options.missingKey ?? 'default',
          goFunctions,
          options.budget,
        ).run(nodes);
      } catch (error) {
        if (error instanceof RangeError)
          throw new GoTemplateError(
            'the template or its data nests too deeply',
          );
        throw error;
      }
    },
  };
}
