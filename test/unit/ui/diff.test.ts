// The line diff and its hunks, as the drift view shows them.
import assert from 'node:assert/strict';
import { diffLines, diffText, toHunks } from '../../../controllers/ui/model/diff.ts';

const render = (ops: ReturnType<typeof diffLines>) =>
  ops.map((o) => `${o.op === 'same' ? ' ' : o.op === 'add' ? '+' : '-'}${o.text}`).join('\n');

describe('ui/model/diff', () => {
  it('finds the shortest edit script', () => {
    const ops = diffLines('a b c a b b a'.split(' '), 'c b a b a c'.split(' '));
    assert.equal(ops.filter((o) => o.op !== 'same').length, 5);
    // Applying the script to the old side gives the new side, and keeping the old lines gives the old.
    assert.deepEqual(
      ops.filter((o) => o.op !== 'del').map((o) => o.text),
      'c b a b a c'.split(' '),
    );
    assert.deepEqual(
      ops.filter((o) => o.op !== 'add').map((o) => o.text),
      'a b c a b b a'.split(' '),
    );
  });

  it('diffs a changed line in place, and handles empty sides', () => {
    assert.equal(
      render(diffLines(['x: 1', 'y: 2', 'z: 3'], ['x: 1', 'y: 5', 'z: 3'])),
      ' x: 1\n-y: 2\n+y: 5\n z: 3',
    );
    assert.equal(render(diffLines([], ['a'])), '+a');
    assert.equal(render(diffLines(['a'], [])), '-a');
    assert.deepEqual(diffLines([], []), []);
  });

  it('gives up aligning beyond the edit budget and replaces everything', () => {
    const ops = diffLines(['a', 'b'], ['c', 'd'], 1);
    assert.equal(render(ops), '-a\n-b\n+c\n+d');
  });

  it('makes hunks with context and line numbers, merging changes that are close', () => {
    const old = Array.from({ length: 20 }, (_, i) => `l${i + 1}`);
    const next = [...old];
    next[4] = 'five';
    next[6] = 'seven';
    next[17] = 'eighteen';
    const hunks = diffText(`${old.join('\n')}\n`, `${next.join('\n')}\n`, 2);
    assert.equal(hunks.length, 2);
    assert.deepEqual(
      hunks.map((h) => [h.oldStart, h.oldLines, h.newStart, h.newLines]),
      [
        [3, 7, 3, 7],
        [16, 5, 16, 5],
      ],
    );
    const first = hunks[0]?.lines ?? [];
    assert.deepEqual(first[2], { op: 'del', text: 'l5', old: 5 });
    assert.deepEqual(first[3], { op: 'add', text: 'five', new: 5 });
  });

  it('numbers a hunk on an empty side from the line before it', () => {
    const [h] = toHunks(diffLines([], ['a', 'b']));
    assert.deepEqual([h?.oldStart, h?.oldLines, h?.newStart, h?.newLines], [0, 0, 1, 2]);
    assert.deepEqual(diffText('same\n', 'same\n'), []);
  });
});
