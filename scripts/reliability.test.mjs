import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jestRuns, playwrightRuns, render, rowsOf } from './reliability.mjs';

const jest = {
  testResults: [
    {
      name: '/repo/plugins/x/src/a.test.ts',
      assertionResults: [
        {
          ancestorTitles: ['on SQLITE_3', 'hostile input: a promote body'],
          title: 'a `to` with a newline | gets 400',
          status: 'passed',
        },
        {
          ancestorTitles: ['on POSTGRES_15', 'hostile input: a promote body'],
          title: 'a `to` with a newline | gets 400',
          status: 'failed',
        },
        {
          ancestorTitles: [
            "fault: a crash, with the git provider on 'SQLITE_3'",
          ],
          title: 'finishes the promotion',
          status: 'passed',
        },
        {
          ancestorTitles: [
            "fault: a crash, with the git provider on 'POSTGRES_15'",
          ],
          title: 'finishes the promotion',
          status: 'passed',
        },
        {
          ancestorTitles: ['fault: GitHub'],
          title: 'serves the last state while GitHub answers 500',
          status: 'passed',
        },
        { ancestorTitles: ['other'], title: 'not listed', status: 'passed' },
        {
          ancestorTitles: ['fault: skipped'],
          title: 'not run',
          status: 'pending',
        },
      ],
    },
  ],
};

test('lists only the tests under a hostile-input or fault block, folding the runs of each database', () => {
  const rows = rowsOf(jestRuns(jest, '/repo'));
  assert.equal(rows.length, 5);
  const text = render(rows);
  assert.match(
    text,
    /\| a crash, with the git provider \| finishes the promotion \| `plugins\/x\/src\/a.test.ts` \| passed \(2 runs\) \|/,
  );
  assert.match(
    text,
    /\| a promote body \| a `to` with a newline \\\| gets 400 \| `plugins\/x\/src\/a.test.ts` \| \*\*FAILED\*\* \(2 runs\) \|/,
  );
  assert.match(
    text,
    /## Faults\n\n\| Fault \| What the suite does \| Test \| Result \|\n\| --- \| --- \| --- \| --- \|\n(.*\n)?\| GitHub \| serves the last state while GitHub answers 500 \| `plugins\/x\/src\/a.test.ts` \| passed \|/,
  );
  assert.doesNotMatch(text, /not listed|not run/);
});

test('reads the browser tests as well', () => {
  const runs = playwrightRuns({
    suites: [
      {
        title: 'faults.test.ts',
        file: 'faults.test.ts',
        suites: [
          {
            title: 'fault: Argo CD',
            file: 'faults.test.ts',
            specs: [
              {
                title: 'says how old the live state is',
                file: 'faults.test.ts',
                ok: true,
                tests: [{ results: [{ status: 'passed' }] }],
              },
            ],
          },
        ],
      },
    ],
  });
  assert.deepEqual(rowsOf(runs), [
    {
      kind: 'fault:',
      topic: 'Argo CD',
      does: 'says how old the live state is',
      file: 'packages/app/e2e-tests/faults.test.ts',
      passed: true,
    },
  ]);
});

test('says when no test tries a kind yet', () => {
  assert.match(render([]), /## Hostile input\n\nNo test tries one yet\./);
});
