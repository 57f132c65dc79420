// Helm's release storage as the controller reads and writes it: Secrets (the release base64-encoded
// twice, once by Helm and once by the API) and ConfigMaps, newest revision first, and Helm's Update.
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { encodeRelease, type Release, releaseStorage } from '../../../controllers/helm/storage.ts';
import type { Client } from '../../../controllers/runtime/client.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';

const release = (version: number, status: string): Release => ({
  name: 'web',
  namespace: 'apps',
  version,
  info: { status, description: `v${version}` },
  chart: { metadata: { name: 'web', version: '1.0.0' } },
  config: { a: version },
  manifest: '',
});

/** A client over a few storage objects: list by labels, get, update (recorded). */
function fakeClient(objects: KubeObject[]) {
  const updates: KubeObject[] = [];
  const client = {
    listAll: async (_gvk: unknown, opts: { labelSelector?: string }) => {
      const want = Object.fromEntries((opts.labelSelector ?? '').split(',').map((kv) => kv.split('=')));
      const items = objects.filter((o) =>
        Object.entries(want).every(([k, v]) => o.metadata.labels?.[k] === v),
      );
      return { metadata: {}, items };
    },
    get: async (ref: { name: string }) => objects.find((o) => o.metadata.name === ref.name) as KubeObject,
    tryGet: async (ref: { name: string }) => objects.find((o) => o.metadata.name === ref.name),
    update: async (o: KubeObject) => {
      updates.push(o);
      return o;
    },
  } as unknown as Client;
  return { client, updates };
}

const stored = (kind: 'Secret' | 'ConfigMap', r: Release): KubeObject => {
  const data = encodeRelease(r);
  return {
    apiVersion: 'v1',
    kind,
    metadata: {
      name: `sh.helm.release.v1.${r.name}.v${r.version}`,
      namespace: 'flux-system',
      labels: {
        owner: 'helm',
        name: r.name,
        status: r.info?.status ?? '',
        version: String(r.version),
        team: 'x',
      },
    },
    data: { release: kind === 'Secret' ? Buffer.from(data).toString('base64') : data },
  };
};

describe('helm-controller release storage', () => {
  for (const [driver, kind] of [
    ['secret', 'Secret'],
    ['configmap', 'ConfigMap'],
  ] as const) {
    it(`reads the ${driver} driver's history, newest first, and decodes on demand`, async () => {
      const { client } = fakeClient([
        stored(kind, release(1, 'superseded')),
        stored(kind, release(2, 'deployed')),
      ]);
      const s = releaseStorage(client, driver, 'flux-system');
      const h = await s.history('web');
      assert.deepEqual(
        h.map((r) => [r.version, r.status]),
        [
          [2, 'deployed'],
          [1, 'superseded'],
        ],
      );
      assert.deepEqual((await s.last('web'))?.config, { a: 2 });
      assert.equal((await s.get('web', 1))?.info?.description, 'v1');
      assert.equal(await s.get('web', 9), undefined);
    });
  }

  it("updates a release as Helm's Update does: labels kept, status and modifiedAt set", async () => {
    const { client, updates } = fakeClient([stored('Secret', release(1, 'pending-upgrade'))]);
    const s = releaseStorage(client, 'secret', 'flux-system');
    const rel = (await s.last('web')) as Release;
    rel.info = { ...rel.info, status: 'failed' };
    await s.update(rel);
    const written = updates[0] as KubeObject;
    assert.equal(written.metadata.labels?.status, 'failed');
    assert.equal(written.metadata.labels?.team, 'x');
    assert.match(written.metadata.labels?.modifiedAt ?? '', /^\d+$/);
    const payload = Buffer.from(
      Buffer.from((written.data as { release: string }).release, 'base64').toString(),
      'base64',
    );
    assert.deepEqual(payload.subarray(0, 3), Buffer.from([0x1f, 0x8b, 0x08]), 'gzipped, as Helm writes it');
    assert.equal(JSON.parse(gunzipSync(payload).toString()).info.status, 'failed');
  });
});
