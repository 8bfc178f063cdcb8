import { StoredPromotion } from './WorkflowStore';
import { codeCell, plainText, pullRequestBody } from './pullRequestText';

const promotion = (p: Partial<StoredPromotion> = {}): StoredPromotion => ({
  id: '0f3c2a9e-1b7d-4c55-9a61-2d4e8f0b7c13',
  entityRef: 'component:default/shop',
  environment: 'staging',
  repositoryId: 'gitops',
  kind: 'promotion',
  from: ['dev'],
  version: '1.2.0',
  previousVersion: '1.1.0',
  unknownVersion: false,
  state: 'opening',
  requestedBy: 'user:default/ana',
  requestedAt: '2026-11-25T10:00:00.000Z',
  updatedAt: '2026-11-25T10:00:00.000Z',
  baseBranch: 'main',
  baseCommit: 'a'.repeat(40),
  branch: 'promotions/shop/staging/0f3c2a9e',
  headCommit: null,
  pullRequest: null,
  changes: [],
  gates: [],
  decisions: [],
  mergedCommit: null,
  reason: null,
  queuedUntil: null,
  ...p,
});

const tableRows = (body: string) =>
  body.split('\n').filter(line => /^\| [A-Z]/.test(line));

describe('the pull request body', () => {
  it('keeps the table of an ordinary promotion as reviewers read it', () => {
    const body = pullRequestBody(promotion(), 'http://portal.example/shop');
    expect(body.split('\n')[0]).toBe('Promote shop to staging: 1.1.0 → 1.2.0.');
    expect(tableRows(body)).toEqual([
      '| Service | `component:default/shop` |',
      '| Kind | promotion |',
      '| From | `dev` |',
      '| To | `staging` |',
      '| Version | `1.1.0` → `1.2.0` |',
      '| Requested by | `user:default/ana` |',
    ]);
  });

  it('shows text with cell breaks, backticks, HTML and new lines literally, one row each', () => {
    const body = pullRequestBody(
      promotion({
        environment: 'staging|`x` <b>',
        version: '1.2.0 | <img src=x onerror=alert(1)>\n| Injected | row |',
        from: ['dev``', '`qa'],
      }),
      'http://portal.example/shop',
    );
    expect(body.split('\n')[0]).toBe(
      'Promote shop to staging\\|\\`x\\` \\<b\\>: 1.1.0 → 1.2.0 \\| \\<img src=x onerror=alert(1)\\> \\| Injected \\| row \\|.',
    );
    expect(tableRows(body)).toEqual([
      '| Service | `component:default/shop` |',
      '| Kind | promotion |',
      '| From | ``` dev`` ```, `` `qa `` |',
      '| To | ``staging\\|`x` <b>`` |',
      '| Version | `1.1.0` → `1.2.0 \\| <img src=x onerror=alert(1)> \\| Injected \\| row \\|` |',
      '| Requested by | `user:default/ana` |',
    ]);
    expect(body).not.toMatch(/^\| Injected/m);
  });

  it('escapes what Markdown or HTML would read in plain text and code spans', () => {
    expect(plainText('*a* _b_ [c](d) <e> &f; #g ~h~ !i \\j')).toBe(
      '\\*a\\* \\_b\\_ \\[c\\](d) \\<e\\> \\&f; \\#g \\~h\\~ \\!i \\\\j',
    );
    expect(codeCell('a|b')).toBe('`a\\|b`');
    expect(codeCell('a`b')).toBe('``a`b``');
    expect(codeCell('`a')).toBe('`` `a ``');
  });
});
