// .helmignore as Helm's pkg/ignore applies it, quirks included.
import assert from 'node:assert/strict';
import { parseHelmignore } from '../../../controllers/runtime/helm/helmignore.ts';

describe('runtime/helm/helmignore', () => {
  it('matches base names without a slash, paths with one, directories with a trailing slash', () => {
    const rules = parseHelmignore('# comment\n\n*.bak\n/secret.txt\ndocs/\nci/*.yaml\n');
    assert.equal(rules.ignores('x.bak', false), true);
    assert.equal(rules.ignores('deep/dir/x.bak', false), true);
    assert.equal(rules.ignores('secret.txt', false), true);
    assert.equal(rules.ignores('sub/secret.txt', false), false, 'a rooted rule is a path rule');
    assert.equal(rules.ignores('docs', true), true);
    assert.equal(rules.ignores('docs', false), false, 'a file named like a directory rule is kept');
    assert.equal(rules.ignores('ci/test.yaml', false), true);
    assert.equal(rules.ignores('ci/sub/test.yaml', false), false, '* does not cross /');
    assert.equal(rules.ignores('Chart.yaml', false), false);
    assert.equal(rules.ignores('.', true), false);
  });

  it("adds Helm's default rule for hidden template files", () => {
    const rules = parseHelmignore('');
    assert.equal(rules.ignores('templates/.swp', false), true);
    assert.equal(rules.ignores('templates/a.yaml', false), false);
  });

  it('follows filepath.Match: classes, ranges, escapes, ?', () => {
    const rules = parseHelmignore('[a-c]?.txt\n[^x].log\n\\*lit\n');
    assert.equal(rules.ignores('b1.txt', false), true);
    assert.equal(rules.ignores('d1.txt', false), false);
    assert.equal(rules.ignores('y.log', false), true);
    assert.equal(rules.ignores('x.log', false), false);
    assert.equal(rules.ignores('*lit', false), true);
    assert.equal(rules.ignores('alit', false), false);
  });

  it('keeps the quirk of a negation: it ignores everything it does not match', () => {
    const rules = parseHelmignore('!keep.txt\n');
    assert.equal(rules.ignores('keep.txt', false), false);
    assert.equal(rules.ignores('Chart.yaml', false), true);
  });

  it('refuses ** and malformed patterns', () => {
    assert.throws(() => parseHelmignore('**/x\n'), /double-star \(\*\*\) syntax is not supported/);
    assert.throws(() => parseHelmignore('[a-\n'), /syntax error in pattern/);
    assert.throws(() => parseHelmignore('x\\\n'), /syntax error in pattern/);
  });
});
