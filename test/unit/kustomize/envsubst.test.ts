// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Flux ${var} expressions are the subject of these tests
import assert from 'node:assert/strict';
import { EnvsubstError, envsubst, globToRegExp } from '../../../controllers/runtime/kustomize/envsubst.ts';

const vars: Record<string, string> = {
  app: 'podinfo',
  empty: '',
  file: 'path/to/archive.tar.gz',
  Name: 'Frontend',
};

function sub(text: string, strict = true): string {
  return envsubst(text, (n) =>
    Object.hasOwn(vars, n) ? { value: vars[n] ?? '', set: true } : { value: '', set: !strict },
  );
}

describe('kustomize/build/envsubst (fluxcd/pkg/envsubst grammar)', () => {
  const table: [string, string, string][] = [
    ['plain variable', 'name: ${app}', 'name: podinfo'],
    ['several in one line', '${app}-${app}', 'podinfo-podinfo'],
    ['$var without braces is left alone', 'echo $app $HOME', 'echo $app $HOME'],
    ['$${var} escapes to a literal ${var}', 'x: $${app}', 'x: ${app}'],
    ['$$ is an escaped $', 'pid: $$', 'pid: $'],
    ['$$ before ${var} leaves one $ then the value', '$$${app}', '$podinfo'],
    ['$$$${var} leaves $${var}', '$$$${app}', '$${app}'],
    [':= default for an unset variable', '${missing:=dev}', 'dev'],
    [':= default for an empty variable', '${empty:=dev}', 'dev'],
    [':= keeps a set value', '${app:=dev}', 'podinfo'],
    [':- default', '${missing:-fallback}', 'fallback'],
    ['= default', '${missing=x}', 'x'],
    ['default with a nested variable', '${missing:=${app}-v2}', 'podinfo-v2'],
    ['empty default', '${missing:=}', ''],
    ['substring from a position', '${app:3}', 'info'],
    ['substring with a length', '${app:0:3}', 'pod'],
    ['substring with a negative length', '${app:1:-1}', 'odinf'],
    ['replace first', '${app/o/0}', 'p0dinfo'],
    ['replace all', '${app//o/0}', 'p0dinf0'],
    ['replace prefix', '${app/#pod/POD}', 'PODinfo'],
    ['replace suffix', '${app/%info/INFO}', 'podINFO'],
    ['replace with an escaped slash in the pattern', '${file/to\\/archive/x}', 'path/x.tar.gz'],
    ['delete a match (no replacement)', '${app/info/}', 'pod'],
    ['length', '${#app}', '7'],
    ['upper-case first / all', '${app^} ${app^^}', 'Podinfo PODINFO'],
    ['lower-case first / all', '${Name,} ${Name,,}', 'frontend frontend'],
    [
      'strip shortest / longest prefix (glob * stops at /)',
      '${file#*/} ${file##*/}',
      'to/archive.tar.gz to/archive.tar.gz',
    ],
    ['strip shortest / longest suffix', '${file%.*} ${file%%.*}', 'path/to/archive.tar path/to/archive'],
  ];
  for (const [what, input, want] of table) {
    it(what, () => assert.equal(sub(input), want));
  }

  it('strict mode: an unset variable without a default is an error naming it', () => {
    assert.throws(
      () => sub('replicas: ${REPLICAS}'),
      (e: unknown) => e instanceof EnvsubstError && e.variable === 'REPLICAS' && /"REPLICAS"/.test(e.message),
    );
    // so is one inside another operator
    assert.throws(() => sub('${missing/a/b}'), /variable not set \(strict mode\): "missing"/);
    // and one nested in a default, even when the outer variable is set
    assert.throws(() => sub('${app:=${missing}}'), /"missing"/);
  });

  it('non-strict mode: an unset variable expands to the empty string', () => {
    assert.equal(sub('[${missing}]', false), '[]');
  });

  it('an empty variable is set: no strict-mode error', () => {
    assert.equal(sub('[${empty}]'), '[]');
  });

  const syntaxErrors: [string, RegExp][] = [
    ['${ app}', /unable to parse variable name/],
    ['${}', /unable to parse variable name/],
    ['${app', /missing closing brace/],
    ['${app-default}', /missing closing brace/], // not in Flux's grammar
    ['${app.name}', /missing closing brace/],
    ['${app/x}', /bad substitution/],
    ['${app:}', /unable to parse substitution within function/],
  ];
  for (const [input, want] of syntaxErrors) {
    it(`syntax error: ${input}`, () => assert.throws(() => sub(`a: ${input}`), want));
  }

  it('parses the whole text before evaluating: a later syntax error wins over an earlier unset variable', () => {
    assert.throws(() => sub('${missing} ${bad'), /missing closing brace/);
  });

  it('globToRegExp follows Go path.Match', () => {
    assert.ok(globToRegExp('*.yaml')?.test('a.yaml'));
    assert.ok(!globToRegExp('*.yaml')?.test('dir/a.yaml'));
    assert.ok(globToRegExp('v[0-9]?')?.test('v1x'));
    assert.ok(globToRegExp('[^a]b')?.test('cb'));
    assert.ok(!globToRegExp('[^a]b')?.test('ab'));
    assert.equal(globToRegExp('[abc'), undefined);
  });
});
