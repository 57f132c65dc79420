// Semantic versions and ranges with the rules of github.com/Masterminds/semver/v3 (3.5), the library
// Flux and Helm evaluate them with: GitRepository and OCIRepository `ref.semver`, HelmChart
// `.spec.version`, ImagePolicy `semver`. Its ranges are not npm's: `,` or space for AND, `||` for OR,
// `1.2`, `1.x` and `*` as wildcards, `a - b` hyphen ranges, `~>`, `=>`, `=<`; a pre-release version
// satisfies an AND group only when a comparator of that group has a pre-release, and then across all
// version numbers (`>=1.0.0-0 <2` admits `1.5.0-rc.1`).

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  /** Pre-release without the leading `-`; '' when none. */
  prerelease: string;
  /** Build metadata without the leading `+`; '' when none. */
  metadata: string;
  /** The text it was parsed from. */
  original: string;
}

// NewVersion with its 3.4 default (CoerceNewVersion): optional `v`, minor and patch; leading zeros
// in the numbers are coerced.
const looseRe =
  /^v?([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;
const metadataRe = /^[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*$/;

// Masterminds reads uint64; past 2^53 a JS number is inexact, so such versions do not parse.
function segment(s: string | undefined): number | undefined {
  if (s === undefined) return 0;
  const n = Number(s);
  return n <= Number.MAX_SAFE_INTEGER ? n : undefined;
}

/** Masterminds MaxVersionLen: longer strings are not versions. */
const MAX_VERSION_LENGTH = 256;

/** Lenient parse (Masterminds NewVersion): `v1.2`, `1`, `01.2.3` are versions. */
export function parseVersion(text: string): SemVer | undefined {
  if (Buffer.byteLength(text) > MAX_VERSION_LENGTH) return undefined;
  const m = looseRe.exec(text);
  if (!m) return undefined;
  const [major, minor, patch] = [segment(m[1]), segment(m[2]), segment(m[3])];
  if (major === undefined || minor === undefined || patch === undefined) return undefined;
  const prerelease = m[4] ?? '';
  // A numeric pre-release identifier must not have leading zeros (SemVer 2.0 §9), even here.
  if (prerelease.split('.').some((id) => /^0[0-9]+$/.test(id))) return undefined;
  return { major, minor, patch, prerelease, metadata: m[5] ?? '', original: text };
}

/**
 * Flux's tag parse (fluxcd/pkg version.ParseVersion): three dot-separated parts, then Masterminds
 * NewVersion, so `v1.2.3`, `1.2.3-rc.1` and CalVer `v2025.07.03` are versions and `1.2`, `v1` are not.
 * How Flux reads Git and OCI tags, chart versions of a repository index and image tags.
 */
export function parseStrictVersion(text: string): SemVer | undefined {
  return text.split('.', 3).length === 3 ? parseVersion(text) : undefined;
}

/** Canonical text: `1.2.0` for `v1.2`, with `-prerelease` and `+metadata`. */
export function formatVersion(v: SemVer): string {
  let s = `${v.major}.${v.minor}.${v.patch}`;
  if (v.prerelease) s += `-${v.prerelease}`;
  if (v.metadata) s += `+${v.metadata}`;
  return s;
}

/** Replaces the build metadata; throws when it is not a valid dot-separated identifier list. */
export function withMetadata(v: SemVer, metadata: string): SemVer {
  if (!metadataRe.test(metadata)) throw new Error(`invalid build metadata '${metadata}'`);
  return { ...v, metadata, original: formatVersion({ ...v, metadata }) };
}

const sign = (d: number) => (d < 0 ? -1 : d > 0 ? 1 : 0);

function comparePrereleasePart(a: string, b: string): number {
  if (a === b) return 0;
  // A missing part sorts lower: 1.0.0-alpha < 1.0.0-alpha.1.
  if (a === '') return -1;
  if (b === '') return 1;
  const aNum = /^[0-9]+$/.test(a);
  const bNum = /^[0-9]+$/.test(b);
  // Numeric identifiers have no leading zeros, so length then text orders them exactly.
  if (aNum && bNum) return a.length !== b.length ? sign(a.length - b.length) : a < b ? -1 : 1;
  if (aNum) return -1;
  if (bNum) return 1;
  return a < b ? -1 : 1;
}

/** Orders by SemVer precedence (-1, 0, 1); build metadata is ignored. */
export function compareVersions(a: SemVer, b: SemVer): number {
  for (const k of ['major', 'minor', 'patch'] as const) {
    if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  }
  if (a.prerelease === b.prerelease) return 0;
  if (a.prerelease === '') return 1;
  if (b.prerelease === '') return -1;
  const as = a.prerelease.split('.');
  const bs = b.prerelease.split('.');
  for (let i = 0; i < Math.max(as.length, bs.length); i++) {
    const d = comparePrereleasePart(as[i] ?? '', bs[i] ?? '');
    if (d !== 0) return d;
  }
  return 0;
}

// ---- ranges ----------------------------------------------------------------------------------

type Op = '' | '=' | '!=' | '>' | '<' | '>=' | '=>' | '<=' | '=<' | '~' | '~>' | '^';

interface Comparator {
  op: Op;
  con: SemVer;
  /** `*`, `1.x`, `1`, `1.2.x`, `1.2`: a wildcard or missing part widens the comparison. */
  dirty: boolean;
  minorDirty: boolean;
  patchDirty: boolean;
}

/** A parsed range; `check` says whether a version satisfies it. */
export interface Constraint {
  readonly text: string;
  check(v: SemVer): boolean;
}

// Masterminds' expressions, with Go's `\s` (no \v, no Unicode spaces). Its version pattern allows
// `|` in the numbers: such a comparator passes the syntax check and then fails to parse.
const ws = '[\\t\\n\\f\\r ]';
const cv =
  'v?([0-9|x|X|\\*]+)(\\.[0-9|x|X|\\*]+)?(\\.[0-9|x|X|\\*]+)?' +
  '(-([0-9A-Za-z\\-]+(\\.[0-9A-Za-z\\-]+)*))?' +
  '(\\+([0-9A-Za-z\\-]+(\\.[0-9A-Za-z\\-]+)*))?';
const cvPlain = cv.replace(/\((?!\?)/g, '(?:');
// Masterminds writes the operators as `=||!=|…`, an empty alternative included; an optional
// non-empty operator accepts the same text without letting two `\s*` share one run of spaces,
// which a backtracking engine (unlike Go's) would try in every split.
const op = '!=|>=|=>|<=|=<|~>|>|<|=|~|\\^';
const validGroupRe = new RegExp(
  `^${ws}*(?:(?:${op})${ws}*)?${cvPlain}(?:(?:${ws}+|${ws}*,${ws}*)(?:(?:${op})${ws}*)?${cvPlain})*${ws}*$`,
);
const comparatorRe = new RegExp(`(?:(${op})${ws}*)?(${cv})`, 'g');
const hyphenRe = new RegExp(`${ws}*(${cv})${ws}+-${ws}+(${cv})${ws}*`, 'g');
// Masterminds MaxConstraintLen and MaxConstraintGroups; they also bound what a backtracking engine
// (unlike Go's linear one) is given.
const MAX_RANGE_LENGTH = 512;
const MAX_RANGE_GROUPS = 32;

/** Go's %q of an ASCII string: what Masterminds quotes a bad constraint with. */
const goQuote = (s: string) => JSON.stringify(s);

const isX = (s: string) => s === 'x' || s === 'X' || s === '*';

/** Masterminds rewriteRange: `a - b` becomes `>= a, <= b ` (with its trailing space). */
function rewriteHyphens(text: string): string {
  let out = text;
  for (const m of text.matchAll(hyphenRe)) {
    const at = out.indexOf(m[0]);
    if (at >= 0) out = `${out.slice(0, at)}>= ${m[1]}, <= ${m[11]} ${out.slice(at + m[0].length)}`;
  }
  return out;
}

function toComparator(m: RegExpMatchArray): Comparator {
  const op = (m[1] ?? '') as Op;
  const [ver = '', major = '', minor = '', patch = '', pre = ''] = [m[2], m[3], m[4], m[5], m[6]];
  let base = ver;
  let dirty = false;
  let minorDirty = false;
  let patchDirty = false;
  // Metadata is dropped when a part is a wildcard, as Masterminds does.
  if (isX(major)) {
    base = `0.0.0${pre}`;
    dirty = true;
  } else if (minor === '' || isX(minor.slice(1))) {
    base = `${major}.0.0${pre}`;
    dirty = minorDirty = true;
  } else if (patch === '' || isX(patch.slice(1))) {
    base = `${major}${minor}.0${pre}`;
    dirty = patchDirty = true;
  }
  const con = parseVersion(base);
  if (!con) throw new Error('constraint parser error');
  return { op, con, dirty, minorDirty, patchDirty };
}

function tilde(v: SemVer, c: Comparator): boolean {
  if (compareVersions(v, c.con) < 0) return false;
  // ~0.0.0 (and `*`) accepts everything.
  if (c.con.major === 0 && c.con.minor === 0 && c.con.patch === 0 && !c.minorDirty && !c.patchDirty) {
    return true;
  }
  if (v.major !== c.con.major) return false;
  return v.minor === c.con.minor || c.minorDirty;
}

function caret(v: SemVer, c: Comparator): boolean {
  if (compareVersions(v, c.con) < 0) return false;
  if (c.con.major > 0 || c.minorDirty) return v.major === c.con.major;
  if (v.major > 0) return false;
  if (c.con.minor > 0 || c.patchDirty) return v.minor === c.con.minor;
  if (v.minor > 0) return false;
  return v.patch === c.con.patch;
}

function notEqual(v: SemVer, c: Comparator): boolean {
  if (!c.dirty) return compareVersions(v, c.con) !== 0;
  if (v.major !== c.con.major) return true;
  if (c.minorDirty) return false;
  if (v.minor !== c.con.minor) return true;
  // `!=1.2.x` excludes every 1.2 patch; pre-releases differ only by their pre-release part.
  if (c.patchDirty) return v.prerelease !== c.con.prerelease;
  if (v.patch !== c.con.patch) return true;
  return compareVersions(v, c.con) !== 0;
}

function greater(v: SemVer, c: Comparator): boolean {
  if (!c.dirty) return compareVersions(v, c.con) > 0;
  if (v.major !== c.con.major) return v.major > c.con.major;
  // `>1` needs 2.0.0 or higher; `>1.2` needs 1.3.0 or higher.
  if (c.minorDirty) return false;
  if (c.patchDirty) return v.minor > c.con.minor;
  return compareVersions(v, c.con) > 0;
}

function lessOrEqual(v: SemVer, c: Comparator): boolean {
  if (!c.dirty) return compareVersions(v, c.con) <= 0;
  if (v.major > c.con.major) return false;
  return !(v.major === c.con.major && v.minor > c.con.minor && !c.minorDirty);
}

function satisfies(v: SemVer, c: Comparator): boolean {
  switch (c.op) {
    case '':
    case '=':
      return c.dirty ? tilde(v, c) : compareVersions(v, c.con) === 0;
    case '!=':
      return notEqual(v, c);
    case '>':
      return greater(v, c);
    case '<':
      return compareVersions(v, c.con) < 0;
    case '>=':
    case '=>':
      return compareVersions(v, c.con) >= 0;
    case '<=':
    case '=<':
      return lessOrEqual(v, c);
    case '~':
    case '~>':
      return tilde(v, c);
    case '^':
      return caret(v, c);
  }
}

/**
 * Parses a range (Masterminds NewConstraint): comparators joined by spaces or commas (AND) and `||`
 * (OR), `a - b` hyphen ranges, `x`/`X`/`*` wildcards, `~`, `~>` and `^`. Throws an Error with
 * Masterminds' message on bad input (`improper constraint: "…"`), on ranges over 512 bytes and on
 * more than 32 `||` groups.
 */
export function parseConstraint(text: string): Constraint {
  if (Buffer.byteLength(text) > MAX_RANGE_LENGTH) {
    throw new Error(`constraint string is too long (max ${MAX_RANGE_LENGTH} bytes)`);
  }
  const ors = rewriteHyphens(text).split('||');
  if (ors.length > MAX_RANGE_GROUPS) throw new Error(`too many constraint groups (max ${MAX_RANGE_GROUPS})`);
  const groups = ors.map((group) => {
    if (!validGroupRe.test(group)) throw new Error(`improper constraint: ${goQuote(group)}`);
    const comparators = [...group.matchAll(comparatorRe)].map(toComparator);
    return { comparators, prerelease: comparators.some((c) => c.con.prerelease !== '') };
  });
  return {
    text,
    check: (v) =>
      groups.some(
        (g) => (v.prerelease === '' || g.prerelease) && g.comparators.every((c) => satisfies(v, c)),
      ),
  };
}

// ---- selection -------------------------------------------------------------------------------

export interface TagVersion {
  tag: string;
  version: SemVer;
}

export interface MatchOptions {
  /** Only tags this matches (unanchored, like Flux's semverFilter) take part. */
  filter?: RegExp;
  /** Parse tags as Masterminds NewVersion (`1.2`, `v1`) instead of strict SemVer with a `v`. */
  lenient?: boolean;
  /**
   * Orders tags of equal precedence (they differ in the `v` or build metadata): the greater wins.
   * Without it the first of them in `tags` wins.
   */
  tieBreak?: (a: string, b: string) => number;
}

/**
 * The tag with the highest version satisfying `range`, or undefined. Tags that do not parse are
 * skipped. Throws as parseConstraint when `range` is a string that does not parse.
 */
export function highestMatch(
  tags: Iterable<string>,
  range: string | Constraint,
  opts: MatchOptions = {},
): TagVersion | undefined {
  const constraint = typeof range === 'string' ? parseConstraint(range) : range;
  const parse = opts.lenient ? parseVersion : parseStrictVersion;
  let best: TagVersion | undefined;
  for (const tag of tags) {
    // `search` ignores lastIndex, so a global or sticky filter still tests every tag from its start.
    if (opts.filter && tag.search(opts.filter) < 0) continue;
    const version = parse(tag);
    if (!version || !constraint.check(version)) continue;
    const d = best ? compareVersions(version, best.version) : 1;
    if (d > 0 || (d === 0 && best && opts.tieBreak && opts.tieBreak(tag, best.tag) > 0)) {
      best = { tag, version };
    }
  }
  return best;
}
