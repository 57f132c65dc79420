// SemVer tag selection with Flux's rules: tags parse as strict SemVer 2 with an optional leading `v`
// (fluxcd/pkg version.ParseVersion), ranges follow Masterminds/semver v3 (the Go library Flux uses),
// whose syntax and pre-release handling differ from npm's: `,` or space for AND, `||` for OR,
// `1.2 - 1.4` hyphen ranges, `~>`, `=>`, `=<`, `!=`, and pre-release versions match only when the
// AND group has a comparator with a pre-release (since v3.4; then across all version numbers).
// node-semver supplies strict parsing and precedence (compare ignores build metadata, as Masterminds).
import semver, { type SemVer } from 'semver';

export interface TagVersion {
  tag: string;
  version: SemVer;
}

/** Parses a tag as Flux does: strict SemVer 2.0, optionally prefixed by one `v`. */
export function parseTagVersion(tag: string): TagVersion | undefined {
  const bare = tag.startsWith('v') ? tag.slice(1) : tag;
  if (!/^\d/.test(bare)) return undefined;
  const v = semver.parse(bare);
  return v ? { tag, version: v } : undefined;
}

type Op = '' | '=' | '!=' | '>' | '<' | '>=' | '<=' | '~' | '^';

interface Comparator {
  op: Op;
  con: SemVer;
  /** A part was a wildcard or missing: `1.x` (minorDirty), `1.2` (patchDirty), `*` (dirty only). */
  dirty: boolean;
  minorDirty: boolean;
  patchDirty: boolean;
}

/** A parsed range: OR of AND groups. */
export interface SemverRange {
  source: string;
  groups: { comparators: Comparator[]; includePrerelease: boolean }[];
}

const ops = '!=|>=|=>|<=|=<|~>|>|<|=|~|\\^';
const part = '[0-9xX*]+';
const cv = `v?(${part})(\\.${part})?(\\.${part})?(-[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?(\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?`;
const cvPlain = cv.replace(/\((?!\?)/g, '(?:');
const hyphenRange = new RegExp(`\\s*(${cvPlain})\\s+-\\s+(${cvPlain})\\s*`, 'g');
const oneComparator = new RegExp(`^\\s*(${ops})?\\s*${cv}\\s*$`);
const findComparators = new RegExp(`(?:${ops})?\\s*${cvPlain}`, 'g');
const validGroup = new RegExp(
  `^\\s*(?:${ops})?\\s*${cvPlain}\\s*(?:(?:\\s+|,\\s*)(?:${ops})?\\s*${cvPlain}\\s*)*$`,
);

const isX = (s: string | undefined) => s === 'x' || s === 'X' || s === '*';
const opAliases: Record<string, Op> = { '=>': '>=', '=<': '<=', '~>': '~' };

function parseComparator(text: string): Comparator {
  const m = oneComparator.exec(text);
  if (!m) throw new Error(`improper constraint: ${text.trim()}`);
  const [, rawOp = '', major = '', minorPart, patchPart, pre = ''] = m;
  const op = (opAliases[rawOp] ?? rawOp) as Op;
  const minor = minorPart?.slice(1);
  const patch = patchPart?.slice(1);
  let ver: string;
  let dirty = false;
  let minorDirty = false;
  let patchDirty = false;
  if (isX(major)) {
    ver = `0.0.0${pre}`;
    dirty = true;
  } else if (minor === undefined || isX(minor)) {
    ver = `${major}.0.0${pre}`;
    dirty = minorDirty = true;
  } else if (patch === undefined || isX(patch)) {
    ver = `${major}.${minor}.0${pre}`;
    dirty = patchDirty = true;
  } else ver = `${major}.${minor}.${patch}${pre}`;
  // Masterminds coerces leading zeros in constraints; so does loose parsing.
  const con = semver.parse(ver, { loose: true });
  if (!con) throw new Error(`improper constraint: ${text.trim()}`);
  return { op, con, dirty, minorDirty, patchDirty };
}

/** Parses a Masterminds-style range; throws Error("improper constraint: …") when invalid. */
export function parseRange(source: string): SemverRange {
  const rewritten = source.replace(hyphenRange, (_m, a: string, b: string) => ` >= ${a}, <= ${b} `);
  const groups = rewritten.split('||').map((seg) => {
    if (!validGroup.test(seg)) throw new Error(`improper constraint: ${seg.trim() || source}`);
    const comparators = (seg.match(findComparators) ?? []).map(parseComparator);
    return { comparators, includePrerelease: comparators.some((c) => c.con.prerelease.length > 0) };
  });
  return { source, groups };
}

const cmp = (a: SemVer, b: SemVer) => semver.compare(a, b);

function check(v: SemVer, c: Comparator): boolean {
  const { con } = c;
  switch (c.op) {
    case '':
    case '=':
      return c.dirty ? tilde(v, c) : cmp(v, con) === 0;
    case '!=':
      return notEqual(v, c);
    case '>':
      if (!c.dirty) return cmp(v, con) > 0;
      if (v.major !== con.major) return v.major > con.major;
      if (c.minorDirty) return false;
      if (c.patchDirty) return v.minor > con.minor;
      return cmp(v, con) > 0;
    case '<':
      return cmp(v, con) < 0;
    case '>=':
      return cmp(v, con) >= 0;
    case '<=':
      if (!c.dirty) return cmp(v, con) <= 0;
      if (v.major > con.major) return false;
      return !(v.major === con.major && v.minor > con.minor && !c.minorDirty);
    case '~':
      return tilde(v, c);
    case '^':
      return caret(v, c);
  }
}

function notEqual(v: SemVer, c: Comparator): boolean {
  const { con } = c;
  if (c.dirty) {
    if (con.major !== v.major) return true;
    if (c.minorDirty) return false;
    if (con.minor !== v.minor) return true;
    if (c.patchDirty) return v.prerelease.join('.') !== con.prerelease.join('.');
    if (con.patch !== v.patch) return true;
  }
  return cmp(v, con) !== 0;
}

function tilde(v: SemVer, c: Comparator): boolean {
  const { con } = c;
  if (cmp(v, con) < 0) return false;
  if (con.major === 0 && con.minor === 0 && con.patch === 0 && !c.minorDirty && !c.patchDirty) return true;
  if (v.major !== con.major) return false;
  return v.minor === con.minor || c.minorDirty;
}

function caret(v: SemVer, c: Comparator): boolean {
  const { con } = c;
  if (cmp(v, con) < 0) return false;
  if (con.major > 0 || c.minorDirty) return v.major === con.major;
  if (v.major > 0) return false;
  if (con.minor > 0 || c.patchDirty) return v.minor === con.minor;
  if (v.minor > 0) return false;
  return v.patch === con.patch;
}

/** Whether a version satisfies the range (some AND group accepts it). */
export function satisfies(v: SemVer, range: SemverRange): boolean {
  return range.groups.some(
    (g) => (v.prerelease.length === 0 || g.includePrerelease) && g.comparators.every((c) => check(v, c)),
  );
}

/**
 * The highest tag whose version satisfies the range, or undefined. Tags that are not SemVer are
 * ignored. Equal versions (differing only in build metadata or the `v`) are ordered by tag name,
 * where Flux orders them by commit time, which ls-remote does not show.
 */
export function highestMatchingTag(tags: Iterable<string>, range: SemverRange): TagVersion | undefined {
  let best: TagVersion | undefined;
  for (const tag of tags) {
    const tv = parseTagVersion(tag);
    if (!tv || !satisfies(tv.version, range)) continue;
    const order = best ? cmp(tv.version, best.version) : 1;
    if (!best || order > 0 || (order === 0 && tv.tag > best.tag)) best = tv;
  }
  return best;
}
