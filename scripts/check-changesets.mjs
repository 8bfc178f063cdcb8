// Fails when a public package changed on this branch and no changeset of the branch names it.
//   node scripts/check-changesets.mjs   (the checks of yarn test:all run it)
//
// The branch is compared with its merge base with the changesets base branch (`origin/main`,
// else `main`): first with `yarn changeset status --since=<merge base>`, then package by package.
// A change counts when it touches a file that the `changedFilePatterns` of .changeset/config.json
// match (source, config schema, migrations, package.json; not tests, API reports or lint
// settings). A changeset made with `yarn changeset --empty` says the branch releases nothing. On
// the base branch itself, as in a clean clone of main, the pending changesets must name every
// public package changed since the last release (the last `changeset version`, which deletes
// the changesets it releases), or since the first commit when nothing was released yet.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BUMPS = ['major', 'minor', 'patch', 'none'];

const git = (root, ...args) =>
  execFileSync('git', args, {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();

/** The packages that are published: every workspace not marked private, with its directory. */
export function publicPackages(root) {
  const manifest = JSON.parse(
    fs.readFileSync(path.join(root, 'package.json'), 'utf8'),
  );
  return manifest.workspaces
    .flatMap(pattern => {
      const parent = path.join(root, pattern.replace(/\/\*$/, ''));
      return fs.existsSync(parent)
        ? fs.readdirSync(parent).map(name => path.join(parent, name))
        : [];
    })
    .filter(dir => fs.existsSync(path.join(dir, 'package.json')))
    .map(dir => ({
      dir: path.relative(root, dir).split(path.sep).join('/'),
      manifest: JSON.parse(
        fs.readFileSync(path.join(dir, 'package.json'), 'utf8'),
      ),
    }))
    .filter(({ manifest }) => !manifest.private)
    .map(({ dir, manifest }) => ({ name: manifest.name, dir }));
}

/** The packages and bumps of a changeset's front matter, and whether it says what changed. */
export function parseChangeset(text) {
  const match = text.match(/^---\r?\n([\s\S]*?)^---\r?\n?([\s\S]*)$/m);
  if (!match || !text.startsWith('---')) return undefined;
  const releases = match[1]
    .split(/\r?\n/)
    .filter(line => line.trim())
    .map(line => {
      const release = line.match(/^\s*(['"]?)(\S+?)\1\s*:\s*(\S+)\s*$/);
      return release ? { name: release[2], type: release[3] } : { line };
    });
  return { releases, summary: match[2].trim() };
}

/** Whether a file of a package counts as a change for its users, by changesets' own patterns. */
export function isUserFacing(file, patterns) {
  const positive = patterns.filter(p => !p.startsWith('!'));
  const negative = patterns.filter(p => p.startsWith('!')).map(p => p.slice(1));
  return (
    positive.some(p => path.matchesGlob(file, p)) &&
    !negative.some(p => path.matchesGlob(file, p))
  );
}

/** Where the branch left the base branch, or undefined on the base branch or without one. */
export function findMergeBase(root, baseBranch) {
  for (const ref of [`origin/${baseBranch}`, baseBranch]) {
    try {
      git(root, 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`);
    } catch {
      continue;
    }
    const base = git(root, 'merge-base', 'HEAD', ref);
    return {
      ref,
      base: base === git(root, 'rev-parse', 'HEAD') ? undefined : base,
    };
  }
  return { ref: undefined, base: undefined };
}

/** Git's empty tree: comparing with it counts every tracked file as added. */
export const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

/**
 * The last release on the current branch: the last commit that deleted a changeset, as
 * `changeset version` does when it writes the changelogs; undefined when none did.
 */
export function lastRelease(root) {
  const commit = git(
    root,
    'log',
    '-1',
    '--diff-filter=D',
    '--format=%H',
    '--',
    '.changeset/*.md',
    ':!.changeset/README.md',
  );
  return commit || undefined;
}

/**
 * The problems of a branch's changesets: changesets that do not parse or name no public package,
 * and public packages changed since `base` that no changeset added or changed since then names.
 */
export function changesetProblems(root, base) {
  const config = JSON.parse(
    fs.readFileSync(path.join(root, '.changeset/config.json'), 'utf8'),
  );
  const patterns = config.changedFilePatterns ?? ['**'];
  const packages = publicPackages(root);
  const names = new Set(packages.map(p => p.name));
  const problems = [];

  // Uncommitted changes to files Git tracks count too, as `changeset status` counts them.
  const changed = git(root, 'diff', '--name-only', '--no-relative', base)
    .split('\n')
    .filter(Boolean);
  const changesets = changed.filter(
    file =>
      /^\.changeset\/[^/]+\.md$/.test(file) &&
      file !== '.changeset/README.md' &&
      fs.existsSync(path.join(root, file)),
  );
  const named = new Set();
  let empty = false;
  for (const file of changesets) {
    const changeset = parseChangeset(
      fs.readFileSync(path.join(root, file), 'utf8'),
    );
    if (!changeset) {
      problems.push(`${file} has no front matter (---) naming packages`);
      continue;
    }
    if (changeset.releases.length === 0) empty = true;
    for (const release of changeset.releases) {
      if (!release.name) {
        problems.push(
          `${file}: "${release.line}" is not "'<package>': <bump>"`,
        );
      } else if (!names.has(release.name)) {
        problems.push(`${file} names ${release.name}, not a public package`);
      } else if (!BUMPS.includes(release.type)) {
        problems.push(
          `${file} bumps ${release.name} by ${release.type}, not ${BUMPS.join(
            ', ',
          )}`,
        );
      } else {
        named.add(release.name);
      }
    }
    if (changeset.releases.length > 0 && !changeset.summary) {
      problems.push(`${file} does not say what the change means for users`);
    }
  }
  if (empty) return problems;

  for (const { name, dir } of packages) {
    const files = changed
      .filter(file => file.startsWith(`${dir}/`))
      .map(file => file.slice(dir.length + 1))
      .filter(file => isUserFacing(file, patterns));
    if (files.length > 0 && !named.has(name)) {
      const shown = files.slice(0, 3).join(', ');
      const more = files.length > 3 ? ` and ${files.length - 3} more` : '';
      problems.push(
        `${name} changed (${dir}: ${shown}${more}), but no pending changeset names it: run yarn changeset`,
      );
    }
  }
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const { baseBranch = 'main' } = JSON.parse(
    fs.readFileSync(path.join(root, '.changeset/config.json'), 'utf8'),
  );
  const { ref, base } = findMergeBase(root, baseBranch);
  if (!ref) {
    console.log(`No ${baseBranch} branch to compare with: nothing to check.`);
    process.exit(0);
  }
  if (!base) {
    const release = lastRelease(root);
    console.log(
      release
        ? `HEAD is ${ref}: its pending changesets must name every public package changed since the last release, ${release.slice(
            0,
            12,
          )}:`
        : `HEAD is ${ref} and nothing was released yet: its pending changesets must name every public package:`,
    );
    const problems = changesetProblems(root, release ?? EMPTY_TREE);
    for (const problem of problems) console.error(`  ${problem}`);
    if (problems.length > 0) process.exit(1);
    console.log('Every changed public package has a changeset.');
    process.exit(0);
  }
  console.log(`Comparing with ${base.slice(0, 12)}, where HEAD left ${ref}:`);
  try {
    execFileSync('yarn', ['changeset', 'status', `--since=${base}`], {
      cwd: root,
      stdio: 'inherit',
    });
  } catch {
    console.error('yarn changeset status failed: see its words above.');
    process.exit(1);
  }
  const problems = changesetProblems(root, base);
  for (const problem of problems) console.error(`  ${problem}`);
  if (problems.length > 0) process.exit(1);
  console.log('Every changed public package has a changeset.');
}
