import {
  computeDeliveryFigures,
  computeOwnerFigures,
  FiguresEnvironment,
  FiguresHistoryEntry,
  median,
  p90,
} from './deliveryFigures';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

/** The window ends here: 30 days back is 2026-03-01T00:00Z, 7 days back 2026-03-24T00:00Z. */
const now = new Date('2026-03-31T00:00:00Z');

/** A timeline as stored: newest commit first; written here oldest first. */
const timeline = (
  complete: boolean,
  commits: Array<[string, string | null]>,
): FiguresEnvironment['timeline'] => ({
  complete,
  commits: commits.map(([at, version]) => ({ at, version })).reverse(),
});

/*
 * The fixture service: dev -> staging -> prod and prod-eu (both `production: true`).
 *
 * dev, a cut timeline (it does not reach the first commit):
 *   02-20 v1   oldest known commit: it ran v1 then, but when v1 arrived is not known
 *   03-02 v2   change
 *   03-05 v2   another input changed, not the version: no change
 *   03-10 v3   change
 *   03-12 -    version not resolvable there: ignored
 *   03-20 v4   change (at 00:00)
 *   03-25 v5   change
 *   and the portal merged v1 into it on 02-10, before the timeline's oldest commit.
 * staging, complete: 02-25 v1 (the first commit: a change), 03-04 v2, 03-21 v4 (v3 skipped),
 *   03-26 v5.
 * prod, complete: 01-15 v0, 03-06 v2, 03-15 v3, 03-16 v2 (rolled back), 03-24 v4,
 *   03-28 h1 (a hotfix no other environment ran).
 * prod-eu, cut: 03-03 v1 (oldest known), 03-08 v2; the portal merged v1 into it on 03-01 12:00.
 * Every time is 12:00Z unless said.
 */
const environments: FiguresEnvironment[] = [
  {
    name: 'dev',
    production: false,
    timeline: timeline(false, [
      ['2026-02-20T12:00:00Z', 'v1'],
      ['2026-03-02T12:00:00Z', 'v2'],
      ['2026-03-05T12:00:00Z', 'v2'],
      ['2026-03-10T12:00:00Z', 'v3'],
      ['2026-03-12T12:00:00Z', null],
      ['2026-03-20T00:00:00Z', 'v4'],
      ['2026-03-25T12:00:00Z', 'v5'],
    ]),
  },
  {
    name: 'staging',
    production: false,
    timeline: timeline(true, [
      ['2026-02-25T12:00:00Z', 'v1'],
      ['2026-03-04T12:00:00Z', 'v2'],
      ['2026-03-21T12:00:00Z', 'v4'],
      ['2026-03-26T12:00:00Z', 'v5'],
    ]),
  },
  {
    name: 'prod',
    production: true,
    timeline: timeline(true, [
      ['2026-01-15T12:00:00Z', 'v0'],
      ['2026-03-06T12:00:00Z', 'v2'],
      ['2026-03-15T12:00:00Z', 'v3'],
      ['2026-03-16T12:00:00Z', 'v2'],
      ['2026-03-24T12:00:00Z', 'v4'],
      ['2026-03-28T12:00:00Z', 'h1'],
    ]),
  },
  {
    name: 'prod-eu',
    production: true,
    timeline: timeline(false, [
      ['2026-03-03T12:00:00Z', 'v1'],
      ['2026-03-08T12:00:00Z', 'v2'],
    ]),
  },
];

const entry = (
  environment: string,
  promotionId: string | null,
  action: FiguresHistoryEntry['action'],
  at: string,
  version: string | null,
  kind: FiguresHistoryEntry['kind'] = 'promotion',
): FiguresHistoryEntry => ({
  environment,
  promotionId,
  action,
  at,
  version,
  kind,
});

/*
 * The portal's history. To prod, requested in the 30 days:
 *   p1 v2 promotion, 03-05 12:00, merged 03-06 12:00
 *   p2 v3 promotion, 03-14 12:00, merged 03-15 12:00
 *   r1 v2 rollback,  03-16 10:00, merged 03-16 12:00         restored in 2 h
 *   p3 v4 promotion, 03-23 12:00, failed 03-23 13:00         a failure
 *   p4 v4 promotion, 03-24 06:00, merged 03-24 12:00
 *   r3 v3 rollback,  03-27 12:00, merged 03-27 16:00         restored in 4 h
 *   r2 v3 rollback,  03-29 12:00, closed, never merged
 * and, not counted: p0 requested before the window (failed inside it), px whose request time
 * cannot be read, a freeze (no promotion).
 * To dev: d1 requested exactly at the window's start, merged. To prod-eu: e1 requested before
 * the window, merged 03-01 12:00 (the merge the prod-eu timeline does not reach back to).
 * To dev before any timeline: the merge of v1 on 02-10.
 */
const history: FiguresHistoryEntry[] = [
  entry('prod', 'p1', 'requested', '2026-03-05T12:00:00Z', 'v2'),
  entry('prod', 'p1', 'approved', '2026-03-05T13:00:00Z', 'v2'),
  entry('prod', 'p1', 'merged', '2026-03-06T12:00:00Z', 'v2'),
  entry('prod', 'p2', 'requested', '2026-03-14T12:00:00Z', 'v3'),
  entry('prod', 'p2', 'merged', '2026-03-15T12:00:00Z', 'v3'),
  entry('prod', 'r1', 'requested', '2026-03-16T10:00:00Z', 'v2', 'rollback'),
  entry('prod', 'r1', 'merged', '2026-03-16T12:00:00Z', 'v2', 'rollback'),
  entry('prod', 'p3', 'requested', '2026-03-23T12:00:00Z', 'v4'),
  entry('prod', 'p3', 'failed', '2026-03-23T13:00:00Z', 'v4'),
  entry('prod', 'p4', 'requested', '2026-03-24T06:00:00Z', 'v4'),
  entry('prod', 'p4', 'merged', '2026-03-24T12:00:00Z', 'v4'),
  entry('prod', 'r3', 'requested', '2026-03-27T12:00:00Z', 'v3', 'rollback'),
  entry('prod', 'r3', 'merged', '2026-03-27T16:00:00Z', 'v3', 'rollback'),
  entry('prod', 'r2', 'requested', '2026-03-29T12:00:00Z', 'v3', 'rollback'),
  entry('prod', 'r2', 'closed', '2026-03-29T18:00:00Z', 'v3', 'rollback'),
  entry('prod', 'p0', 'requested', '2026-02-20T12:00:00Z', 'v0'),
  entry('prod', 'p0', 'failed', '2026-03-02T12:00:00Z', 'v0'),
  entry('prod', 'px', 'requested', 'not a time', 'v9'),
  entry('prod', null, 'frozen', '2026-03-10T12:00:00Z', null, null),
  entry('dev', 'd1', 'requested', '2026-03-01T00:00:00Z', 'v2'),
  entry('dev', 'd1', 'merged', '2026-03-01T01:00:00Z', 'v2'),
  entry('dev', 'd0', 'merged', '2026-02-10T12:00:00Z', 'v1'),
  entry('prod-eu', 'e1', 'requested', '2026-02-28T12:00:00Z', 'v1'),
  entry('prod-eu', 'e1', 'merged', '2026-03-01T12:00:00Z', 'v1'),
];

const figures = (days: number, input = { environments, history }) =>
  computeDeliveryFigures({
    entityRef: 'component:default/shop',
    now,
    days,
    ...input,
  });

const of = (result: ReturnType<typeof figures>, name: string) =>
  result.environments.find(e => e.environment === name)!;

describe('computeDeliveryFigures', () => {
  it('counts each change of an environment version in the window, per week', () => {
    const result = figures(30);
    expect(result.window).toEqual({
      days: 30,
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-03-31T00:00:00.000Z',
    });
    // dev: v2 03-02, v3 03-10, v4 03-20, v5 03-25 = 4 (the second v2 commit and the
    // unresolvable one are no change); 4 / (30 / 7) = 0.933 -> 0.93.
    // Weeks from 03-01: [03-01, 03-08) v2; [03-08, 03-15) v3; [03-15, 03-22) v4;
    // [03-22, 03-29) v5; [03-29, 03-31] none.
    expect(of(result, 'dev').deployments).toEqual({
      count: 4,
      perWeek: 0.93,
      weeks: [
        { start: '2026-03-01T00:00:00.000Z', count: 1 },
        { start: '2026-03-08T00:00:00.000Z', count: 1 },
        { start: '2026-03-15T00:00:00.000Z', count: 1 },
        { start: '2026-03-22T00:00:00.000Z', count: 1 },
        { start: '2026-03-29T00:00:00.000Z', count: 0 },
      ],
    });
    // staging: v2 03-04, v4 03-21, v5 03-26 = 3 (v1 02-25 is before the window);
    // 3 / (30 / 7) = 0.7.
    expect(of(result, 'staging').deployments.count).toBe(3);
    expect(of(result, 'staging').deployments.perWeek).toBe(0.7);
    expect(of(result, 'staging').deployments.weeks.map(w => w.count)).toEqual([
      1, 0, 1, 1, 0,
    ]);
    // prod: v2 03-06, v3 03-15, v2 again 03-16 (a rollback is a change too), v4 03-24,
    // h1 03-28 = 5; 5 / (30 / 7) = 1.1667 -> 1.17.
    expect(of(result, 'prod').deployments.count).toBe(5);
    expect(of(result, 'prod').deployments.perWeek).toBe(1.17);
    expect(of(result, 'prod').deployments.weeks.map(w => w.count)).toEqual([
      1, 0, 2, 2, 0,
    ]);
    // prod-eu: the merge of v1 on 03-01 12:00, before the oldest commit its cut timeline
    // knows (03-03, not a change), and v2 03-08 = 2; 2 / (30 / 7) = 0.4667 -> 0.47.
    expect(of(result, 'prod-eu').deployments.count).toBe(2);
    expect(of(result, 'prod-eu').deployments.perWeek).toBe(0.47);
    expect(of(result, 'prod-eu').deployments.weeks.map(w => w.count)).toEqual([
      1, 1, 0, 0, 0,
    ]);
  });

  it('counts the portal merges older than a cut timeline, and only those', () => {
    // 90 days back is 2025-12-31. dev: the merge of v1 on 02-10 (before the oldest commit,
    // 02-20, which is no change as the timeline is cut) + the 4 changes of March = 5;
    // 5 / (90 / 7) = 0.3889 -> 0.39. staging's first commit is a change as its timeline is
    // complete: v1 02-25 + 3 = 4. prod: v0 01-15 + 5 = 6.
    const result = figures(90);
    expect(of(result, 'dev').deployments.count).toBe(5);
    expect(of(result, 'dev').deployments.perWeek).toBe(0.39);
    expect(of(result, 'dev').deployments.weeks).toHaveLength(13);
    expect(of(result, 'staging').deployments.count).toBe(4);
    expect(of(result, 'prod').deployments.count).toBe(6);
  });

  it('measures the lead time from the first environment that ran a version to each production one', () => {
    const [prod, prodEu] = figures(30).leadTime;
    // prod, versions that first ran there in the window:
    //   v2: dev 03-02 12:00 -> prod 03-06 12:00 = 4 days (staging 03-04 is later than dev)
    //   v3: dev 03-10 12:00 -> prod 03-15 12:00 = 5 days (v3 skipped staging)
    //   v4: dev 03-20 00:00 -> prod 03-24 12:00 = 4.5 days
    //   v2 again on 03-16 is not its first run; h1 ran nowhere else: direct; v0 arrived in
    //   January.
    // Sorted [4, 4.5, 5] days: median 4.5 days; p90 is the ceil(0.9 * 3) = 3rd: 5 days.
    expect(prod).toEqual({
      environment: 'prod',
      medianMs: 4.5 * DAY,
      p90Ms: 5 * DAY,
      versions: [
        {
          version: 'v2',
          firstEnvironment: 'dev',
          firstAt: '2026-03-02T12:00:00.000Z',
          productionAt: '2026-03-06T12:00:00.000Z',
          ms: 4 * DAY,
        },
        {
          version: 'v3',
          firstEnvironment: 'dev',
          firstAt: '2026-03-10T12:00:00.000Z',
          productionAt: '2026-03-15T12:00:00.000Z',
          ms: 5 * DAY,
        },
        {
          version: 'v4',
          firstEnvironment: 'dev',
          firstAt: '2026-03-20T00:00:00.000Z',
          productionAt: '2026-03-24T12:00:00.000Z',
          ms: 4.5 * DAY,
        },
      ],
      direct: 1,
      unknownStart: 0,
    });
    // prod-eu: v1 arrived with the merge of 03-01 12:00; dev first ran it with the portal's
    // merge of 02-10 12:00 (older than its cut timeline's oldest commit, 02-20) = 19 days
    // (February 2026 has 28 days). v2: dev 03-02 12:00 -> 03-08 12:00 = 6 days.
    // Sorted [6, 19]: median 12.5 days, p90 the ceil(0.9 * 2) = 2nd: 19 days.
    expect(prodEu.environment).toBe('prod-eu');
    expect(prodEu.versions.map(v => [v.version, v.ms])).toEqual([
      ['v1', 19 * DAY],
      ['v2', 6 * DAY],
    ]);
    expect(prodEu.medianMs).toBe(12.5 * DAY);
    expect(prodEu.p90Ms).toBe(19 * DAY);
    expect(prodEu.direct).toBe(0);
  });

  it('counts rollbacks and failed promotions per promotion requested in the window', () => {
    const result = figures(30);
    // prod: p1 p2 r1 p3 p4 r3 r2 = 7 requested; rollbacks r1 r3 r2 = 3; failed p3 = 1;
    // (3 + 1) / 7. p0 was requested before the window, px at no readable time.
    expect(of(result, 'prod').changeFailure).toEqual({
      promotions: 7,
      rollbacks: 3,
      failed: 1,
      rate: 4 / 7,
    });
    // dev: d1, requested at the window's very start, merged: 0 / 1.
    expect(of(result, 'dev').changeFailure).toEqual({
      promotions: 1,
      rollbacks: 0,
      failed: 0,
      rate: 0,
    });
    // staging: nothing requested; prod-eu: e1 was requested before the window.
    expect(of(result, 'staging').changeFailure.rate).toBeNull();
    expect(of(result, 'prod-eu').changeFailure.promotions).toBe(0);
  });

  it('times each rollback from request to merge, and lists the one never merged', () => {
    // r1 2 h, r3 4 h: median 3 h; r2 was closed unmerged: listed, no time, not in the median.
    expect(of(figures(30), 'prod').restore).toEqual({
      medianMs: 3 * HOUR,
      rollbacks: [
        {
          promotionId: 'r1',
          version: 'v2',
          requestedAt: '2026-03-16T10:00:00.000Z',
          mergedAt: '2026-03-16T12:00:00.000Z',
          ms: 2 * HOUR,
        },
        {
          promotionId: 'r3',
          version: 'v3',
          requestedAt: '2026-03-27T12:00:00.000Z',
          mergedAt: '2026-03-27T16:00:00.000Z',
          ms: 4 * HOUR,
        },
        {
          promotionId: 'r2',
          version: 'v3',
          requestedAt: '2026-03-29T12:00:00.000Z',
          mergedAt: null,
          ms: null,
        },
      ],
    });
    expect(of(figures(30), 'staging').restore).toEqual({
      medianMs: null,
      rollbacks: [],
    });
  });

  it('narrows every figure to a 7-day window', () => {
    // From 03-24 00:00: prod changed to v4 (03-24 12:00) and h1 (03-28): 2 in one week.
    // Lead time: v4 only (4.5 days), h1 direct. Requested: p4, r3, r2: 2 rollbacks of 3;
    // restore: r3 alone, 4 h.
    const result = figures(7);
    const prod = of(result, 'prod');
    expect(prod.deployments).toEqual({
      count: 2,
      perWeek: 2,
      weeks: [{ start: '2026-03-24T00:00:00.000Z', count: 2 }],
    });
    expect(result.leadTime[0]).toMatchObject({
      medianMs: 4.5 * DAY,
      p90Ms: 4.5 * DAY,
      direct: 1,
      unknownStart: 0,
    });
    expect(prod.changeFailure).toEqual({
      promotions: 3,
      rollbacks: 2,
      failed: 0,
      rate: 2 / 3,
    });
    expect(prod.restore.medianMs).toBe(4 * HOUR);
  });

  it('leaves out of the lead time a version already running upstream at the oldest commit read', () => {
    // dev's cut timeline starts with v1 running: when v1 first ran is not known.
    const result = figures(30, {
      environments: [
        {
          name: 'dev',
          production: false,
          timeline: timeline(false, [
            ['2026-03-01T12:00:00Z', 'v1'],
            ['2026-03-05T12:00:00Z', 'v2'],
          ]),
        },
        {
          name: 'prod',
          production: true,
          timeline: timeline(true, [
            ['2026-02-01T12:00:00Z', 'v0'],
            ['2026-03-10T12:00:00Z', 'v1'],
            ['2026-03-12T12:00:00Z', 'v2'],
          ]),
        },
      ],
      history: [],
    });
    // v2: dev 03-05 12:00 to prod 03-12 12:00; v1's 9 days would be a lower bound only.
    expect(result.leadTime).toEqual([
      {
        environment: 'prod',
        medianMs: 7 * DAY,
        p90Ms: 7 * DAY,
        versions: [
          {
            version: 'v2',
            firstEnvironment: 'dev',
            firstAt: '2026-03-05T12:00:00.000Z',
            productionAt: '2026-03-12T12:00:00.000Z',
            ms: 7 * DAY,
          },
        ],
        direct: 0,
        unknownStart: 1,
      },
    ]);
  });

  it('gives no lead time to a pipeline without a production environment', () => {
    const result = figures(30, {
      environments: environments.map(e => ({ ...e, production: false })),
      history,
    });
    expect(result.leadTime).toEqual([]);
    expect(of(result, 'prod').production).toBe(false);
    expect(of(result, 'prod').deployments.count).toBe(5);
  });

  it('says nothing happened in an empty window, without dividing by zero', () => {
    const result = figures(30, {
      environments: [
        { name: 'dev', production: false, timeline: null },
        { name: 'prod', production: true, timeline: timeline(false, []) },
      ],
      history: [],
    });
    for (const environment of result.environments) {
      expect(environment.deployments.count).toBe(0);
      expect(environment.deployments.perWeek).toBe(0);
      expect(environment.deployments.weeks.map(w => w.count)).toEqual([
        0, 0, 0, 0, 0,
      ]);
      expect(environment.changeFailure.rate).toBeNull();
      expect(environment.restore).toEqual({ medianMs: null, rollbacks: [] });
    }
    expect(result.leadTime).toEqual([
      {
        environment: 'prod',
        medianMs: null,
        p90Ms: null,
        versions: [],
        direct: 0,
        unknownStart: 0,
      },
    ]);
  });

  it('ignores what a hostile history or timeline holds that is no time or version', () => {
    const result = figures(30, {
      environments: [
        {
          name: 'prod',
          production: true,
          timeline: {
            complete: true,
            commits: [
              { at: '2026-03-10T12:00:00Z', version: '' },
              { at: 'yesterday', version: 'v7' },
              { at: 42 as unknown as string, version: 'v8' },
              { at: '2026-03-05T12:00:00Z', version: 'v1' },
            ],
          },
        },
      ],
      history: [
        entry('prod', 'q1', 'merged', 'soon', 'v1'),
        entry('prod', 'q2', 'requested', '2026-03-06T12:00:00Z', null),
        entry('prod', 'q2', 'merged', 'never', null, 'rollback'),
      ],
    });
    // Only v1 on 03-05 is a readable version at a readable time: one change.
    expect(result.environments[0].deployments.count).toBe(1);
    expect(result.environments[0].changeFailure.promotions).toBe(1);
  });

  /*
   * prod's complete timeline, with commit ids, and dev's:
   *   c0 01-15 v0   created prod
   *   c1 03-05 v1   the portal's commit for m1, by a clock two hours behind the portal's: m1
   *                 was asked for at 14:00, merged 03-07; only its commit id tells
   *   c2 03-10 v2   pushed by m2's pull request; m2 merged 03-10 13:00 by a merge commit the
   *                 timeline does not hold (path history shows the pull request's own commit)
   *   c3 03-12 v1   pushed straight to the branch: back to v1, outside the portal
   * dev ran v1 from 03-01 12:00 and v2 from 03-08 12:00.
   */
  const commit = (sha: string, at: string, version: string) => ({
    sha,
    at,
    version,
  });
  const prodShown: FiguresEnvironment = {
    name: 'prod',
    production: true,
    timeline: {
      complete: true,
      commits: [
        commit('c3', '2026-03-12T12:00:00Z', 'v1'),
        commit('c2', '2026-03-10T12:00:00Z', 'v2'),
        commit('c1', '2026-03-05T12:00:00Z', 'v1'),
        commit('c0', '2026-01-15T12:00:00Z', 'v0'),
      ],
    },
  };
  const devShown: FiguresEnvironment = {
    name: 'dev',
    production: false,
    timeline: timeline(true, [
      ['2026-03-01T12:00:00Z', 'v1'],
      ['2026-03-08T12:00:00Z', 'v2'],
    ]),
  };
  const merges: FiguresHistoryEntry[] = [
    entry('prod', 'm1', 'requested', '2026-03-05T14:00:00Z', 'v1'),
    {
      ...entry('prod', 'm1', 'merged', '2026-03-07T12:00:00Z', 'v1'),
      commits: ['c1'],
    },
    entry('prod', 'm2', 'requested', '2026-03-09T12:00:00Z', 'v2'),
    {
      ...entry('prod', 'm2', 'merged', '2026-03-10T13:00:00Z', 'v2'),
      commits: ['e9', 'merge-of-m2'],
    },
  ];

  it('counts a portal merge the timeline shows once, matched by its commit or by its version in time, from when it landed', () => {
    const result = figures(30, {
      environments: [devShown, prodShown],
      history: merges,
    });
    // prod: v1 (c1 = m1, landed 03-07), v2 (c2 = m2 by version, committed between its request
    // and merge, landed 03-10 13:00), v1 again (c3, outside) = 3, not 5.
    const prod = of(result, 'prod');
    expect(prod.deployments.count).toBe(3);
    expect(prod.deployments.weeks.map(w => w.count)).toEqual([1, 2, 0, 0, 0]);
    // v1 ran in dev from 03-01 12:00 and in prod from m1's merge on 03-07 12:00: 6 days;
    // v2 dev 03-08 12:00 -> prod 03-10 13:00: 2 days and 1 hour. Its return on 03-12 is no
    // first run.
    expect(result.leadTime[0].versions).toEqual([
      {
        version: 'v1',
        firstEnvironment: 'dev',
        firstAt: '2026-03-01T12:00:00.000Z',
        productionAt: '2026-03-07T12:00:00.000Z',
        ms: 6 * DAY,
      },
      {
        version: 'v2',
        firstEnvironment: 'dev',
        firstAt: '2026-03-08T12:00:00.000Z',
        productionAt: '2026-03-10T13:00:00.000Z',
        ms: 2 * DAY + HOUR,
      },
    ]);
    // Going back to v1 outside the portal is a deployment, not a rollback: m1 and m2 are the
    // promotions, none failed.
    expect(prod.changeFailure).toEqual({
      promotions: 2,
      rollbacks: 0,
      failed: 0,
      rate: 0,
    });
    expect(prod.restore).toEqual({ medianMs: null, rollbacks: [] });
  });

  it('counts a merge newer than the timeline until the timeline shows it, and then once', () => {
    const m3 = [
      entry(
        'prod',
        'm3',
        'requested',
        '2026-03-20T12:00:00Z',
        'v2',
        'rollback',
      ),
      {
        ...entry(
          'prod',
          'm3',
          'merged',
          '2026-03-20T14:00:00Z',
          'v2',
          'rollback',
        ),
        commits: ['c4'],
      },
    ];
    const withM3 = [...merges, ...m3];
    // Read before m3 landed: the timeline ends at c3, so m3 (back to v2) counts by itself.
    const before = figures(30, {
      environments: [devShown, prodShown],
      history: withM3,
    });
    // Read after: c4 is m3's commit, dated when it was asked for.
    const caughtUp = figures(30, {
      environments: [
        devShown,
        {
          ...prodShown,
          timeline: {
            complete: true,
            commits: [
              commit('c4', '2026-03-20T12:00:00Z', 'v2'),
              ...prodShown.timeline!.commits,
            ],
          },
        },
      ],
      history: withM3,
    });
    for (const result of [before, caughtUp]) {
      const prod = of(result, 'prod');
      // v1 03-07, v2 03-10, v1 03-12, v2 03-20 14:00 = 4.
      expect(prod.deployments.count).toBe(4);
      expect(prod.deployments.weeks.map(w => w.count)).toEqual([1, 2, 1, 0, 0]);
      expect(prod.restore.rollbacks).toEqual([
        expect.objectContaining({ promotionId: 'm3', ms: 2 * HOUR }),
      ]);
    }
    // A merge of the version the environment already runs, the timeline not read since, is none.
    const again = figures(30, {
      environments: [devShown, prodShown],
      history: [
        ...merges,
        { ...entry('prod', 'm4', 'merged', '2026-03-21T12:00:00Z', 'v1') },
      ],
    });
    expect(of(again, 'prod').deployments.count).toBe(3);
  });

  it('refuses a window other than 7, 30 or 90 days', () => {
    expect(() => figures(31)).toThrow(RangeError);
    expect(() => figures(Number.NaN)).toThrow(RangeError);
  });
});

describe('computeOwnerFigures', () => {
  it('pools every service of an owner rather than averaging their figures', () => {
    const shop = figures(30);
    const quiet = figures(30, {
      environments: [{ name: 'prod', production: true, timeline: null }],
      history: [],
    });
    // Deployments: dev 4 + staging 3 + prod 5 + prod-eu 2 = 14, 14 / (30 / 7) = 3.27;
    // production: 5 + 2 = 7, 1.63. Lead times pooled: [4, 4.5, 5, 6, 19] days: median 5,
    // p90 the ceil(4.5) = 5th: 19. Promotions dev 1 + prod 7 = 8, failures 3 + 1: 0.5.
    // Restored: 2 h and 4 h, median 3 h; r2 unrestored.
    expect(computeOwnerFigures('group:default/team-a', [shop, quiet])).toEqual({
      owner: 'group:default/team-a',
      services: 2,
      deployments: { count: 14, perWeek: 3.27 },
      productionDeployments: { count: 7, perWeek: 1.63 },
      leadTime: { medianMs: 5 * DAY, p90Ms: 19 * DAY, versions: 5 },
      changeFailure: { promotions: 8, rollbacks: 3, failed: 1, rate: 0.5 },
      restore: { medianMs: 3 * HOUR, restored: 2, unrestored: 1 },
    });
  });

  it('has no figures for an owner without services', () => {
    expect(computeOwnerFigures('group:default/none', [])).toMatchObject({
      services: 0,
      deployments: { count: 0, perWeek: 0 },
      leadTime: { medianMs: null, p90Ms: null, versions: 0 },
      changeFailure: { rate: null },
    });
  });
});

describe('median and p90', () => {
  it('takes the middle, the mean of the two middles, and the nearest rank', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(p90([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toBe(9);
    expect(p90([10, 1])).toBe(10);
    expect(median([])).toBeNull();
  });
});
