// Semantic versions and ranges as Helm and Flux evaluate them (github.com/Masterminds/semver/v3 3.4):
// ranges mean what they mean for `helm pull --version` and Flux's HelmChart `.spec.version`, which
// differs from npm's `semver` in details (prerelease handling, `,` as AND, `1.2` as a version).

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  /** Prerelease without the leading `-`; '' when none. */
  prerelease: string;
  /** Build metadata without the leading `+`; '' when none. */
  metadata: string;
  /** The text it was parsed from. */
  original: string;
}

const num = '(0|[1-9]\\d*)';
const preId = '(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)';
const strictRe = new RegExp(
  `^${num}\\.${num}\\.${num}(?:-(${preId}(?:\\.${preId})*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$`,
);
// Masterminds NewVersion: optional `v`, optional minor and patch, leading zeros coerced.
const looseRe =
  /^v?([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;
const metadataRe = /^[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*$/;

function toInt(s: string | undefined): number | undefined {
  if (s === undefined || s === '') return 0;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Lenient parse (Masterminds NewVersion): `v1.2`, `1`, `01.2.3` are versions. */
export function parseVersion(text: string): SemVer | undefined {
  const m = looseRe.exec(text);
  if (!m) return undefined;
  const [major, minor, patch] = [toInt(m[1]), toInt(m[2]), toInt(m[3])];
  if (major === undefined || minor === undefined || patch === undefined) return undefined;
  const prerelease = m[4] ?? '';
  // A numeric prerelease identifier must not have leading zeros (semver 2.0.0 §9).
  if (prerelease.split('.').some((id) => /^0\d+$/.test(id))) return undefined;
  return { major, minor, patch, prerelease, metadata: m[5] ?? '', original: text };
}

/**
 * Strict parse with an optional leading `v` (Flux's version.ParseVersion): what a chart version in a
 * repository index must look like to take part in range selection.
 */
export function parseStrictVersion(text: string): SemVer | undefined {
  const bare = text.startsWith('v') ? text.slice(1) : text;
  if (!strictRe.test(bare)) return undefined;
  return parseVersion(text);
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

function comparePrereleasePart(a: string, b: string): number {
  if (a === b) return 0;
  const aNum = /^\d+$/.test(a);
  const bNum = /^\d+$/.test(b);
  // A missing part sorts lower: 1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-alpha.beta.
  if (b === '') return 1;
  if (a === '') return -1;
  if (aNum && bNum) return Number(a) < Number(b) ? -1 : 1;
  if (aNum) return -1;
  if (bNum) return 1;
  return a < b ? -1 : 1;
}

function comparePrerelease(a: string, b: string): number {
  const as = a.split('.');
  const bs = b.split('.');
  for (let i = 0; i < Math.max(as.length, bs.length); i++) {
    const d = comparePrereleasePart(as[i] ?? '', bs[i] ?? '');
    if (d !== 0) return d;
  }
  return 0;
}

/** Orders by precedence; build metadata is ignored. */
export function compareVersions(a: SemVer, b: SemVer): number {
  for (const k of ['major', 'minor', 'patch'] as const) {
    if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  }
  if (a.prerelease === b.prerelease) return 0;
  if (a.prerelease === '') return 1;
  if (b.prerelease === '') return -1;
  return comparePrerelease(a.prerelease, b.prerelease);
}

// ---- ranges ----------------------------------------------------------------------------------

type Op = '' | '=' | '!=' | '>' | '<' | '>=' | '=>' | '<=' | '=<' | '~' | '~>' | '^';

interface Comparator {
  op: Op;
  con: SemVer;
  text: string;
  /** `*`, `1.x`, `1.2.x`, `1`, `1.2`: wildcards widen the comparison. */
  dirty: boolean;
  minorDirty: boolean;
  patchDirty: boolean;
}

/** A parsed range; `check` says whether a version satisfies it. */
export interface Constraint {
  readonly text: string;
  check(v: SemVer): boolean;
}

const ops = '=||!=|>|<|>=|=>|<=|=<|~|~>|\\^';
const cv =
  'v?([0-9|x|X|\\*]+)(\\.[0-9|x|X|\\*]+)?(\\.[0-9|x|X|\\*]+)?' +
  '(-([0-9A-Za-z\\-]+(\\.[0-9A-Za-z\\-]+)*))?' +
  '(\\+([0-9A-Za-z\\-]+(\\.[0-9A-Za-z\\-]+)*))?';
const comparatorRe = new RegExp(`^\\s*(${ops})\\s*(${cv})\\s*$`);
const hyphenRe = new RegExp(`\\s*(${cv})\\s+-\\s+(${cv})\\s*`, 'g');
const findRe = new RegExp(`(${ops})\\s*(${cv})`, 'g');
const validGroupRe = new RegExp(`^(\\s*(${ops})\\s*(${cv})\\s*)((?:\\s+|,\\s*)(${ops})\\s*(${cv})\\s*)*$`);

const isX = (s: string | undefined) => s === 'x' || s === 'X' || s === '*';
const strip = (s: string | undefined) => (s ?? '').replace(/^\./, '');

function parseComparator(text: string): Comparator {
  const m = comparatorRe.exec(text);
  if (!m) throw new Error(`improper constraint: ${text}`);
  const [op, ver, major, minor, patch, pre] = [m[1] as Op, m[2] ?? '', m[3], m[4], m[5], m[6] ?? ''];
  let base = ver;
  let dirty = false;
  let minorDirty = false;
  let patchDirty = false;
  if (isX(major)) {
    base = `0.0.0${pre}`;
    dirty = true;
  } else if (!minor || isX(strip(minor))) {
    base = `${major}.0.0${pre}`;
    dirty = minorDirty = true;
  } else if (!patch || isX(strip(patch))) {
    base = `${major}${minor}.0${pre}`;
    dirty = patchDirty = true;
  }
  const con = parseVersion(base);
  if (!con) throw new Error(`improper constraint: ${text}`);
  return { op, con, text: `${op}${ver}`, dirty, minorDirty, patchDirty };
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
  // `!=1.2.x` excludes every 1.2 patch; prereleases differ only by their prerelease part.
  return (v.prerelease !== '' || c.con.prerelease !== '') && v.prerelease !== c.con.prerelease;
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
 * Parses a range: comparators joined by spaces or commas (AND) and `||` (OR), `a - b` hyphen
 * ranges, `x`/`*` wildcards, `~` and `^`. Throws `improper constraint: …` on bad input.
 *
 * Prereleases match only when a comparator of the same AND group names a prerelease
 * (`>=1.0.0-0 <2`), as in Masterminds 3.4; `*` never matches `2.0.0-rc.1`.
 */
export function parseConstraint(text: string): Constraint {
  const rewritten = text.replace(hyphenRe, (_all, from: string, ...rest: unknown[]) => {
    // The second version is the capture group right after the first version's nine groups.
    return `>= ${from}, <= ${rest[9] as string}`;
  });
  const groups = rewritten.split('||').map((group) => {
    if (!validGroupRe.test(group)) throw new Error(`improper constraint: ${group}`);
    const parts = group.match(findRe) ?? [group];
    const comparators = parts.map(parseComparator);
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
