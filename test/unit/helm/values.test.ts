// Helm values: merged and read as Helm does.
import assert from 'node:assert/strict';
import { mergeValues, parseValues } from '../../../controllers/runtime/helm/values.ts';

describe('runtime/helm/values', () => {
  it('merges maps recursively, replaces lists and scalars, keeps null, and leaves the inputs alone', () => {
    const a = { image: { repository: 'app', tag: '1.0' }, ports: [80, 443], keep: true };
    const b = { image: { tag: '2.0' }, ports: [8443], extra: null, keep: { now: 'a map' } };
    const aCopy = structuredClone(a);
    assert.deepEqual(mergeValues(a, b), {
      image: { repository: 'app', tag: '2.0' },
      ports: [8443],
      keep: { now: 'a map' },
      extra: null,
    });
    assert.deepEqual(a, aCopy);
  });

  it('reads a values document as Helm does: empty is {}, a list or scalar is refused', () => {
    assert.deepEqual(parseValues('', 'x'), {});
    assert.deepEqual(parseValues('# only a comment\n', 'x'), {});
    assert.throws(
      () => parseValues('- a\n', 'cm/x'),
      /unmarshaling values from 'cm\/x' failed: not a YAML map/,
    );
    assert.throws(() => parseValues('a: [\n', 'cm/x'), /unmarshaling values from 'cm\/x' failed/);
  });
});
