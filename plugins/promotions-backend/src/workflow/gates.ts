import { GateEvaluation } from '@gitops-promotions/plugin-promotions-common';
import {
  GateContext,
  PipelineEnvironment,
  PromotionGate,
} from '@gitops-promotions/plugin-promotions-node';
import { humanizeEntityRef } from './people';
import {
  CodeownerEntities,
  CodeownersDirectory,
  ownersOf,
  readCodeowners,
} from './codeowners';
import { describeWindow, inWindow, nextOpening } from './windows';

const gate = (
  type: string,
  evaluate: (context: GateContext) => Promise<GateEvaluation> | GateEvaluation,
): PromotionGate => ({ type, evaluate: async context => evaluate(context) });

const passed = (g: string, summary: string): GateEvaluation => ({
  gate: g,
  state: 'passed',
  summary,
});
const pending = (g: string, summary: string, until?: Date): GateEvaluation => ({
  gate: g,
  state: 'pending',
  summary,
  ...(until ? { until: until.toISOString() } : {}),
});
const failed = (g: string, summary: string): GateEvaluation => ({
  gate: g,
  state: 'failed',
  summary,
});

/** Approvals that count: not the requester's own, one per person. */
function approvers(context: GateContext) {
  const { decisions, requestedBy } = context.promotion;
  const people = new Map<string, (typeof decisions)[number]>();
  for (const d of decisions) {
    // Refs compare without regard to case, as the catalog compares them.
    const by = d.by.toLocaleLowerCase('en-US');
    if (
      d.decision === 'approve' &&
      by !== requestedBy.toLocaleLowerCase('en-US')
    ) {
      people.set(by, d);
    }
  }
  return [...people.values()];
}

function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.round(minutes / 6) / 10;
  if (hours < 48) return `${hours} h`;
  return `${Math.round(hours / 2.4) / 10} days`;
}

/** `requires`: every upstream environment runs the version, unless it was asked for as one none runs. */
export const requiresGate = gate('requires', context => {
  if (context.promotion.kind === 'rollback') {
    return passed(
      'requires',
      'A rollback: upstream environments are not asked',
    );
  }
  const behind = context.upstreams.filter(u => u.version !== context.version);
  if (behind.length === 0) {
    return passed(
      'requires',
      `${context.upstreams.map(u => u.name).join(', ')} ${
        context.upstreams.length === 1 ? 'runs' : 'run'
      } ${context.version}`,
    );
  }
  if (context.promotion.unknownVersion) {
    return passed(
      'requires',
      `No upstream runs ${context.version}: it was asked for as a version no upstream runs`,
    );
  }
  return failed(
    'requires',
    behind
      .map(
        u =>
          `${u.name} runs ${u.version ?? 'nothing known'}, not ${
            context.version
          }`,
      )
      .join('; '),
  );
});

/** `approvals`: enough people other than the requester approved, one of the named groups among them. */
export const approvalsGate = gate('approvals', context => {
  const { count, groups } = context.policy.approvals!;
  const rejection = context.promotion.decisions.find(
    d => d.decision === 'reject',
  );
  if (rejection) {
    return failed(
      'approvals',
      `Rejected by ${humanizeEntityRef(rejection.by)}`,
    );
  }
  const given = approvers(context);
  // With groups named, only their members' approvals count.
  const counted =
    groups.length === 0
      ? given
      : given.filter(d => d.ownership.some(ref => groups.includes(ref)));
  if (counted.length >= count) {
    return passed(
      'approvals',
      count === 0
        ? 'No approval needed'
        : `Approved by ${counted.map(d => humanizeEntityRef(d.by)).join(', ')}`,
    );
  }
  const groupText =
    groups.length > 0
      ? ` from ${groups.map(humanizeEntityRef).join(' or ')}`
      : '';
  return pending(
    'approvals',
    `${counted.length} of ${count} ${
      count === 1 ? 'approval' : 'approvals'
    }${groupText}${
      context.promotion.decisions.some(
        d =>
          d.decision === 'approve' &&
          d.by.toLocaleLowerCase('en-US') ===
            context.promotion.requestedBy.toLocaleLowerCase('en-US'),
      )
        ? ' (the requester’s own does not count)'
        : ''
    }${productionReviewsNote(context)}`,
  );
});

/**
 * The permission policy cannot judge a GitHub reviewer, who is not signed in: in production their
 * review counts only from a member of the approval groups, and none without groups.
 */
function productionReviewsNote(context: GateContext): string {
  if (!context.policy.production) return '';
  const { groups } = context.policy.approvals!;
  return groups.length > 0
    ? `; in production a GitHub review counts only from a member of ${groups
        .map(humanizeEntityRef)
        .join(' or ')}`
    : '; in production GitHub reviews do not count: approve in the portal';
}

/**
 * `soak`: the version has run long enough in every upstream environment, counted from when the
 * upstream's current run of it began: a run it was rolled back from does not count.
 */
export const soakGate = gate('soak', context => {
  const soakMs = context.policy.soakMs!;
  if (context.promotion.kind === 'rollback') {
    return passed('soak', 'A rollback: no soak time');
  }
  let latest: Date | undefined;
  for (const upstream of context.upstreams) {
    if (upstream.version !== context.version) {
      return pending(
        'soak',
        `${upstream.name} runs ${upstream.version ?? 'nothing known'}, not ${
          context.version
        }: the soak of ${duration(soakMs)} starts once it runs ${
          context.version
        }`,
      );
    }
    if (!upstream.since) {
      return pending(
        'soak',
        `${upstream.name} runs ${
          context.version
        }, since a moment not known yet: the soak of ${duration(
          soakMs,
        )} is counted once a refresh of the repository tells`,
      );
    }
    const ready = new Date(upstream.since.getTime() + soakMs);
    if (!latest || ready > latest) latest = ready;
  }
  if (!latest || latest <= context.now) {
    return passed('soak', `Ran ${duration(soakMs)} or more upstream`);
  }
  return pending(
    'soak',
    `Soaking upstream for ${duration(soakMs)}: ${duration(
      latest.getTime() - context.now.getTime(),
    )} to go`,
    latest,
  );
});

/** `windows`: now is inside one of the change windows. */
export const windowsGate = gate('windows', context => {
  const windows = context.policy.windows!;
  const described = windows.map(describeWindow).join('; ');
  if (windows.some(w => inWindow(w, context.now))) {
    return passed('windows', `Inside the change window (${described})`);
  }
  const opens = nextOpening(windows, context.now);
  return pending('windows', `Outside the change windows (${described})`, opens);
});

/** Freezes: the environment is not frozen, for this service or for every service. */
export const freezeGate = gate('freeze', context => {
  if (context.freezes.length === 0) {
    return passed('freeze', 'Not frozen');
  }
  return failed(
    'freeze',
    context.freezes
      .map(
        f =>
          `Frozen${
            f.entityRef === '*' ? ' for every service' : ''
          } by ${humanizeEntityRef(f.by)}: ${f.reason}`,
      )
      .join('; '),
  );
});

/** `checks`: the change's checks (GitHub check runs and commit statuses) are green. */
export const checksGate = gate('checks', async context => {
  const wanted = context.policy.checks!;
  const pullRequests = context.repository.pullRequests;
  if (!pullRequests) {
    return failed(
      'checks',
      `Repository ${context.repository.id} has no checks to wait for: its provider has no pull requests`,
    );
  }
  if (!context.promotion.headCommit) {
    return pending('checks', 'Waiting for the change to be committed');
  }
  const result = await pullRequests.checks(context.promotion.headCommit);
  if (wanted === true) {
    if (result.state === 'success') {
      return passed('checks', `${result.checks.length} checks green`);
    }
    const failing = result.checks.filter(c => c.state === 'failure');
    if (failing.length > 0) {
      return failed('checks', `Failed: ${failing.map(c => c.name).join(', ')}`);
    }
    const waiting = result.checks.filter(c => c.state === 'pending');
    return pending(
      'checks',
      waiting.length > 0
        ? `Waiting for ${waiting.map(c => c.name).join(', ')}`
        : 'Waiting for checks to report',
    );
  }
  const byName = new Map(result.checks.map(c => [c.name, c]));
  const failing = wanted.filter(name => byName.get(name)?.state === 'failure');
  if (failing.length > 0) {
    return failed('checks', `Failed: ${failing.join(', ')}`);
  }
  const waiting = wanted.filter(name => byName.get(name)?.state !== 'success');
  if (waiting.length > 0) {
    return pending('checks', `Waiting for ${waiting.join(', ')}`);
  }
  return passed('checks', `${wanted.join(', ')} green`);
});

/** Tags that name a moment, not a build: what `immutableVersion` refuses. */
const MOVING_TAGS = new Set([
  'latest',
  'stable',
  'edge',
  'nightly',
  'main',
  'master',
  'develop',
  'dev',
  'head',
  'current',
  'release',
  'canary',
  'beta',
  'alpha',
  'next',
  'trunk',
]);

/** Whether a version names one build: a digest, a numbered version, or a commit hash. */
export function isImmutableVersion(version: string): boolean {
  if (/^sha256:[a-f0-9]{64}$/.test(version)) return true;
  if (MOVING_TAGS.has(version.toLowerCase())) return false;
  // 1.4.2, v2.0.0-rc.1, 2024.06.01, 1.4.2-3f9c2ab
  if (/^v?\d+(\.\d+){1,3}([-+][0-9A-Za-z][0-9A-Za-z.-]*)?$/.test(version)) {
    return true;
  }
  // A commit hash, alone or after a prefix: sha-3f9c2ab, main-3f9c2ab0
  return /(^|[-_.])[0-9a-f]{7,40}$/.test(version) && /\d/.test(version);
}

/** `immutableVersion`: the version names one build, never a tag that moves. */
export const immutableVersionGate = gate('immutableVersion', context =>
  isImmutableVersion(context.version)
    ? passed('immutableVersion', `${context.version} names one build`)
    : failed(
        'immutableVersion',
        `${context.version} is a tag that can move: promote a numbered version, a commit hash or a digest`,
      ),
);

/** How many owners one evaluation looks up in the catalog, however many a CODEOWNERS file lists. */
const MAX_OWNERS_ASKED = 50;

/**
 * `codeowners`: an owner of every changed path is among those who approved: the user behind
 * an e-mail or `@login`, or a member of the group behind `@org/team`, as the catalog says.
 */
export const codeownersGate = (directory: CodeownersDirectory): PromotionGate =>
  gate('codeowners', async context => {
    const snapshot = await context.repository.snapshot(
      context.promotion.baseBranch,
    );
    const codeowners = await readCodeowners(snapshot);
    if (!codeowners) {
      return passed(
        'codeowners',
        'The repository has no CODEOWNERS: no owners to ask',
      );
    }
    const given = approvers(context).map(d => ({
      by: d.by.toLocaleLowerCase('en-US'),
      ownership: d.ownership.map(ref => ref.toLocaleLowerCase('en-US')),
    }));
    const looked = new Map<string, Promise<CodeownerEntities>>();
    const entitiesOf = (owner: string) => {
      let entities = looked.get(owner);
      if (!entities) {
        entities =
          looked.size < MAX_OWNERS_ASKED
            ? directory.entitiesOf(owner)
            : Promise.resolve({
                refs: [],
                problem: `${owner} was not looked up (only the first ${MAX_OWNERS_ASKED} owners are)`,
              });
        looked.set(owner, entities);
      }
      return entities;
    };
    // The owners of each path no approval satisfies, by the text they are shown as.
    const missing = new Map<string, string[]>();
    const nobody = new Map<string, string>();
    for (const path of context.promotion.changedPaths) {
      const owners = ownersOf(codeowners.rules, path);
      if (owners.length === 0) continue;
      let satisfied = false;
      for (const owner of owners) {
        const { refs, problem } = await entitiesOf(owner);
        if (problem) nobody.set(owner, problem);
        const wanted = refs.map(ref => ref.toLocaleLowerCase('en-US'));
        if (
          given.some(
            d =>
              wanted.includes(d.by) ||
              d.ownership.some(ref => wanted.includes(ref)),
          )
        ) {
          satisfied = true;
          break;
        }
      }
      if (!satisfied) missing.set(owners.join(' or '), owners);
    }
    if (missing.size === 0) {
      return passed(
        'codeowners',
        `Approved by the owners in ${codeowners.file}`,
      );
    }
    const unknown = new Set(
      [...missing.values()].flat().flatMap(owner => nobody.get(owner) ?? []),
    );
    return pending(
      'codeowners',
      `Waiting for an approval from ${[...missing.keys()].join('; ')} (${
        codeowners.file
      })${unknown.size > 0 ? `; ${[...unknown].join('; ')}` : ''}`,
    );
  });

/** The http gate's URL with the promotion's values put in, each encoded. */
export function httpGateUrl(template: string, context: GateContext): string {
  const values: Record<string, string> = {
    entityRef: context.entityRef,
    environment: context.environment,
    version: context.version,
  };
  return template.replace(/\{(entityRef|environment|version)\}/g, (_, key) =>
    encodeURIComponent(values[key]),
  );
}

/** `http`: a URL answers 2xx: "the downstream integration is ready". */
export const httpGate = gate('http', async context => {
  const { url: template, timeoutMs } = context.policy.http!;
  const url = httpGateUrl(template, context);
  const shown = new URL(url);
  shown.search = '';
  try {
    const response = await fetch(url, {
      redirect: 'manual',
      signal: AbortSignal.any([
        AbortSignal.timeout(timeoutMs),
        ...(context.signal ? [context.signal] : []),
      ]),
    });
    await response.body?.cancel();
    if (response.status >= 200 && response.status < 300) {
      return passed('http', `${shown} answered ${response.status}`);
    }
    return pending(
      'http',
      `${shown} answered ${response.status}; waiting for 2xx`,
    );
  } catch (error) {
    const reason =
      (error as Error).name === 'TimeoutError'
        ? `did not answer within ${timeoutMs} ms`
        : `could not be reached (${(error as Error).message})`;
    return pending('http', `${shown} ${reason}`);
  }
});

/** The gates an environment's policy turns on, built-in first, in the order the README lists them. */
export function gatesFor(
  context: Pick<GateContext, 'policy' | 'config' | 'upstreams'>,
  moduleGates: PromotionGate[],
  directory: CodeownersDirectory,
): PromotionGate[] {
  const { policy } = context;
  const gates: PromotionGate[] = [];
  if (context.upstreams.length > 0) gates.push(requiresGate);
  if (policy.approvals) gates.push(approvalsGate);
  if (policy.soakMs !== undefined) gates.push(soakGate);
  if (policy.windows) gates.push(windowsGate);
  gates.push(freezeGate);
  if (policy.checks) gates.push(checksGate);
  if (policy.immutableVersion) gates.push(immutableVersionGate);
  if (policy.codeowners) gates.push(codeownersGate(directory));
  if (policy.http) gates.push(httpGate);
  for (const moduleGate of moduleGates) {
    if (context.config.has(moduleGate.type)) gates.push(moduleGate);
  }
  return gates;
}

/** The built-in gates by the key an environment's policy turns each on with. */
export const BUILT_IN_GATES = [
  'requires',
  'approvals',
  'soak',
  'windows',
  'freeze',
  'checks',
  'immutableVersion',
  'codeowners',
  'http',
];

/** What an environment's entry holds beside its gates. */
const ENVIRONMENT_SETTINGS = [
  'name',
  'production',
  'services',
  'stalePromotion',
];

/**
 * Refuses a module's gate whose key a built-in gate, an environment setting or an earlier gate
 * already has: the environment's policy could not tell which one it turns on.
 */
export function checkModuleGate(
  added: PromotionGate,
  registered: PromotionGate[],
): void {
  const type = String(added?.type ?? '');
  if (!/^[A-Za-z][\w-]*$/.test(type)) {
    throw new Error(
      `A promotion gate's key must be a name such as changeTicket, not ${JSON.stringify(
        type,
      ).slice(0, 80)}`,
    );
  }
  if (BUILT_IN_GATES.includes(type)) {
    throw new Error(
      `A module adds a promotion gate with the key "${type}", which is the built-in ${type} gate's: give it a key of its own`,
    );
  }
  if (ENVIRONMENT_SETTINGS.includes(type)) {
    throw new Error(
      `A module adds a promotion gate with the key "${type}", which is an environment's setting, not a gate: give it a key of its own`,
    );
  }
  if (registered.some(g => g.type === type)) {
    throw new Error(
      `Two modules add a promotion gate with the key "${type}": an environment's policy could not tell them apart`,
    );
  }
}

/**
 * Refuses an environment of `promotions.pipelines` with a key that is neither a gate (built-in or
 * a module's) nor a setting, such as a mistyped `aprovals`: a gate silently ignored would let
 * promotions through unchecked.
 */
export function checkGateKeys(
  pipelines: Map<string, PipelineEnvironment[]>,
  moduleGates: PromotionGate[],
): void {
  const gateKeys = [
    ...BUILT_IN_GATES.filter(key => key !== 'freeze'),
    ...moduleGates.map(g => g.type),
  ];
  const known = new Set([...ENVIRONMENT_SETTINGS, ...gateKeys]);
  for (const [pipeline, environments] of pipelines) {
    for (const environment of environments) {
      const unknown = (environment.config?.keys() ?? []).filter(
        key => !known.has(key),
      );
      if (unknown.length > 0) {
        throw new Error(
          `promotions.pipelines.${pipeline}, environment ${
            environment.name
          }: ${unknown
            .map(key => `"${key}"`)
            .join(
              ', ',
            )} is not a gate or setting of an environment (gates: ${gateKeys.join(
            ', ',
          )}, and freeze, which is always on; settings: ${ENVIRONMENT_SETTINGS.join(
            ', ',
          )})`,
        );
      }
    }
  }
}

/** The gates overridable by someone allowed to, with a reason: time and freezes, never reviews. */
export const OVERRIDABLE_GATES = new Set(['windows', 'freeze']);

/** Every gate's judgement; a gate that throws has failed, with why. */
export async function evaluateGates(
  gates: PromotionGate[],
  context: GateContext,
): Promise<GateEvaluation[]> {
  return Promise.all(
    gates.map(async g => {
      try {
        const result = await g.evaluate(context);
        return { ...result, gate: g.type };
      } catch (error) {
        return failed(
          g.type,
          `The gate could not be evaluated: ${
            (error as Error).message ?? String(error)
          }`,
        );
      }
    }),
  );
}
