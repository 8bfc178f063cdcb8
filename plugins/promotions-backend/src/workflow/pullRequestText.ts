import { StoredPromotion } from './WorkflowStore';
import { humanizeEntityRef } from './people';

/** The marker that ties a pull request to its promotion. */
export const PROMOTION_MARKER = 'gitops-promotions:id';

const serviceName = (entityRef: string) =>
  humanizeEntityRef(entityRef).split('/').pop()!;

/** One line: what the promotion does. Also the merge commit's title. */
export function promotionTitle(p: StoredPromotion): string {
  const service = serviceName(p.entityRef);
  const change = `${p.previousVersion ?? 'nothing'} → ${p.version}`;
  return p.kind === 'rollback'
    ? `Roll back ${service} in ${p.environment}: ${change}`
    : `Promote ${service} to ${p.environment}: ${change}`;
}

/** The commit message of a promotion's change, with trailers a machine can read. */
export function commitMessage(p: StoredPromotion): string {
  return [
    promotionTitle(p),
    '',
    `Service: ${p.entityRef}`,
    ...(p.from.length > 0 ? [`From: ${p.from.join(', ')}`] : []),
    `Requested-by: ${p.requestedBy}`,
    `Promotion-Id: ${p.id}`,
    '',
  ].join('\n');
}

/** Text as a code span in a table cell, literal whatever it holds: no cell break, HTML or line. */
export function codeCell(text: string): string {
  const flat = text.replace(/[\r\n]+/g, ' ').replace(/\|/g, '\\|');
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map(r => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = /^`|`$/.test(flat) ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** Text shown literally in Markdown: no emphasis, link, HTML or table cell break. */
export function plainText(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/[\\`*_[\]<>&|~#!]/g, '\\$&');
}

/** The pull request's body: service, from, to, version, requester, and a link back. */
export function pullRequestBody(p: StoredPromotion, entityUrl: string): string {
  const rows = [
    ['Service', codeCell(p.entityRef)],
    ['Kind', p.kind === 'rollback' ? 'rollback' : 'promotion'],
    ['From', p.from.length > 0 ? p.from.map(codeCell).join(', ') : '–'],
    ['To', codeCell(p.environment)],
    [
      'Version',
      `${codeCell(p.previousVersion ?? 'nothing')} → ${codeCell(p.version)}`,
    ],
    ['Requested by', codeCell(p.requestedBy)],
  ];
  return [
    `${plainText(promotionTitle(p))}.`,
    '',
    '| | |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    '',
    ...(p.unknownVersion
      ? [
          '**No upstream environment runs this version.** It was asked for explicitly.',
          '',
        ]
      : []),
    `Review, approve and merge it in the portal: ${entityUrl}`,
    '',
    `<!-- ${PROMOTION_MARKER}=${p.id} -->`,
    '',
  ].join('\n');
}
