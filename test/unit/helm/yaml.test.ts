// YAML read as Helm's Go code reads it (go-yaml v2 resolution through sigs.k8s.io/yaml) and written
// with sorted keys; plus go-yaml's float formatting used by the config digest.
import assert from 'node:assert/strict';
import { formatGoFloat, resolveGoScalar } from '../../../controllers/runtime/helm/goyaml.ts';
import { dumpYaml, isMap, parseYaml, yamlErrorMessage } from '../../../controllers/runtime/helm/yaml.ts';

describe('runtime/helm/yaml', () => {
  it('resolves plain scalars as go-yaml v2 does', () => {
    const doc = parseYaml(
      [
        'bools: [yes, On, n, "yes", off]',
        'nulls: [~, null, ""]',
        'ints: [0x1F, 0o17, 0777, 0b101, 1_000, -0b11, +5]',
        'floats: [1e3, .5, 1., +.5, -1.5e-3]',
        'strings: [1:20, 2001-12-14, 2001-12-14T21:59:43Z, 089x, .5e999, 1e, <<x]',
        'explicit: !!str 12',
        'dup: 1',
        'dup: 2',
      ].join('\n'),
    );
    assert.deepEqual(doc, {
      bools: [true, true, false, 'yes', false],
      nulls: [null, null, ''],
      ints: [31, 15, 511, 5, 1000, -3, 5],
      floats: [1000, 0.5, 1, 0.5, -0.0015],
      strings: ['1:20', '2001-12-14', '2001-12-14T21:59:43Z', '089x', '.5e999', '1e', '<<x'],
      explicit: '12',
      dup: 2,
    });
    assert.equal(parseYaml(''), null);
    assert.equal(parseYaml('# nothing\n'), null);
    assert.deepEqual(resolveGoScalar('0xFFFFFFFFFFFFFFFFFF'), { tag: 'str', value: '0xFFFFFFFFFFFFFFFFFF' });
    assert.deepEqual(resolveGoScalar('18446744073709551615'), { tag: 'int', value: 2 ** 64 });
  });

  it('dumps with keys sorted, sequences unindented and YAML 1.1 words quoted', () => {
    assert.equal(dumpYaml({ b: [1, { y: 1, x: 2 }], a: 'x' }), "a: x\nb:\n- 1\n- x: 2\n  'y': 1\n");
  });

  it('says what is wrong in one line, and tells maps from the rest', () => {
    let message = '';
    try {
      parseYaml('a: [\n');
    } catch (err) {
      message = yamlErrorMessage(err);
    }
    assert.ok(message.length > 0 && !message.includes('\n'), message);
    assert.ok(isMap({}) && !isMap([]) && !isMap(null) && !isMap(Buffer.from('x')));
  });

  it('formats floats as Go strconv.FormatFloat(f, g, -1, 64)', () => {
    const cases: [number, string][] = [
      [0.5, '0.5'],
      [0.1, '0.1'],
      [1e-5, '1e-05'],
      [1.5e-7, '1.5e-07'],
      [123456.5, '123456.5'],
      [1234567.5, '1.2345675e+06'],
      [-1e25, '-1e+25'],
      [1.8446744073709552e19, '1.8446744073709552e+19'],
      [5e-324, '5e-324'],
      [Number.POSITIVE_INFINITY, '.inf'],
      [Number.NaN, '.nan'],
    ];
    for (const [f, want] of cases) assert.equal(formatGoFloat(f), want, String(f));
  });
});
