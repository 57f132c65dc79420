// .helmignore rules exactly as Helm's pkg/ignore applies them, quirks included: no `**`, a rule
// without `/` matches the base name, and a `!` rule ignores everything it does not match (so a chart
// with `!x` loses its Chart.yaml, as with `helm package`).

interface Rule {
  raw: string;
  negate: boolean;
  mustDir: boolean;
  /** Match against the base name only (the rule has no `/`). */
  baseName: boolean;
  re: RegExp;
}

export interface IgnoreRules {
  /** True when the chart-relative path (`/`-separated) is excluded. */
  ignores(path: string, isDir: boolean): boolean;
}

const escapeRe = (c: string) => c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

function badPattern(pattern: string): Error {
  return new Error(`syntax error in pattern '${pattern}'`);
}

// Reads a `[...]` class starting after `[`; returns the regex class and the index after `]`.
function readClass(p: string, start: number): [string, number] {
  let i = start;
  let out = '[';
  if (p[i] === '^') {
    out += '^';
    i++;
  }
  let count = 0;
  const readChar = (): string => {
    if (p[i] === '\\') i++;
    const c = p[i];
    if (c === undefined) throw badPattern(p);
    i++;
    return c;
  };
  while (true) {
    if (i >= p.length) throw badPattern(p);
    if (p[i] === ']' && count > 0) return [`${out}]`, i + 1];
    if (p[i] === '-' || p[i] === ']') throw badPattern(p);
    const lo = readChar();
    if (p[i] === '-') {
      i++;
      const hi = readChar();
      if (hi < lo) throw badPattern(p);
      out += `${escapeRe(lo)}-${escapeRe(hi)}`;
    } else {
      out += escapeRe(lo);
    }
    count++;
  }
}

/** Compiles a Go filepath.Match pattern; throws on a malformed one, as Go's ErrBadPattern. */
function compileMatch(pattern: string): RegExp {
  let out = '^';
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i] as string;
    if (c === '*') {
      out += '[^/]*';
      i++;
    } else if (c === '?') {
      out += '[^/]';
      i++;
    } else if (c === '[') {
      const [cls, next] = readClass(pattern, i + 1);
      out += cls;
      i = next;
    } else if (c === '\\') {
      const lit = pattern[i + 1];
      if (lit === undefined) throw badPattern(pattern);
      out += escapeRe(lit);
      i += 2;
    } else {
      out += escapeRe(c);
      i++;
    }
  }
  return new RegExp(`${out}$`);
}

function parseRule(line: string): Rule | undefined {
  let rule = line.trim();
  if (rule === '' || rule.startsWith('#')) return undefined;
  if (rule.includes('**')) throw new Error(`double-star (**) syntax is not supported: '${rule}'`);
  const raw = rule;
  const negate = rule.startsWith('!');
  if (negate) rule = rule.slice(1);
  const mustDir = rule.endsWith('/');
  if (mustDir) rule = rule.slice(0, -1);
  if (rule.startsWith('/')) rule = rule.slice(1);
  const baseName = !raw.replace(/^!/, '').replace(/\/$/, '').includes('/');
  return { raw, negate, mustDir, baseName, re: compileMatch(rule) };
}

// One rule's verdict: true = ignore now, false = keep evaluating.
function verdict(r: Rule, path: string, isDir: boolean): boolean {
  const subject = r.baseName ? (path.split('/').pop() ?? path) : path;
  if (r.negate) return (r.mustDir && !isDir) || !r.re.test(subject);
  return (!r.mustDir || isDir) && r.re.test(subject);
}

/** Parses .helmignore text; Helm's default `templates/.?*` rule is appended. */
export function parseHelmignore(text: string): IgnoreRules {
  const rules = [...text.split(/\r?\n/), 'templates/.?*']
    .map(parseRule)
    .filter((r): r is Rule => r !== undefined);
  return {
    ignores(path, isDir) {
      if (path === '' || path === '.' || path === './') return false;
      return rules.some((r) => verdict(r, path, isDir));
    },
  };
}
