// How an ImagePolicy picks the latest tag (Flux's internal/policy): `semver` (the highest version
// within a Masterminds range; pre-releases only when the range names one), `alphabetical` and
// `numerical` (`asc` picks the highest), after an optional `filterTags` regular expression whose
// `extract` template turns each tag into the value compared, e.g. a timestamp. Patterns are Go (RE2)
// regular expressions; the few RE2 forms JavaScript spells differently are translated, and those it
// cannot express are refused rather than matched differently.
import type { ImagePolicySpec } from '../api/image.ts';
import { compareVersions, parseConstraint, parseStrictVersion, type SemVer } from '../runtime/semver.ts';
import { expandTemplate, goRegExp } from './goregexp.ts';

/** A spec that cannot be evaluated: the user must change it. */
export class InvalidPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPolicyError';
  }
}

export interface Policer {
  /** The selected tag; throws Error with Flux's message when none can be selected. */
  latest(tags: readonly string[]): string;
}

const emptyList = () => new Error('version list argument cannot be empty');

function semverPolicer(range: string): Policer {
  let constraint: ReturnType<typeof parseConstraint>;
  try {
    constraint = parseConstraint(range);
  } catch (err) {
    throw new InvalidPolicyError((err as Error).message);
  }
  return {
    latest(tags) {
      if (tags.length === 0) throw emptyList();
      let best: { tag: string; v: SemVer } | undefined;
      for (const tag of tags) {
        const v = parseStrictVersion(tag);
        // Strictly greater: of equal versions (`1.0.0`, `v1.0.0`) the first listed stays.
        if (v && constraint.check(v) && (!best || compareVersions(v, best.v) > 0)) best = { tag, v };
      }
      if (!best) throw new Error('unable to determine latest version from provided list');
      return best.tag;
    },
  };
}

/** `asc` (the default) or `desc`, case-insensitively, as Flux upper-cases it. */
function orderOf(order: string | undefined): 'ASC' | 'DESC' {
  const o = (order ?? '').toUpperCase();
  if (o === '' || o === 'ASC') return 'ASC';
  if (o === 'DESC') return 'DESC';
  throw new InvalidPolicyError(
    `invalid order argument provided: '${o}', must be one of: ${'ASC'}, ${'DESC'}`,
  );
}

function alphabeticalPolicer(order: 'ASC' | 'DESC'): Policer {
  return {
    latest(tags) {
      if (tags.length === 0) throw emptyList();
      // Byte order, as Go compares strings (tags are ASCII).
      const sorted = [...tags].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      return (order === 'ASC' ? sorted.at(-1) : sorted[0]) as string;
    },
  };
}

const decimalFloat = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const hexFloat = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/;

/** Go's strconv.ParseFloat(s, 64) on the forms it accepts; undefined where Go returns an error. */
export function parseGoFloat(s: string): number | undefined {
  if (decimalFloat.test(s)) return Number(s);
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(s);
  if (special) {
    if (special[2]!.toLowerCase() === 'nan') return special[1] ? undefined : Number.NaN;
    return special[1] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  const hex = hexFloat.exec(s);
  if (hex && (hex[2] || hex[3])) {
    const [, sign, int = '', frac = '', exp = '0'] = hex;
    const mantissa = Number.parseInt(`${int}${frac}` || '0', 16) / 16 ** frac.length;
    const v = mantissa * 2 ** Number(exp);
    return sign === '-' ? -v : v;
  }
  return undefined;
}

function numericalPolicer(order: 'ASC' | 'DESC'): Policer {
  return {
    latest(tags) {
      if (tags.length === 0) throw emptyList();
      let latest = '';
      let pv = 0;
      tags.forEach((tag, i) => {
        const cv = parseGoFloat(tag);
        if (cv === undefined) throw new Error(`failed to parse invalid numeric value '${tag}'`);
        // Flux's loop: a later tag of equal value replaces the current pick.
        if (i > 0 && ((order === 'ASC' && cv < pv) || (order === 'DESC' && cv > pv))) return;
        latest = tag;
        pv = cv;
      });
      return latest;
    },
  };
}

/** The policer of spec.policy (Flux's PolicerFromSpec); throws InvalidPolicyError. */
export function policerFromSpec(choice: ImagePolicySpec['policy']): Policer {
  if (choice.semver) return semverPolicer(choice.semver.range);
  if (choice.alphabetical) return alphabeticalPolicer(orderOf(choice.alphabetical.order));
  if (choice.numerical) return numericalPolicer(orderOf(choice.numerical.order));
  throw new InvalidPolicyError('given ImagePolicyChoice object is invalid');
}

/** spec.filterTags: the tags the pattern matches, each as its extracted value (the original tag's). */
export interface TagFilter {
  /** Extracted value → original tag; a later tag with the same value replaces an earlier one. */
  apply(tags: readonly string[]): Map<string, string>;
}

export function tagFilter(pattern: string, extract: string | undefined): TagFilter {
  let re: RegExp;
  try {
    re = goRegExp(pattern);
  } catch (err) {
    throw new InvalidPolicyError(
      `invalid regular expression pattern '${pattern}': ${(err as Error).message}`,
    );
  }
  return {
    apply(tags) {
      const out = new Map<string, string>();
      for (const tag of tags) {
        const m = re.exec(tag);
        if (!m) continue;
        out.set(extract ? expandTemplate(extract, m) : tag, tag);
      }
      return out;
    },
  };
}

/**
 * The tag selection of a spec (Flux's applyPolicy): checks the policy and the filter now, throwing
 * InvalidPolicyError for a spec that cannot be evaluated; the returned function throws Error when
 * no tag qualifies.
 */
export function compilePolicy(
  spec: Pick<ImagePolicySpec, 'policy' | 'filterTags'>,
): (tags: readonly string[]) => string {
  let policer: Policer;
  try {
    policer = policerFromSpec(spec.policy);
  } catch (err) {
    throw new InvalidPolicyError(`invalid policy: ${(err as Error).message}`);
  }
  if (!spec.filterTags) return (tags) => policer.latest(tags);
  let filter: TagFilter;
  try {
    filter = tagFilter(spec.filterTags.pattern ?? '', spec.filterTags.extract);
  } catch (err) {
    throw new InvalidPolicyError(`failed to filter tags: ${(err as Error).message}`);
  }
  return (tags) => {
    const filtered = filter.apply(tags);
    return filtered.get(policer.latest([...filtered.keys()])) ?? '';
  };
}
