import { isDeepStrictEqual } from 'node:util';
import { InputError } from '@backstage/errors';
import {
  Document,
  isAlias,
  isCollection,
  isMap,
  isScalar,
  isSeq,
  Node,
  parse,
  parseAllDocuments,
  Scalar,
  visit,
  YAMLMap,
  YAMLSeq,
} from 'yaml';

/** A value to write where there was none: a scalar (its `type` says how it is quoted), a map or a list. */
export type NewValue = Scalar | NewValue[] | { [key: string]: NewValue };

/** A scalar written double-quoted, as a version is when it is written for the first time. */
export const quoted = (value: string) =>
  Object.assign(new Scalar(value), { type: Scalar.QUOTE_DOUBLE });
/** A scalar written plain when it reads back as itself, double-quoted otherwise. */
export const plain = (value: string) =>
  Object.assign(new Scalar(value), { type: Scalar.PLAIN });

interface Splice {
  start: number;
  end: number;
  text: string;
}

const parses = (value: string, version: '1.1' | '1.2') => {
  try {
    return parse(value, { version }) === value;
  } catch {
    return false;
  }
};

/**
 * Whether a string written plain reads back as that string, for YAML 1.2 and for the YAML 1.1
 * readers Kubernetes tools still use (`on`, `1:20`).
 */
function readsBackPlain(value: string, inFlow: boolean) {
  return (
    value !== '' &&
    !/^\s|\s$|[\n\r\t]|: | #/.test(value) &&
    !(inFlow && /[,[\]{}]/.test(value)) &&
    parses(value, '1.2') &&
    parses(value, '1.1')
  );
}

const pad = (column: number) => ' '.repeat(column);

const toPlainValue = (value: NewValue): unknown => {
  if (value instanceof Scalar) return value.value;
  if (Array.isArray(value)) return value.map(toPlainValue);
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, toPlainValue(v)]),
  );
};

/**
 * A YAML file changed in place: the nodes to change are found through the parsed documents, and
 * only their bytes in the original text are replaced, or lines inserted beside them with the
 * indentation the file uses. Comments, key order, quoting, blank lines, document markers, line
 * endings and a missing final newline all stay as they were. Every change is also made to the
 * parsed documents, and the edited text must read back as exactly those: otherwise nothing is
 * written.
 */
export class YamlFileEdit {
  readonly documents: Document.Parsed[];
  private readonly splices: Splice[] = [];
  private readonly eol: string;
  private readonly aliased = new Set<string>();

  constructor(readonly file: string, readonly source: string) {
    const documents = parseAllDocuments(source, { keepSourceTokens: true });
    if (!Array.isArray(documents) || documents.some(d => d.errors.length)) {
      throw new InputError(`${file} is not valid YAML; nothing was changed`);
    }
    this.documents = documents as Document.Parsed[];
    this.eol = source.includes('\r\n') ? '\r\n' : '\n';
    for (const doc of this.documents) {
      visit(doc, {
        Alias: (_, alias) => {
          this.aliased.add(alias.source);
        },
      });
    }
  }

  /** Whether anything was changed. */
  get changed() {
    return this.splices.length > 0;
  }

  /**
   * Refuses a node that is an alias, or that lies inside a node other places use through an
   * alias: changing it would silently change every use of the anchor.
   */
  refuseShared(path: unknown[], what: string) {
    for (const node of path) {
      if (isAlias(node)) {
        throw new InputError(
          `${this.file}: ${what} is reached through the alias *${node.source}; set it where the anchor &${node.source} is, or write it out, and promote again: nothing was changed`,
        );
      }
      const anchor = (node as { anchor?: string } | undefined)?.anchor;
      if (anchor && this.aliased.has(anchor)) {
        throw new InputError(
          `${this.file}: ${what} lies in &${anchor}, which other places use through *${anchor}; changing it would change them all: nothing was changed`,
        );
      }
    }
  }

  /** Replaces a scalar's value, keeping its quoting style (a plain one is quoted only if it must be). */
  setScalar(node: Scalar, value: string, inFlow: boolean, what: string) {
    if (!node.range) {
      throw new InputError(`${this.file}: ${what} cannot be located`);
    }
    let text: string;
    switch (node.type) {
      case Scalar.QUOTE_SINGLE:
        text = `'${value.replace(/'/g, "''")}'`;
        break;
      case Scalar.QUOTE_DOUBLE:
        text = JSON.stringify(value);
        break;
      case Scalar.PLAIN:
        text = readsBackPlain(value, inFlow) ? value : JSON.stringify(value);
        break;
      default:
        throw new InputError(
          `${this.file}: ${what} is a block scalar (| or >); write it on one line to promote it: nothing was changed`,
        );
    }
    const [start, end] = node.range;
    // An empty value (`tag:`) is written after its key's colon.
    if (start === end && this.source[start - 1] === ':') text = ` ${text}`;
    if (this.source.slice(start, end) !== text) {
      this.splices.push({ start, end, text });
    }
    node.value = value;
  }

  /**
   * Replaces the value of a literal block scalar (`|`, `|-`, `|+`) line by line: only the lines
   * that differ are written again, at the block's own indentation.
   */
  setBlockLiteral(node: Scalar, value: string, what: string) {
    const header = node.range
      ? /^\|[-+]?[ \t]*(?:#[^\n]*)?\r?\n/.exec(
          this.source.slice(node.range[0], node.range[1]),
        )
      : null;
    if (node.type !== Scalar.BLOCK_LITERAL || !node.range || !header) {
      throw new InputError(
        `${this.file}: ${what} is not a literal block (|) without an indentation indicator, so it cannot be changed line by line: nothing was changed`,
      );
    }
    const bodyStart = node.range[0] + header[0].length;
    // Where each line of the block starts, and where the block ends.
    const starts = [bodyStart];
    for (let at = bodyStart; at < node.range[1]; ) {
      const newline = this.source.indexOf('\n', at);
      if (newline < 0 || newline + 1 >= node.range[1]) break;
      starts.push((at = newline + 1));
    }
    const lineOf = (i: number) =>
      this.source
        .slice(starts[i], starts[i + 1] ?? node.range![1])
        .replace(/\r?\n$/, '');
    const indent = /^ */.exec(
      starts.map((_, i) => lineOf(i)).find(line => line.trim()) ?? '',
    )![0].length;
    const before = String(node.value).split('\n');
    const after = value.split('\n');
    let first = 0;
    while (
      first < before.length &&
      first < after.length &&
      before[first] === after[first]
    )
      first++;
    let last = 0;
    while (
      last < before.length - first &&
      last < after.length - first &&
      before[before.length - 1 - last] === after[after.length - 1 - last]
    )
      last++;
    if (first === before.length && first === after.length) return;
    const end = before.length - last;
    for (let i = first; i < end; i++) {
      const line = i < starts.length ? lineOf(i) : undefined;
      if (
        line === undefined ||
        (line !== `${pad(indent)}${before[i]}` && (before[i] || line.trim()))
      ) {
        throw new InputError(
          `${this.file}: the lines of ${what} cannot be located: nothing was changed`,
        );
      }
    }
    const lines = after
      .slice(first, after.length - last)
      .map(line => (line ? `${pad(indent)}${line}` : ''));
    const start = first < starts.length ? starts[first] : node.range[1];
    const stop = end < starts.length ? starts[end] : node.range[1];
    const text = lines.map(line => `${line}${this.eol}`).join('');
    this.splices.push({ start, end: stop, text });
    node.value = value;
  }

  /** Gives a key written with an empty value (`images:`) a map or a list, under it or inside `{}`. */
  fillEmpty(map: YAMLMap, key: string, value: NewValue, inFlow: boolean) {
    const node = map.get(key, true);
    if (
      !isScalar(node) ||
      node.value !== null ||
      !node.range ||
      node.range[0] !== node.range[1]
    ) {
      throw new InputError(
        `${this.file}: ${key} is written as a value, not left empty, so nothing can be put under it in place; leave it empty or write the keys under it: nothing was changed`,
      );
    }
    const at = node.range[0];
    if (inFlow || map.flow || value instanceof Scalar) {
      const text = this.flowValue(value);
      this.insertAt(at, this.source[at - 1] === ':' ? ` ${text}` : text);
    } else {
      const keyNode = map.items.find(p => p.value === node)?.key as Node;
      const column = this.columnOf(keyNode.range![0]);
      this.insertLines(at, this.blockPair(key, value, column).slice(1));
    }
    map.set(key, this.documents[0].createNode(toPlainValue(value)));
  }

  /** Writes the first keys of a file that holds nothing yet (empty, or only comments). */
  addToEmptyFile(contents: { [key: string]: NewValue }) {
    const lines = Object.entries(contents).flatMap(([key, value]) =>
      this.blockPair(key, value, 0),
    );
    const newline = this.source === '' || this.source.endsWith('\n');
    this.insertAt(
      this.source.length,
      `${newline ? '' : this.eol}${lines.join(this.eol)}${this.eol}`,
    );
    const values = toPlainValue(contents);
    if (this.documents.length === 0) {
      this.documents.push(new Document(values) as Document.Parsed);
    } else {
      this.documents[0].contents = this.documents[0].createNode(
        values,
      ) as Document.Parsed['contents'];
    }
  }

  /** Whether the file holds no value at all: empty, only comments, or an empty document. */
  get empty() {
    return this.documents.every(
      d =>
        d.contents === null ||
        (isScalar(d.contents) && d.contents.value === null),
    );
  }

  /** Adds a key at the end of a map, on lines of its own at the map's indentation (or inside `{}`). */
  addPair(map: YAMLMap, key: string, value: NewValue) {
    const items = map.items.filter(p => (p.key as Node | null)?.range);
    if (map.flow) {
      const text = `${key}: ${this.flowValue(value)}`;
      const last = items[items.length - 1];
      if (last) this.insertAt(this.endOf(last), `, ${text}`);
      else this.insertAt(this.openingOf(map, '{') + 1, text);
    } else {
      const first = items[0]?.key as Node | undefined;
      if (!first?.range) {
        throw new InputError(
          `${this.file}: cannot add ${key} to an empty map in place: nothing was changed`,
        );
      }
      const column = this.columnOf(first.range[0]);
      this.insertLines(
        this.endOf(items[items.length - 1]),
        this.blockPair(key, value, column),
      );
    }
    map.set(key, this.documents[0].createNode(toPlainValue(value)));
  }

  /** Appends an entry to a list, as a line of its own at the list's indentation (or inside `[]`). */
  appendItem(seq: YAMLSeq, value: NewValue) {
    const items = seq.items.filter(i => (i as Node).range) as Node[];
    if (seq.flow) {
      const text = this.flowValue(value);
      const last = items[items.length - 1];
      if (last) this.insertAt(last.range![1], `, ${text}`);
      else this.insertAt(this.openingOf(seq, '[') + 1, text);
    } else {
      if (!seq.range || items.length === 0) {
        throw new InputError(
          `${this.file}: cannot add to an empty list in place: nothing was changed`,
        );
      }
      const dash = this.columnOf(seq.range[0]);
      const firstStart = items[0].range![0];
      const sameLine =
        this.lineStart(firstStart) === this.lineStart(seq.range[0]);
      const itemIndent = sameLine ? this.columnOf(firstStart) - dash : 2;
      this.insertLines(
        this.endOf(items[items.length - 1]),
        this.blockItem(value, dash, itemIndent),
      );
    }
    seq.items.push(this.documents[0].createNode(toPlainValue(value)));
  }

  /** Removes a key of a map with the lines it takes. */
  removePair(map: YAMLMap, key: string, what: string) {
    const index = map.items.findIndex(
      p => isScalar(p.key) && String(p.key.value) === key,
    );
    if (index < 0) return;
    const pair = map.items[index];
    const keyStart = (pair.key as Node).range?.[0];
    if (keyStart === undefined) return;
    const next = map.items[index + 1]?.key as Node | undefined;
    const previous = map.items[index - 1];
    if (map.flow) {
      if (previous) {
        this.splices.push({
          start: this.endOf(previous),
          end: this.endOf(pair),
          text: '',
        });
      } else {
        this.splices.push({
          start: keyStart,
          end: next?.range?.[0] ?? this.endOf(pair),
          text: '',
        });
      }
    } else if (
      /^[ \t]*$/.test(this.source.slice(this.lineStart(keyStart), keyStart))
    ) {
      this.splices.push({
        start: this.lineStart(keyStart),
        end: this.lineEndAfter(this.endOf(pair)),
        text: '',
      });
    } else if (next?.range) {
      // The first key after a list's dash: the next key moves up beside the dash.
      this.splices.push({ start: keyStart, end: next.range[0], text: '' });
    } else {
      throw new InputError(
        `${this.file}: ${what} is the only key of its entry and cannot be removed in place: nothing was changed`,
      );
    }
    map.delete(key);
  }

  /** The edited text, once it is proven to read as the changed documents; the original when unchanged. */
  toString(): string {
    if (!this.changed) return this.source;
    const splices = this.splices
      .map((s, order) => ({ ...s, order }))
      .sort((a, b) => a.start - b.start || a.order - b.order);
    let text = '';
    let at = 0;
    for (const splice of splices) {
      if (splice.start < at) {
        throw new InputError(
          `${this.file}: the changes overlap and cannot be made in place: nothing was changed`,
        );
      }
      text += this.source.slice(at, splice.start) + splice.text;
      at = splice.end;
    }
    text += this.source.slice(at);
    const reread = parseAllDocuments(text);
    if (
      !Array.isArray(reread) ||
      reread.some(d => d.errors.length) ||
      !isDeepStrictEqual(
        reread.map(d => d.toJS()),
        this.documents.map(d => d.toJS()),
      )
    ) {
      throw new InputError(
        `${this.file} cannot be changed in place without changing more than its version: nothing was changed`,
      );
    }
    return text;
  }

  private insertAt(offset: number, text: string) {
    this.splices.push({ start: offset, end: offset, text });
  }

  /** Inserts whole lines after the line holding `offset`, with the file's line endings. */
  private insertLines(offset: number, lines: string[]) {
    const at = this.lineEndAfter(offset);
    const body = lines.join(this.eol);
    if (at === this.source.length && !this.source.endsWith('\n')) {
      // The file ends without a newline, and keeps ending without one.
      this.insertAt(at, `${this.eol}${body}`);
    } else this.insertAt(at, `${body}${this.eol}`);
  }

  private lineStart(offset: number) {
    return this.source.lastIndexOf('\n', offset - 1) + 1;
  }

  private columnOf(offset: number) {
    return offset - this.lineStart(offset);
  }

  /** The start of the line after the one `offset` is on (the end of text if there is none). */
  private lineEndAfter(offset: number) {
    if (offset > 0 && this.source[offset - 1] === '\n') return offset;
    const newline = this.source.indexOf('\n', offset);
    return newline < 0 ? this.source.length : newline + 1;
  }

  /** Where a node's last value ends in the text (before comments and blank lines after it). */
  private endOf(node: unknown): number {
    if (node && typeof node === 'object' && 'key' in node) {
      const pair = node as { key: unknown; value: unknown };
      const value = pair.value as Node | null;
      return value?.range ? this.endOf(value) : this.endOf(pair.key);
    }
    if (isCollection(node) && !node.flow) {
      const items = node.items.filter(
        i => (i as Node).range || (i as { key?: Node }).key?.range,
      );
      if (items.length) return this.endOf(items[items.length - 1]);
    }
    return (node as Node).range![1];
  }

  private openingOf(node: YAMLMap | YAMLSeq, bracket: string) {
    const at = node.range ? this.source.indexOf(bracket, node.range[0]) : -1;
    if (at < 0) {
      throw new InputError(
        `${this.file}: cannot locate a flow collection: nothing was changed`,
      );
    }
    return at;
  }

  /** The indentation of a block list under its key, and of a map under its key, in this file. */
  private indents() {
    const found: { seq?: number; map?: number } = {};
    for (const doc of this.documents) {
      visit(doc, {
        Pair: (_, pair) => {
          const key = pair.key as Node | null;
          const value = pair.value as Node | null;
          if (!key?.range || !value?.range || !isCollection(value)) return;
          if (value.flow) return;
          const step =
            this.columnOf(value.range[0]) - this.columnOf(key.range[0]);
          if (isSeq(value)) found.seq ??= step;
          if (isMap(value) && step > 0) found.map ??= step;
        },
      });
    }
    return { seq: found.seq ?? 2, map: found.map ?? 2 };
  }

  private scalarText(scalar: Scalar, inFlow: boolean) {
    const value = String(scalar.value);
    return scalar.type === Scalar.QUOTE_DOUBLE || !readsBackPlain(value, inFlow)
      ? JSON.stringify(value)
      : value;
  }

  private flowValue(value: NewValue): string {
    if (value instanceof Scalar) return this.scalarText(value, true);
    if (Array.isArray(value)) {
      return `[${value.map(v => this.flowValue(v)).join(', ')}]`;
    }
    return `{${Object.entries(value)
      .map(([k, v]) => `${k}: ${this.flowValue(v)}`)
      .join(', ')}}`;
  }

  private blockPair(key: string, value: NewValue, column: number): string[] {
    if (value instanceof Scalar) {
      return [`${pad(column)}${key}: ${this.scalarText(value, false)}`];
    }
    const indents = this.indents();
    if (Array.isArray(value)) {
      return [
        `${pad(column)}${key}:`,
        ...value.flatMap(item => this.blockItem(item, column + indents.seq, 2)),
      ];
    }
    return [
      `${pad(column)}${key}:`,
      ...Object.entries(value).flatMap(([k, v]) =>
        this.blockPair(k, v, column + indents.map),
      ),
    ];
  }

  private blockItem(value: NewValue, dash: number, itemIndent: number) {
    if (value instanceof Scalar || Array.isArray(value)) {
      return [`${pad(dash)}- ${this.flowValue(value)}`];
    }
    const lines = Object.entries(value).flatMap(([k, v]) =>
      this.blockPair(k, v, dash + itemIndent),
    );
    lines[0] = `${pad(dash)}-${pad(itemIndent - 1)}${lines[0].trimStart()}`;
    return lines;
  }
}
