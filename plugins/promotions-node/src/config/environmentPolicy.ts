import { Config } from '@backstage/config';
import { readDurationFromConfig } from '@backstage/config';
import { durationToMilliseconds } from '@backstage/types';

/**
 * A day of the week, as change windows name them.
 *
 * @public
 */
export type WeekDay = 'sun' | 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat';

const DAYS: readonly WeekDay[] = [
  'sun',
  'mon',
  'tue',
  'wed',
  'thu',
  'fri',
  'sat',
];

/**
 * A time in which an environment may be changed: some days of the week, between two times of
 * day, in a time zone.
 *
 * @public
 */
export interface ChangeWindow {
  days: WeekDay[];
  /** Minutes after midnight the window opens and closes (close after open). */
  from: number;
  to: number;
  timeZone: string;
}

/**
 * What must hold before a promotion to an environment may be merged, from the environment's
 * entry of `promotions.pipelines`.
 *
 * @public
 */
export interface EnvironmentPolicy {
  /** A production environment: the example policy lets only approvers act on it. */
  production: boolean;
  /**
   * Approvals needed; when groups are named (entity refs, `group:default/` when only a name is
   * given), only their members' approvals count.
   */
  approvals?: { count: number; groups: string[] };
  /** How long the version must have run in every upstream environment. */
  soakMs?: number;
  /**
   * How long a promotion may stay open before it is stale: its people are told, and the
   * environment shows the `stale-promotion` drift.
   */
  stalePromotionMs?: number;
  /** When merges may happen; none means any time. */
  windows?: ChangeWindow[];
  /** Checks on the change that must be green: all of them (true), or those named. */
  checks?: true | string[];
  /** Tags like `latest` or branch names are refused: a version must be immutable. */
  immutableVersion?: boolean;
  /** The owners of the changed paths in CODEOWNERS must be among the approvers. */
  codeowners?: boolean;
  /** A URL that must answer 2xx, for "the downstream integration is ready". */
  http?: { url: string; timeoutMs: number };
  /**
   * Services (the subjects of external access tokens, such as `ci`) that may ask for promotions here,
   * as CI does for the first environment after a build. No service may unless listed.
   */
  services: string[];
}

function readMinutes(text: string, where: string): number {
  const match = /^([01]?\d|2[0-4]):([0-5]\d)$/.exec(text);
  if (!match || Number(match[1]) * 60 + Number(match[2]) > 24 * 60) {
    throw new Error(`${where}: "${text}" is not a time such as 09:00`);
  }
  return Number(match[1]) * 60 + Number(match[2]);
}

function readWindow(config: Config, where: string): ChangeWindow {
  const days = (config.getOptionalStringArray('days') ?? [...DAYS]).map(day =>
    day.toLowerCase().slice(0, 3),
  );
  for (const day of days) {
    if (!DAYS.includes(day as WeekDay)) {
      throw new Error(`${where}.days: "${day}" is not a day such as mon`);
    }
  }
  const hours = config.getOptionalString('hours') ?? '00:00-24:00';
  const [from, to] = hours.split('-').map(part => part.trim());
  if (!to)
    throw new Error(`${where}.hours: "${hours}" is not such as 09:00-17:00`);
  const window: ChangeWindow = {
    days: days as ChangeWindow['days'],
    from: readMinutes(from, `${where}.hours`),
    to: readMinutes(to, `${where}.hours`),
    timeZone: config.getOptionalString('timeZone') ?? 'UTC',
  };
  if (window.to <= window.from) {
    throw new Error(`${where}.hours: "${hours}" must end after it starts`);
  }
  try {
    new Intl.DateTimeFormat('en', { timeZone: window.timeZone }); // eslint-disable-line no-new
  } catch {
    throw new Error(
      `${where}.timeZone: "${window.timeZone}" is not a time zone`,
    );
  }
  return window;
}

/** A mistyped key inside a gate would be read as missing and quietly weaken the gate. */
function refuseUnknownKeys(
  config: Config,
  known: string[],
  what: string,
  where: string,
) {
  const unknown = config.keys().filter(key => !known.includes(key));
  if (unknown.length > 0) {
    throw new Error(
      `${where}: ${unknown
        .map(key => `"${key}"`)
        .join(', ')} is not a key of ${what} (keys: ${known.join(', ')})`,
    );
  }
}

const duration = (config: Config, key: string) =>
  config.has(key)
    ? durationToMilliseconds(readDurationFromConfig(config, { key }))
    : undefined;

/**
 * Reads an environment's policy; a mistake stops the backend with its reason.
 *
 * @public
 */
export function readEnvironmentPolicy(
  config: Config,
  where: string,
): EnvironmentPolicy {
  const environment = `environment ${config.getOptionalString('name')}`;
  const policy: EnvironmentPolicy = {
    production: config.getOptionalBoolean('production') ?? false,
    services: config.getOptionalStringArray('services') ?? [],
  };
  for (const service of policy.services) {
    if (!/^[\w.-]+(:[\w.-]+)?$/.test(service)) {
      throw new Error(
        `${where}.services: "${service}" is not a service subject such as ci (the subject of an external access token)`,
      );
    }
  }
  if (config.has('approvals')) {
    if (typeof config.get('approvals') === 'object') {
      refuseUnknownKeys(
        config.getConfig('approvals'),
        ['count', 'groups'],
        'approvals',
        `${where}.approvals, ${environment}`,
      );
    }
    const count =
      typeof config.get('approvals') === 'number'
        ? config.getNumber('approvals')
        : config.getOptionalNumber('approvals.count') ?? 1;
    if (!Number.isInteger(count) || count < 0 || count > 20) {
      throw new Error(
        `${where}.approvals: the count must be a whole number up to 20`,
      );
    }
    const groups =
      typeof config.get('approvals') === 'number'
        ? []
        : (config.getOptionalStringArray('approvals.groups') ?? []).map(group =>
            (group.includes(':')
              ? group
              : `group:default/${group}`
            ).toLowerCase(),
          );
    policy.approvals = { count, groups };
  }
  policy.soakMs = duration(config, 'soak');
  policy.stalePromotionMs = duration(config, 'stalePromotion');
  if (policy.stalePromotionMs !== undefined && policy.stalePromotionMs <= 0) {
    throw new Error(`${where}.stalePromotion: must be longer than nothing`);
  }
  if (config.has('windows')) {
    policy.windows = config.getConfigArray('windows').map((window, i) => {
      refuseUnknownKeys(
        window,
        ['days', 'hours', 'timeZone'],
        'a change window',
        `${where}.windows[${i}], ${environment}`,
      );
      return readWindow(window, `${where}.windows[${i}]`);
    });
  }
  if (config.has('checks')) {
    policy.checks =
      typeof config.get('checks') === 'boolean'
        ? config.getBoolean('checks') || undefined
        : config.getStringArray('checks');
  }
  policy.immutableVersion = config.getOptionalBoolean('immutableVersion');
  policy.codeowners = config.getOptionalBoolean('codeowners');
  if (config.has('http')) {
    if (typeof config.get('http') === 'object') {
      refuseUnknownKeys(
        config.getConfig('http'),
        ['url', 'timeout'],
        'http',
        `${where}.http, ${environment}`,
      );
    }
    const url =
      typeof config.get('http') === 'string'
        ? config.getString('http')
        : config.getString('http.url');
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`${where}.http: "${url}" is not a URL`);
    }
    if (!/^https?:$/.test(parsed.protocol)) {
      throw new Error(`${where}.http: "${url}" must be an http or https URL`);
    }
    policy.http = {
      url,
      timeoutMs:
        (typeof config.get('http') === 'string'
          ? undefined
          : duration(config, 'http.timeout')) ?? 5000,
    };
  }
  return policy;
}
