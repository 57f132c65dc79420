// A HelmRelease's inventory comes from the release as Helm stores it.
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { decodeHelmRelease } from '../../../controllers/ui/inventory.ts';

describe('ui/inventory', () => {
  it("decodes Helm's stored release: base64 of gzipped JSON, or of plain JSON (old releases)", () => {
    const release = { name: 'web', namespace: 'apps', manifest: '---\nkind: ConfigMap\n' };
    const json = JSON.stringify(release);
    assert.deepEqual(decodeHelmRelease(gzipSync(json).toString('base64')), {
      manifest: release.manifest,
      namespace: 'apps',
    });
    assert.deepEqual(decodeHelmRelease(Buffer.from(json).toString('base64')), {
      manifest: release.manifest,
      namespace: 'apps',
    });
  });
});
