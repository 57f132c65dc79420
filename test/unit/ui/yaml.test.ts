// The YAML tab's emitter reads back as the same value.
import assert from 'node:assert/strict';
import { load } from 'js-yaml';
import { toYaml } from '../../../controllers/ui/model/yaml.ts';

describe('ui/model/yaml', () => {
  it('round-trips objects, lists, tricky scalars and multi-line strings', () => {
    const value = {
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      metadata: { name: 'apps', labels: { 'app.kubernetes.io/name': 'x' }, annotations: {} },
      spec: {
        interval: '10m',
        suspend: false,
        replicas: 3,
        path: './clusters/dev',
        strings: ['true', 'no', '1.0', '', ' padded ', 'a: b', 'x #y', '0x1f', null],
        nested: [[1, 2], [{ a: 1, b: [] }], { deep: { list: ['z'] } }],
        script: 'line one\nline two\n',
        noNewline: 'a\nb',
        'key with: colon': 'v',
      },
    };
    assert.deepEqual(load(toYaml(value)), value);
  });
});
