// Which files of a source go into its artifact, with Flux's exact rules (fluxcd/pkg sourceignore, whose
// matcher is go-git's gitignore):
// - always excluded: `.git/ .gitignore .gitmodules .gitattributes` (they come first, so only an explicit
//   user negation such as `!.gitignore` brings one back);
// - default exclusions (images, archives, CI files, release and SOPS config) apply only when there are no
//   user patterns at all: any pattern read from a `.sourceignore` file or `spec.ignore` replaces them (as Flux's
//   storage.SourceIgnoreFilter does, even though the docs only say so of `spec.ignore`);
// - `.sourceignore` files are read in every directory (not below `.git`), each scoped to its directory;
//   `spec.ignore` comes last, so it wins over them.
// Matching differs from git in go-git's ways, which Tide keeps for identical artifacts: the last matching
// pattern decides; a pattern without `/` matches any path component, so it also excludes everything below
// a matching directory; a pattern with `/` is anchored to its file's directory and matches a path prefix;
// `**` is only special as a whole component; `[^...]` negates a class (not `[!...]`); a negation can
// re-include a file below an excluded directory. A malformed pattern matches nothing.

import { constants } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArchiveFilter } from '../runtime/artifact/archive.ts';

export const IGNORE_FILE = '.sourceignore';
export const EXCLUDE_VCS = ['.git/', '.gitignore', '.gitmodules', '.gitattributes'] as const;
export const EXCLUDE_EXT = [
  '*.jpg',
  '*.jpeg',
  '*.gif',
  '*.png',
  '*.wmv',
  '*.flv',
  '*.tar.gz',
  '*.zip',
] as const;
export const EXCLUDE_CI = [
  '.github/',
  '.circleci/',
  '.travis.yml',
  '.gitlab-ci.yml',
  'appveyor.yml',
  '.drone.yml',
  'cloudbuild.yaml',
  'codeship-services.yml',
  'codeship-steps.yml',
] as const;
export const EXCLUDE_EXTRA = ['**/.goreleaser.yml', '**/.sops.yaml', '**/.flux.yaml'] as const;

export interface IgnorePattern {
  /** Directory components the pattern is scoped to (where its .sourceignore lives); [] for the root. */
  readonly domain: readonly string[];
  readonly parts: readonly string[];
  /** A `!` pattern: re-includes what it matches. */
  readonly inclusion: boolean;
  readonly dirOnly: boolean;
  /** Contains a `/`: anchored and matched component by component. */
  readonly anchored: boolean;
  /** One matcher per part; undefined for a malformed part (never matches). */
  readonly regexps: ReadonlyArray<RegExp | undefined>;
}

export type MatchResult = 'exclude' | 'include' | undefined;

export function parsePattern(line: string, domain: readonly string[] = []): IgnorePattern {
  let p = line;
  const inclusion = p.startsWith('!');
  if (inclusion) p = p.slice(1);
  if (!p.endsWith('\\ ')) p = p.replace(/ +$/, '');
  const dirOnly = p.endsWith('/');
  if (dirOnly) p = p.slice(0, -1);
  const parts = p.split('/');
  return {
    domain: [...domain],
    parts,
    inclusion,
    dirOnly,
    anchored: p.includes('/'),
    regexps: parts.map(globToRegExp),
  };
}

/** Patterns from the text of an ignore file: one per line; blank lines and `#` comments are skipped. */
export function readPatterns(text: string, domain: readonly string[] = []): IgnorePattern[] {
  return text
    .split(/\r?\n/)
    .filter((line) => !line.startsWith('#') && line.trim() !== '')
    .map((line) => parsePattern(line, domain));
}

export function matchPattern(pattern: IgnorePattern, path: readonly string[], isDir: boolean): MatchResult {
  const { domain } = pattern;
  if (path.length <= domain.length) return undefined;
  for (let i = 0; i < domain.length; i++) if (path[i] !== domain[i]) return undefined;
  const rest = path.slice(domain.length);
  const matched = pattern.anchored ? globMatch(pattern, rest, isDir) : nameMatch(pattern, rest, isDir);
  if (!matched) return undefined;
  return pattern.inclusion ? 'include' : 'exclude';
}

/** Patterns in increasing priority; returns true when the path is excluded. */
export function createMatcher(
  patterns: readonly IgnorePattern[],
): (path: readonly string[], isDir: boolean) => boolean {
  return (path, isDir) => {
    for (let i = patterns.length - 1; i >= 0; i--) {
      const result = matchPattern(patterns[i]!, path, isDir);
      if (result !== undefined) return result === 'exclude';
    }
    return false;
  };
}

/** The most of a .sourceignore read: no list of patterns is near it. */
const MAX_IGNORE_FILE_BYTES = 1024 * 1024;

/**
 * The text of a .sourceignore that is a regular file, undefined otherwise. A checkout holds whatever
 * the repository does: a `.sourceignore` symlink to /dev/zero or to a file of the controller is not
 * followed (O_NOFOLLOW; a symlink is archived as nothing either), and only the first MAX bytes are read.
 */
async function readIgnoreFile(path: string): Promise<string | undefined> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(
    (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ELOOP') return undefined;
      throw e;
    },
  );
  if (fh === undefined) return undefined;
  try {
    if (!(await fh.stat()).isFile()) return undefined;
    const buf = Buffer.alloc(MAX_IGNORE_FILE_BYTES);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** The patterns of every .sourceignore below `dir` (itself first, then subdirectories in name order). */
export async function loadIgnorePatterns(
  dir: string,
  domain: readonly string[] = [],
): Promise<IgnorePattern[]> {
  const patterns: IgnorePattern[] = [];
  const text = await readIgnoreFile(join(dir, IGNORE_FILE));
  if (text !== undefined) patterns.push(...readPatterns(text, domain));
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
    Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)),
  );
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name === '.git') continue;
    patterns.push(...(await loadIgnorePatterns(join(dir, entry.name), [...domain, entry.name])));
  }
  return patterns;
}

/**
 * The archive filter of a source checked out at `rootDir` (true = keep), from its .sourceignore files
 * and `spec.ignore`. Plugs into buildArchive / storage.archive.
 */
export async function buildIgnoreFilter(rootDir: string, specIgnore?: string): Promise<ArchiveFilter> {
  const user = await loadIgnorePatterns(rootDir);
  if (specIgnore !== undefined) user.push(...readPatterns(specIgnore));
  const base =
    user.length > 0 ? EXCLUDE_VCS : [...EXCLUDE_VCS, ...EXCLUDE_EXT, ...EXCLUDE_CI, ...EXCLUDE_EXTRA];
  const patterns = [...base.map((p) => parsePattern(p)), ...user];
  const excluded = createMatcher(patterns);
  return Object.assign((relPath: string, isDir: boolean) => !excluded(relPath.split('/'), isDir), {
    walkExcludedDirs: patterns.some((p) => p.inclusion),
  });
}

// go-git's simpleNameMatch: the single part may match any component; a dir-only pattern matching the
// last component needs that component to be a directory.
function nameMatch(p: IgnorePattern, path: readonly string[], isDir: boolean): boolean {
  const re = p.regexps[0];
  if (re === undefined) return false;
  for (let i = 0; i < path.length; i++) {
    if (!re.test(path[i]!)) continue;
    return !(p.dirOnly && !isDir && i === path.length - 1);
  }
  return false;
}

// go-git's globMatch, kept as is (including its first-match-wins `**` traversal).
function globMatch(p: IgnorePattern, path: readonly string[], isDir: boolean): boolean {
  let rest = path;
  let matched = false;
  let canTraverse = false;
  for (let i = 0; i < p.parts.length; i++) {
    const part = p.parts[i]!;
    if (part === '') {
      canTraverse = false;
      continue;
    }
    if (part === '**') {
      if (i === p.parts.length - 1) break;
      canTraverse = true;
      continue;
    }
    const re = p.regexps[i];
    if (part.includes('**') || re === undefined || rest.length === 0) return false;
    if (canTraverse) {
      canTraverse = false;
      [matched, rest] = traverse(re, rest);
    } else {
      if (!re.test(rest[0]!)) return false;
      matched = true;
      rest = rest.slice(1);
    }
  }
  return matched && !(p.dirOnly && !isDir && rest.length === 0);
}

// After `**`: skips components up to the first one matching; returns whether one did and what follows.
function traverse(re: RegExp, path: readonly string[]): [boolean, readonly string[]] {
  for (let i = 0; i < path.length; i++) {
    if (re.test(path[i]!)) return [true, path.slice(i + 1)];
  }
  return [false, []];
}

/**
 * Go's filepath.Match syntax for one path component: `*`, `?`, `[...]` classes with ranges and `^`
 * negation, `\` escapes. Returns undefined for a malformed pattern (Go's ErrBadPattern).
 */
export function globToRegExp(glob: string): RegExp | undefined {
  let src = '';
  const chars = [...glob];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '*') src += '[^/]*';
    else if (c === '?') src += '[^/]';
    else if (c === '\\') {
      const next = chars[++i];
      if (next === undefined) return undefined;
      src += literal(next);
    } else if (c === '[') {
      const cls = parseClass(chars, i + 1);
      if (cls === undefined) return undefined;
      src += cls.src;
      i = cls.end;
    } else src += literal(c);
  }
  return new RegExp(`^${src}$`, 'u');
}

function parseClass(chars: string[], start: number): { src: string; end: number } | undefined {
  let i = start;
  const negate = chars[i] === '^';
  if (negate) i++;
  let ranges = '';
  let count = 0;
  for (;;) {
    const c = chars[i];
    if (c === undefined) return undefined;
    if (c === ']' && count > 0) break;
    const lo = classChar(chars, i);
    if (lo === undefined) return undefined;
    i = lo.next;
    let hi = lo;
    if (chars[i] === '-') {
      const h = classChar(chars, i + 1);
      if (h === undefined) return undefined;
      hi = h;
      i = h.next;
    }
    // An inverted range is legal in Go and matches nothing; `[]` / `[^]` keep that meaning in JS.
    if (lo.cp <= hi.cp) ranges += `\\u{${lo.cp.toString(16)}}-\\u{${hi.cp.toString(16)}}`;
    count++;
  }
  return { src: `[${negate ? '^' : ''}${ranges}]`, end: i };
}

// One (possibly escaped) character of a class; an unescaped `-` or `]` is malformed there, as in Go.
function classChar(chars: string[], i: number): { cp: number; next: number } | undefined {
  let c = chars[i];
  if (c === undefined || c === '-' || c === ']') return undefined;
  let next = i + 1;
  if (c === '\\') {
    c = chars[next];
    if (c === undefined) return undefined;
    next++;
  }
  return { cp: c.codePointAt(0)!, next };
}

function literal(c: string): string {
  // The syntax characters: the only identity escapes a `u` regexp accepts.
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}
