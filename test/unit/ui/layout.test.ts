// Layout of the dependency graph.
import assert from 'node:assert/strict';
import { columns, layout, neighbourhood } from '../../../controllers/ui/model/layout.ts';

describe('ui/model/layout', () => {
  const edges = [
    { from: 'ks/app', to: 'ks/infra' },
    { from: 'ks/infra', to: 'git/repo' },
    { from: 'ks/app', to: 'git/repo' },
    { from: 'ks/other', to: 'git/repo' },
  ];
  const keys = ['ks/app', 'ks/infra', 'git/repo', 'ks/other', 'ks/alone'];

  it('puts what is depended on left of its dependents', () => {
    const col = columns(keys, edges);
    assert.deepEqual(Object.fromEntries(col), {
      'ks/app': 2,
      'ks/infra': 1,
      'git/repo': 0,
      'ks/other': 1,
      'ks/alone': 0,
    });
  });

  it('survives a dependency cycle', () => {
    const col = columns(
      ['a', 'b'],
      [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'a' },
      ],
    );
    assert.equal(col.size, 2);
  });

  it('places every node once, without two in one spot, inside the reported size', () => {
    const l = layout(keys, edges, { nodeWidth: 100, nodeHeight: 20, gapX: 10, gapY: 5 });
    const spots = new Set([...l.nodes.values()].map((p) => `${p.x},${p.y}`));
    assert.equal(l.nodes.size, keys.length);
    assert.equal(spots.size, keys.length);
    for (const p of l.nodes.values()) {
      assert.ok(p.x + 100 <= l.width && p.y + 20 <= l.height, `${p.key} inside`);
    }
    assert.equal(l.width, 3 * 110 - 10);
  });

  it('ignores edges to nodes that are not drawn', () => {
    const l = layout(['a'], [{ from: 'a', to: 'gone' }]);
    assert.equal(l.nodes.get('a')?.column, 0);
  });

  it('focuses on what a node needs and what needs it, not on its siblings', () => {
    assert.deepEqual([...neighbourhood('ks/infra', edges)].sort(), ['git/repo', 'ks/app', 'ks/infra']);
  });
});
