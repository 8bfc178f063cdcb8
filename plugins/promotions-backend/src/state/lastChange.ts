import { CommitInfo } from '@gitops-promotions/plugin-promotions-node';
import { LastChange } from '@gitops-promotions/plugin-promotions-common';

/** Parses `#123` from a commit's first line: `Merge pull request #123 …` or `… (#123)`. */
export function pullRequestNumber(message: string): number | null {
  const firstLine = message.split('\n', 1)[0];
  const match =
    /Merge pull request #(\d+)/.exec(firstLine) ??
    /\(#(\d+)\)/.exec(firstLine) ??
    /#(\d+)/.exec(firstLine);
  return match ? Number(match[1]) : null;
}

/** The last change of an environment as shown: who, when, which commit and pull request. */
export function toLastChange(
  commit: CommitInfo | undefined,
): LastChange | null {
  if (!commit) return null;
  return {
    commit: commit.sha,
    author: commit.authorName,
    at: commit.authoredAt,
    pullRequest: pullRequestNumber(commit.message),
    message: commit.message.split('\n', 1)[0],
  };
}
