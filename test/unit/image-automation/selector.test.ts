// policySelector: metav1.LabelSelector semantics and validation.
import assert from 'node:assert/strict';
import { labelMatcher } from '../../../controllers/image-automation/selector.ts';

describe('image-automation/selector', () => {
  it('matches everything without a selector, and ANDs labels and expressions', () => {
    assert.ok(labelMatcher(undefined)({}));
    assert.ok(labelMatcher({})(undefined));
    const m = labelMatcher({
      matchLabels: { team: 'a' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['dev', 'staging'] },
        { key: 'frozen', operator: 'DoesNotExist' },
        { key: 'tier', operator: 'NotIn', values: ['db'] },
        { key: 'auto', operator: 'Exists' },
      ],
    });
    assert.ok(m({ team: 'a', env: 'dev', auto: '' }));
    assert.ok(m({ team: 'a', env: 'staging', tier: 'web', auto: 'x' }));
    assert.ok(!m({ team: 'b', env: 'dev', auto: '' }));
    assert.ok(!m({ team: 'a', env: 'prod', auto: '' }));
    assert.ok(!m({ team: 'a', env: 'dev', auto: '', frozen: 'yes' }));
    assert.ok(!m({ team: 'a', env: 'dev', auto: '', tier: 'db' }));
    assert.ok(!m({ team: 'a', env: 'dev' }));
  });

  it('refuses what LabelSelectorAsSelector refuses', () => {
    assert.throws(
      () => labelMatcher({ matchExpressions: [{ key: 'a', operator: 'In' }] }),
      /values set can't be empty/,
    );
    assert.throws(
      () => labelMatcher({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }),
      /values set must be empty/,
    );
    assert.throws(
      () => labelMatcher({ matchExpressions: [{ key: 'a', operator: 'Equals', values: ['x'] }] }),
      /"Equals" is not a valid label selector operator/,
    );
  });
});
