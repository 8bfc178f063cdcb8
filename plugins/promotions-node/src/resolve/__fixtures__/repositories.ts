import path from 'node:path';
import { parse } from 'yaml';
import { FixtureCommit } from '../../testing/gitFixture';
import { shopHistory } from '../../testing/shopFixture';

type History = Array<{ files: Record<string, string | null> }>;

/** The files a history of commits leaves, each commit writing or (null) deleting files. */
function replay(history: History): Record<string, string> {
  const files: Record<string, string> = {};
  for (const commit of history) {
    for (const [file, content] of Object.entries(commit.files)) {
      if (content === null) delete files[file];
      else files[file] = content;
    }
  }
  return files;
}

/** The example GitOps repository as its history (`examples/gitops/history.yaml`) leaves it. */
export function exampleRepositoryFiles(
  history: string,
): Record<string, string> {
  return replay(parse(history) as History);
}

/** The `shop` fixture repository after its last commit. */
export function shopRepositoryFiles(): Record<string, string> {
  return replay(shopHistory as FixtureCommit[]);
}

const KUSTOMIZATION = /(^|\/)(kustomization\.ya?ml|Kustomization)$/;

/** Every directory of a repository whose kustomization is not a Component: each can be built. */
export function kustomizeEnvironments(files: Record<string, string>) {
  return Object.entries(files)
    .filter(
      ([file, content]) =>
        KUSTOMIZATION.test(file) && !/^kind:\s*Component\s*$/m.test(content),
    )
    .map(([file]) => path.posix.dirname(file))
    .sort();
}
