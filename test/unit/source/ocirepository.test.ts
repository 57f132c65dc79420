import assert from 'node:assert/strict';
import type { OCIRepository } from '../../../controllers/api/source.ts';
import { contentConfigChanged } from '../../../controllers/source/ocirepository.ts';

type Shape = Pick<OCIRepository, 'spec' | 'status'>;
const obj = (spec: Partial<OCIRepository['spec']>, status: OCIRepository['status']): Shape => ({
  spec: { url: 'oci://r.example/app', interval: '5m', ...spec },
  status,
});
const content = 'application/vnd.cncf.flux.content.v1.tar+gzip';

describe('ocirepository: contentConfigChanged', () => {
  const cases: [string, Shape, boolean][] = [
    ['nothing set, nothing observed', obj({}, {}), false],
    ['no status yet', obj({}, undefined), false],
    ['same ignore', obj({ ignore: '*.md\n' }, { observedIgnore: '*.md\n' }), false],
    ['ignore added', obj({ ignore: '*.md\n' }, {}), true],
    ['ignore removed', obj({}, { observedIgnore: '*.md\n' }), true],
    ['ignore edited', obj({ ignore: '*.txt\n' }, { observedIgnore: '*.md\n' }), true],
    [
      'same selector, keys in another order',
      obj(
        { layerSelector: { mediaType: content, operation: 'copy' } },
        { observedLayerSelector: { operation: 'copy', mediaType: content } },
      ),
      false,
    ],
    ['selector added', obj({ layerSelector: { operation: 'copy' } }, {}), true],
    ['selector removed', obj({}, { observedLayerSelector: { operation: 'copy' } }), true],
    [
      'operation changed',
      obj({ layerSelector: { operation: 'extract' } }, { observedLayerSelector: { operation: 'copy' } }),
      true,
    ],
    [
      'media type changed',
      obj({ layerSelector: { mediaType: content } }, { observedLayerSelector: { mediaType: 'x/y' } }),
      true,
    ],
  ];
  for (const [name, o, want] of cases) {
    it(`${name}: ${want ? 'rebuild' : 'keep'}`, () => {
      assert.equal(contentConfigChanged(o), want);
    });
  }
});
