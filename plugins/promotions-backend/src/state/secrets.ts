import crypto from 'node:crypto';
import { ComparableObject } from '@gitops-promotions/plugin-promotions-node';

/** What a protected value is stored as: a keyed digest, marked so that drift says "differs". */
export const SECRET_MARK = 'hmac:';

/** Keys whose values are taken to be secrets unless configured otherwise. */
export const DEFAULT_SECRET_KEYS = [
  'password',
  'passwd',
  'secret',
  'token',
  'api[_-]?key',
  'private[_-]?key',
  'credential',
  'auth',
  'dsn',
  'connection[_-]?string',
];

/** Hides secret-looking values before they are stored or compared. */
export interface SecretProtection {
  key: Buffer;
  /** Patterns (case-insensitive) of keys whose values are secrets. */
  keyPatterns: RegExp[];
}

export function secretProtection(
  key: Buffer,
  patterns: string[] = DEFAULT_SECRET_KEYS,
): SecretProtection {
  return { key, keyPatterns: patterns.map(p => new RegExp(p, 'i')) };
}

/** Characters that end a URL's authority, where a `user:password@` part would be. */
const AUTHORITY_END = new Set(['/', '?', '#', ' ', '\t', '\r', '\n', '"', "'"]);

/** A URL in the text carries a password: `postgres://user:pw@host/db`. Linear in the text. */
function hasUrlPassword(text: string): boolean {
  let from = 0;
  for (;;) {
    const scheme = text.indexOf('://', from);
    if (scheme < 0) return false;
    let colon = -1;
    let at = -1;
    let end = scheme + 3;
    for (; end < text.length && !AUTHORITY_END.has(text[end]); end++) {
      if (text[end] === ':' && colon < 0) colon = end;
      if (text[end] === '@') at = end;
    }
    if (colon >= 0 && at > colon) return true;
    from = end;
  }
}

/** Characters of a key in `key=value`, `key: value`, `"key": value` or `?key=value`. */
const isKeyCharacter = (c: string) =>
  (c >= 'a' && c <= 'z') ||
  (c >= 'A' && c <= 'Z') ||
  (c >= '0' && c <= '9') ||
  c === '_' ||
  c === '.' ||
  c === '-';

/** A longer key is tested on its first and last this many characters, so no pattern meets a huge input. */
const MAX_KEY_LENGTH = 256;

/** Whether a key looks secret, testing a long one on its two ends only. */
function cappedKeyTest(secretKey: (key: string) => boolean) {
  return (key: string) =>
    key.length <= MAX_KEY_LENGTH
      ? secretKey(key)
      : secretKey(key.slice(0, MAX_KEY_LENGTH)) ||
        secretKey(key.slice(-MAX_KEY_LENGTH));
}

/**
 * A key whose value follows and which looks secret, anywhere in the text: a properties line
 * (`db.password=...`, `db.password:...`), a YAML or JSON member (`apiToken: ...`,
 * `{"password":"..."}`), a query string (`?token=...`) or a flag (`--client-secret=...`,
 * `--password hunter2`).
 * Linear in the text.
 */
function hasSecretAssignment(
  text: string,
  secretKey: (key: string) => boolean,
): boolean {
  let i = 0;
  while (i < text.length) {
    if (!isKeyCharacter(text[i])) {
      i++;
      continue;
    }
    let end = i;
    while (end < text.length && isKeyCharacter(text[end])) end++;
    let next = end;
    // A closing quote, escaped too when JSON is held in a JSON string: `{\"password\":...}`.
    if (
      text[next] === '\\' &&
      (text[next + 1] === '"' || text[next + 1] === "'")
    ) {
      next++;
    }
    if (text[next] === '"' || text[next] === "'") next++;
    while (text[next] === ' ' || text[next] === '\t') next++;
    // A flag's value may follow a space: `--password hunter2`.
    const flagValue =
      text.startsWith('--', i) &&
      next > end &&
      next < text.length &&
      !/[\s-]/.test(text[next]);
    const assigns =
      flagValue ||
      text[next] === '=' ||
      // `https://` is a scheme, not a key with a value; `secret:/AbC...` is a value.
      (text[next] === ':' && !text.startsWith('//', next + 1));
    if (assigns && secretKey(text.slice(i, end))) return true;
    i = end;
  }
  return false;
}

/**
 * Tests for what looks secret: a key (`password`, `apiToken`), and a text giving a secret away
 * by itself (a URL with a password, `db.password=...`).
 */
export function secretLooking(protection: SecretProtection) {
  const key = cappedKeyTest(k =>
    protection.keyPatterns.some(pattern => pattern.test(k)),
  );
  return {
    key,
    text: (text: string) =>
      hasUrlPassword(text) || hasSecretAssignment(text, key),
  };
}

/**
 * The rendered objects with every secret-looking value replaced by an HMAC under a key only the
 * backend holds: equal values still compare equal between environments, but neither the value
 * nor a digest anyone could reverse by guessing leaves the backend. Secret data and stringData,
 * every value under a secret-looking key at any depth (Helm values, ConfigMap data, lists and
 * maps included), secret-looking environment variables, and values that look secret by
 * themselves (a URL with a password, a line `db.password=...`) are protected.
 */
export function protectSecrets(
  objects: ComparableObject[],
  protection: SecretProtection,
): ComparableObject[] {
  const digest = (value: unknown) =>
    `${SECRET_MARK}${crypto
      .createHmac('sha256', protection.key)
      .update(JSON.stringify(value))
      .digest('hex')
      .slice(0, 32)}`;
  const secretKey = cappedKeyTest(key =>
    protection.keyPatterns.some(pattern => pattern.test(key)),
  );
  // A value can give itself away whatever its key: a connection URL, a properties file's line.
  const looksSecret = (value: unknown) =>
    typeof value === 'string' &&
    (hasUrlPassword(value) || hasSecretAssignment(value, secretKey));

  const walk = (value: unknown, everything: boolean): unknown => {
    if (Array.isArray(value)) return value.map(item => walk(item, everything));
    if (typeof value !== 'object' || value === null) {
      return everything || looksSecret(value) ? digest(value) : value;
    }
    const record = value as Record<string, unknown>;
    // An environment variable: { name: DB_PASSWORD, value: ... }.
    const namedSecret =
      typeof record.name === 'string' && secretKey(record.name);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(record)) {
      if (namedSecret && key === 'value') out[key] = walk(item, true);
      // Under a secret-looking key, every scalar at any depth is a secret: `apiKeys: [..]` too.
      else out[key] = walk(item, everything || secretKey(key));
    }
    return out;
  };

  return objects.map(object => {
    const body = object.body as Record<string, unknown>;
    if (body?.kind === 'Secret') {
      const { data, stringData, ...rest } = body;
      return {
        id: object.id,
        body: {
          ...(walk(rest, false) as object),
          ...(data !== undefined ? { data: walk(data, true) } : {}),
          ...(stringData !== undefined
            ? { stringData: walk(stringData, true) }
            : {}),
        },
      };
    }
    return { id: object.id, body: walk(object.body, false) };
  });
}
