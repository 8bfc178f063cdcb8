/**
 * Kubernetes label selectors (`app=payment,tier in (web,api),!canary`), as Argo CD's
 * `argocd/app-selector` and Flux's `gitops-promotions/flux-selector` annotations hold them:
 * parsed once, then matched against the labels of applications the stream brings.
 */

/** One requirement of a label selector. */
export type LabelRequirement =
  | { key: string; operator: 'in' | 'notin'; values: string[] }
  | { key: string; operator: 'exists' | 'doesnotexist' }
  | { key: string; operator: 'gt' | 'lt'; value: number };

const KEY =
  /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** Splits on commas outside parentheses. */
function terms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0) {
      out.push(current);
      current = '';
    } else current += char;
  }
  out.push(current);
  return out.map(t => t.trim());
}

function checkKey(key: string, term: string) {
  if (!KEY.test(key) || key.length > 316)
    throw new Error(`"${key}" in "${term}" is not a label key`);
}

function checkValue(value: string, term: string) {
  if (!VALUE.test(value) || value.length > 63)
    throw new Error(`"${value}" in "${term}" is not a label value`);
}

/**
 * Parses a label selector; a mistake is an error that quotes it. An empty selector matches
 * everything, as in Kubernetes.
 */
export function parseLabelSelector(selector: string): LabelRequirement[] {
  if (!selector.trim()) return [];
  return terms(selector).map(term => {
    const set = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(term);
    if (set) {
      const [, key, operator, list] = set;
      checkKey(key, term);
      const values = list.split(',').map(v => v.trim());
      values.forEach(v => checkValue(v, term));
      return { key, operator: operator as 'in' | 'notin', values };
    }
    const equality = /^([^!=\s]+)\s*(==|=|!=)\s*([^!=\s]*)$/.exec(term);
    if (equality) {
      const [, key, operator, value] = equality;
      checkKey(key, term);
      checkValue(value, term);
      return {
        key,
        operator: operator === '!=' ? 'notin' : 'in',
        values: [value],
      };
    }
    const compare = /^([^<>\s]+)\s*([<>])\s*(-?\d+)$/.exec(term);
    if (compare) {
      checkKey(compare[1], term);
      return {
        key: compare[1],
        operator: compare[2] === '>' ? 'gt' : 'lt',
        value: Number(compare[3]),
      };
    }
    const exists = /^(!?)\s*([^!=\s()]+)$/.exec(term);
    if (exists) {
      checkKey(exists[2], term);
      return {
        key: exists[2],
        operator: exists[1] ? 'doesnotexist' : 'exists',
      };
    }
    throw new Error(`"${term}" is not a label selector requirement`);
  });
}

/** Whether labels meet every requirement of a parsed selector. */
export function matchesLabels(
  requirements: LabelRequirement[],
  labels: Record<string, string> | undefined,
): boolean {
  const all = labels ?? {};
  return requirements.every(requirement => {
    const has = Object.prototype.hasOwnProperty.call(all, requirement.key);
    switch (requirement.operator) {
      case 'exists':
        return has;
      case 'doesnotexist':
        return !has;
      case 'in':
        return has && requirement.values.includes(all[requirement.key]);
      case 'gt':
      case 'lt': {
        const value = Number(all[requirement.key]);
        if (!has || !/^-?\d+$/.test(all[requirement.key])) return false;
        return requirement.operator === 'gt'
          ? value > requirement.value
          : value < requirement.value;
      }
      default:
        return !has || !requirement.values.includes(all[requirement.key]);
    }
  });
}
