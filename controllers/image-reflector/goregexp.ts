// Go (RE2) regular expressions in JavaScript, for the patterns Flux's image APIs take (ImagePolicy
// filterTags, ImageRepository exclusionList): the forms JavaScript spells differently are translated,
// those it cannot express are refused rather than matched differently; and Go's Regexp.Expand.

const posixClasses: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  lower: 'a-z',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

/**
 * A Go regular expression as a JavaScript RegExp: `(?P<name>` named groups, leading `(?i)`/`(?s)`/`(?m)`
 * flags, `\A`, `\z` and ASCII `[[:class:]]` are translated; RE2 forms without an equivalent (`\Q…\E`,
 * `\p` classes, `(?U)`, flags in the middle) are refused. Throws an Error saying what is wrong.
 */
export function goRegExp(pattern: string): RegExp {
  const invalid = (why: string) => new Error(why);
  let source = pattern;
  let flags = '';
  const lead = /^\(\?([imsU]+)\)/.exec(source);
  if (lead) {
    if (lead[1]!.includes('U')) throw invalid('the (?U) flag is not supported by Tide');
    flags = [...new Set(lead[1])].join('');
    source = source.slice(lead[0].length);
  }
  if (/\\[QEpP]/.test(source)) throw invalid('\\Q…\\E and \\p{…} classes are not supported by Tide');
  if (/\(\?[imsU]+\)/.test(source)) throw invalid('flags after the start are not supported by Tide');
  source = source
    .replace(/\(\?P</g, '(?<')
    .replace(/\\A/g, '^')
    .replace(/\\z/g, '$')
    .replace(/\[:(\^?)([a-z]+):\]/g, (m, neg: string, name: string) => {
      const cls = posixClasses[name];
      if (!cls || neg) throw invalid(`the class ${m} is not supported by Tide`);
      return cls;
    });
  try {
    return new RegExp(source, flags);
  } catch (err) {
    throw invalid((err as Error).message.replace(/^Invalid regular expression: /, ''));
  }
}

/** Go's Regexp.Expand: `$1`, `${1}`, `$name`, `${name}` and `$$` in `template`, from one match. */
export function expandTemplate(template: string, match: RegExpExecArray): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i]!;
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    i++;
    if (template[i] === '$') {
      out += '$';
      i++;
      continue;
    }
    const m = /^(?:\{([\p{L}\p{Nd}_]+)\}|([\p{L}\p{Nd}_]+))/u.exec(template.slice(i));
    if (!m) {
      out += '$'; // malformed: the `$` is kept as text
      continue;
    }
    i += m[0].length;
    const name = (m[1] ?? m[2])!;
    const num = /^(?:0|[1-9]\d{0,7})$/.test(name) ? Number(name) : -1;
    const value = num >= 0 ? match[num] : match.groups?.[name];
    out += value ?? '';
  }
  return out;
}
