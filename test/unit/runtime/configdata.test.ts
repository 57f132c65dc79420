// ConfigMap and Secret data as referrers read it.
import assert from 'node:assert/strict';
import type { Client } from '../../../controllers/runtime/client.ts';
import { decodeData, readData, readTextData } from '../../../controllers/runtime/configdata.ts';
import type { ObjectRef } from '../../../controllers/runtime/object.ts';

const objects: Record<string, { data?: Record<string, string> }> = {
  'Secret/apps/creds': { data: { token: Buffer.from('s3cret\n').toString('base64') } },
  'ConfigMap/apps/vars': { data: { region: 'eu' } },
  'ConfigMap/apps/empty': {},
};
const client = {
  tryGet: async (ref: ObjectRef) => objects[`${ref.kind}/${ref.namespace}/${ref.name}`],
} as unknown as Client;

describe('runtime/configdata', () => {
  it('reads data as the API returns it, decodes Secret values as text, and tells a missing object', async () => {
    assert.deepEqual(await readData(client, { kind: 'Secret', namespace: 'apps', name: 'creds' }), {
      token: 'czNjcmV0Cg==',
    });
    assert.deepEqual(await readTextData(client, { kind: 'Secret', namespace: 'apps', name: 'creds' }), {
      token: 's3cret\n',
    });
    assert.deepEqual(await readTextData(client, { kind: 'ConfigMap', namespace: 'apps', name: 'vars' }), {
      region: 'eu',
    });
    assert.deepEqual(await readData(client, { kind: 'ConfigMap', namespace: 'apps', name: 'empty' }), {});
    assert.equal(await readData(client, { kind: 'Secret', namespace: 'other', name: 'creds' }), undefined);
    assert.deepEqual(decodeData('ConfigMap', { a: 'YQ==' }), { a: 'YQ==' });
  });
});
