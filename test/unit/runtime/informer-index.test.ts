// Informer indexes: objects are found by the keys an index function returns, and the index follows
// adds, updates that change those keys, deletes and relists.
import assert from 'node:assert/strict';
import { createInformer, type Informer } from '../../../controllers/runtime/informer.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { fakeWatchClient } from './fakewatch.ts';

const kind = { group: 'example.com', version: 'v1', kind: 'Consumer' };
const consumer = (name: string, refs: string[]): KubeObject => ({
  apiVersion: 'example.com/v1',
  kind: 'Consumer',
  metadata: { name, namespace: 'ns', resourceVersion: '1' },
  spec: { refs },
});
// Throws for an object without spec.refs, as a careless index function would.
const byRef = (o: KubeObject) => (o.spec as { refs: string[] }).refs.map((r) => `ns/${r}`);
const names = (objs: KubeObject[]) => objs.map((o) => o.metadata.name ?? '').sort();

describe('runtime/informer indexes', () => {
  let inf: Informer | undefined;
  afterEach(async () => {
    await inf?.stop();
    inf = undefined;
  });

  it('files listed objects, then moves, adds and drops them as watch events arrive', async () => {
    const fake = fakeWatchClient([consumer('a', ['x']), consumer('b', ['x', 'y'])]);
    inf = createInformer({ client: fake.client, kind });
    inf.addIndex('refs', byRef);
    inf.start();
    await inf.waitForSync();
    assert.deepEqual(names(inf.byIndex('refs', 'ns/x')), ['a', 'b']);
    assert.deepEqual(names(inf.byIndex('refs', 'ns/y')), ['b']);

    await fake.emit('MODIFIED', consumer('a', ['y', 'y']));
    assert.deepEqual(names(inf.byIndex('refs', 'ns/x')), ['b']);
    assert.deepEqual(names(inf.byIndex('refs', 'ns/y')), ['a', 'b']);

    await fake.emit('ADDED', consumer('c', ['z']));
    assert.deepEqual(names(inf.byIndex('refs', 'ns/z')), ['c']);

    await fake.emit('DELETED', consumer('b', ['x', 'y']));
    assert.deepEqual(names(inf.byIndex('refs', 'ns/x')), []);
    assert.deepEqual(names(inf.byIndex('refs', 'ns/y')), ['a']);
    assert.deepEqual(inf.byIndex('other', 'ns/y'), []);
  });

  it('builds an index added after the sync from the cache, and handlers see it updated first', async () => {
    const fake = fakeWatchClient([consumer('a', ['x'])]);
    inf = createInformer({ client: fake.client, kind });
    inf.start();
    await inf.waitForSync();
    inf.addIndex('refs', byRef);
    assert.deepEqual(names(inf.byIndex('refs', 'ns/x')), ['a']);
    const seen: string[][] = [];
    const current = inf;
    current.addHandler({ update: () => seen.push(names(current.byIndex('refs', 'ns/w'))) });
    await fake.emit('MODIFIED', consumer('a', ['w']));
    assert.deepEqual(seen, [['a']]);
  });

  it('refuses a second function under one name, and survives a throwing index function', async () => {
    const fake = fakeWatchClient([consumer('a', ['x']), { ...consumer('bad', []), spec: {} }]);
    inf = createInformer({ client: fake.client, kind });
    inf.addIndex('refs', byRef);
    inf.addIndex('refs', byRef);
    assert.throws(() => inf?.addIndex('refs', () => []), /index 'refs' already exists/);
    inf.start();
    await inf.waitForSync();
    assert.deepEqual(names(inf.byIndex('refs', 'ns/x')), ['a']);
    assert.equal(inf.list().length, 2);
  });
});
