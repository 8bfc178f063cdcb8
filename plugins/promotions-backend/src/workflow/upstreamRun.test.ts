import { upstreamRun } from './upstreamRun';

const at = (day: number) => new Date(Date.UTC(2026, 10, day, 9));
const commit = (sha: string, day: number, version: string | null) => ({
  sha,
  at: at(day).toISOString(),
  version,
});

describe('what an upstream runs now, and since when', () => {
  // Newest first: 1.2.0 from day 3, rolled back to 1.1.0 on day 5, 1.2.0 again on day 8.
  const timeline = {
    head: 'c4',
    commits: [
      commit('c4', 8, '1.2.0'),
      commit('c3', 5, '1.1.0'),
      commit('c2', 3, '1.2.0'),
      commit('c1', 1, '1.1.0'),
    ],
  };

  it('counts from the start of the current run, not from an earlier run it was rolled back from', () => {
    expect(upstreamRun({ stored: { version: '1.2.0', timeline } })).toEqual({
      version: '1.2.0',
      since: at(8),
    });
    // The portal's newest merge is the rollback: the merge of the earlier run does not count.
    expect(
      upstreamRun({
        stored: { version: '1.2.0', timeline },
        lastMerge: { version: '1.1.0', at: at(5), commits: ['c3'] },
      }),
    ).toEqual({ version: '1.2.0', since: at(8) });
    // A timeline that does not show the run says nothing of when it began.
    expect(
      upstreamRun({
        stored: {
          version: '1.2.0',
          timeline: { head: 'c3', commits: timeline.commits.slice(1) },
        },
      }),
    ).toEqual({ version: '1.2.0', since: null });
  });

  it('starts a run the portal merged when the merge landed, later than its commit is dated', () => {
    expect(
      upstreamRun({
        stored: { version: '1.2.0', timeline },
        lastMerge: { version: '1.2.0', at: at(9), commits: ['c4'] },
      }),
    ).toEqual({ version: '1.2.0', since: at(9) });
  });

  it('takes a merge the portal made after the last refresh as what runs now, since the merge', () => {
    // The stored state still shows 1.2.0; the rollback to 1.1.0 merged after it was read.
    expect(
      upstreamRun({
        stored: { version: '1.2.0', timeline },
        lastMerge: { version: '1.1.0', at: at(10), commits: ['c5', 'c6'] },
      }),
    ).toEqual({ version: '1.1.0', since: at(10) });
    // A refresh that saw the merge, or a change after it, is what runs.
    expect(
      upstreamRun({
        stored: { version: '1.2.0', timeline },
        lastMerge: { version: '1.1.0', at: at(4), commits: ['other'] },
      }),
    ).toEqual({ version: '1.2.0', since: at(8) });
    // A stored state that cannot tell what runs is not replaced by the merge.
    expect(
      upstreamRun({
        stored: { version: null, timeline: { head: 'c4', commits: [] } },
        lastMerge: { version: '1.2.0', at: at(10), commits: ['c5'] },
      }),
    ).toEqual({ version: null, since: null });
  });

  it('takes a fresh reading as what runs, since a moment not known when the stored state does not show it', () => {
    expect(
      upstreamRun({
        fresh: { version: '1.2.0' },
        stored: { version: '1.2.0', timeline },
      }),
    ).toEqual({ version: '1.2.0', since: at(8) });
    // Changed back to 1.2.0 outside the portal after the last refresh, which saw 1.1.0: the
    // portal's merge of 1.2.0 long before is no start of this run.
    expect(
      upstreamRun({
        fresh: { version: '1.2.0' },
        stored: {
          version: '1.1.0',
          timeline: { head: 'c3', commits: timeline.commits.slice(1) },
        },
        lastMerge: { version: '1.1.0', at: at(5), commits: ['c3'] },
      }),
    ).toEqual({ version: '1.2.0', since: null });
    expect(
      upstreamRun({
        fresh: { version: null },
        stored: { version: '1.2.0', timeline },
      }),
    ).toEqual({ version: null, since: null });
  });
});
