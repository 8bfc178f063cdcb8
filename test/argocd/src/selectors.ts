/**
 * Kubernetes label selectors as `k8s.io/apimachinery/pkg/labels.Parse` reads them, which both
 * Argo CD (`selector`) and the Kubernetes API (`labelSelector`) use: comma-separated
 * requirements `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, `k>1`, `k<1`.
 */

export type SelectorOperator =
  | '='
  | '!='
  | 'in'
  | 'notin'
  | 'exists'
  | '!'
  | 'gt'
  | 'lt';

/** One requirement of a selector; all of them must hold. */
export interface SelectorRequirement {
  key: string;
  operator: SelectorOperator;
  values: string[];
}

/** A selector Kubernetes would refuse, with a message in the words of its parser. */
export class SelectorError extends Error {}

const SPECIAL = new Set(['!', '=', '(', ')', ',', '<', '>']);
const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN =
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

type Token = { kind: 'identifier' | 'symbol' | 'end'; text: string };

function tokens(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i];
    if (/\s/.test(char)) {
      i++;
    } else if (SPECIAL.has(char)) {
      const pair = text.slice(i, i + 2);
      const symbol = pair === '!=' || pair === '==' ? pair : char;
      out.push({ kind: 'symbol', text: symbol });
      i += symbol.length;
    } else {
      let end = i;
      while (
        end < text.length &&
        !SPECIAL.has(text[end]) &&
        !/\s/.test(text[end])
      )
        end++;
      out.push({ kind: 'identifier', text: text.slice(i, end) });
      i = end;
    }
  }
  out.push({ kind: 'end', text: '' });
  return out;
}

function checkKey(key: string) {
  const [prefix, name, ...rest] = key.includes('/')
    ? key.split('/')
    : ['', key];
  const valid =
    rest.length === 0 &&
    name.length <= 63 &&
    NAME.test(name) &&
    (prefix === '' || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix)));
  if (!valid)
    throw new SelectorError(
      `unable to parse requirement: invalid label key "${key}"`,
    );
}

function checkValue(value: string) {
  if (value !== '' && (value.length > 63 || !NAME.test(value)))
    throw new SelectorError(
      `unable to parse requirement: invalid label value: "${value}"`,
    );
}

/** Reads a selector; an empty one selects everything. Throws a SelectorError when it is malformed. */
export function parseSelector(text: string): SelectorRequirement[] {
  const list = tokens(text);
  let at = 0;
  const peek = () => list[at];
  const next = () => list[at++];
  const found = (token: Token, expected: string) =>
    new SelectorError(`found '${token.text}', expected: ${expected}`);

  const requirement = (): SelectorRequirement => {
    let operator: SelectorOperator = 'exists';
    if (peek().text === '!' && peek().kind === 'symbol') {
      next();
      operator = '!';
    }
    const keyToken = next();
    if (keyToken.kind !== 'identifier') throw found(keyToken, 'identifier');
    checkKey(keyToken.text);
    const key = keyToken.text;
    if (operator === '!' || peek().text === ',' || peek().kind === 'end')
      return { key, operator, values: [] };

    const opToken = next();
    const operators: Record<string, SelectorOperator> = {
      in: 'in',
      notin: 'notin',
      '=': '=',
      '==': '=',
      '!=': '!=',
      '>': 'gt',
      '<': 'lt',
    };
    operator = operators[opToken.text];
    if (!operator) throw found(opToken, 'in, notin, =, ==, !=, gt, lt');

    if (operator === 'in' || operator === 'notin') {
      const open = next();
      if (open.text !== '(') throw found(open, "'('");
      const values: string[] = [];
      while (peek().text !== ')') {
        const value = next();
        if (value.kind !== 'identifier')
          throw found(value, "identifier or ')'");
        checkValue(value.text);
        values.push(value.text);
        if (peek().text === ',') next();
        else if (peek().text !== ')') throw found(peek(), "',' or ')'");
      }
      next();
      if (values.length === 0)
        throw new SelectorError(
          "for 'in', 'notin' operators, values set can't be empty",
        );
      return { key, operator, values };
    }
    // An exact match may compare with the empty value: `k=` selects an empty label.
    const value = peek().kind === 'identifier' ? next().text : '';
    checkValue(value);
    if ((operator === 'gt' || operator === 'lt') && !/^-?[0-9]+$/.test(value))
      throw new SelectorError(
        `for 'Gt', 'Lt' operators, the value must be an integer`,
      );
    return { key, operator, values: [value] };
  };

  const requirements: SelectorRequirement[] = [];
  while (peek().kind !== 'end') {
    const token = peek();
    if (token.kind !== 'identifier' && token.text !== '!')
      throw found(token, "!, identifier, or 'end of string'");
    requirements.push(requirement());
    const separator = next();
    if (separator.kind === 'end') break;
    if (separator.text !== ',')
      throw found(separator, "',' or 'end of string'");
    if (peek().kind === 'end') throw found(peek(), "identifier after ','");
  }
  return requirements;
}

/** Whether labels satisfy every requirement. */
export function matchesSelector(
  requirements: SelectorRequirement[],
  labels: Record<string, string> = {},
): boolean {
  return requirements.every(({ key, operator, values }) => {
    const has = Object.prototype.hasOwnProperty.call(labels, key);
    const value = labels[key];
    switch (operator) {
      case 'exists':
        return has;
      case '!':
        return !has;
      case '=':
        return has && value === values[0];
      case '!=':
        return !has || value !== values[0];
      case 'in':
        return has && values.includes(value);
      case 'notin':
        return !has || !values.includes(value);
      case 'gt':
      case 'lt': {
        if (!has || !/^-?[0-9]+$/.test(value)) return false;
        const difference = Number(value) - Number(values[0]);
        return operator === 'gt' ? difference > 0 : difference < 0;
      }
      default:
        return false;
    }
  });
}
