// The overview's filtering, ordering and counting.
import assert from 'node:assert/strict';
import {
  compareRows,
  countRows,
  emptyFilter,
  groupCounts,
  parseSearch,
  selectRows,
} from '../../../controllers/ui/model/overview.ts';
import type { Row, State } from '../../../controllers/ui/model/rows.ts';

const row = (kind: string, namespace: string, name: string, state: State, extra: Partial<Row> = {}): Row => ({
  key: `${kind}/${namespace}/${name}`,
  kind,
  namespace,
  name,
  state,
  ready: state === 'ready' ? 'True' : 'False',
  reason: '',
  message: '',
  revision: '',
  suspended: state === 'suspended',
  ...extra,
});

const rows = [
  row('Kustomization', 'apps', 'web', 'ready', { revision: 'main@sha1:abc', since: '2025-01-01T00:00:00Z' }),
  row('Kustomization', 'apps', 'db', 'failing', {
    reason: 'BuildFailed',
    message: 'kustomize build failed',
    since: '2025-01-01T00:01:00Z',
  }),
  row('GitRepository', 'flux-system', 'repo', 'ready'),
  row('Kustomization', 'infra', 'certs', 'failing', {
    message: 'health check failed',
    since: '2025-01-01T00:05:00Z',
  }),
  row('HelmRelease', 'apps', 'cache', 'suspended'),
  row('Kustomization', 'infra', 'net', 'progressing', { reason: 'DependencyNotReady' }),
];

describe('ui/model/overview', () => {
  it('orders failures first (the most recent first), then progressing, suspended and ready', () => {
    assert.deepEqual(
      [...rows].sort(compareRows).map((r) => r.name),
      ['certs', 'db', 'net', 'cache', 'web', 'repo'],
    );
  });

  it('matches every word of the search in any field, and kind:, ns: and state: in theirs', () => {
    const names = (text: string) => selectRows(rows, { ...emptyFilter(), text }).map((r) => r.name);
    assert.deepEqual(names('build'), ['db']);
    assert.deepEqual(names('APPS kustomization'), ['db', 'web']);
    assert.deepEqual(names('ns:infra'), ['certs', 'net']);
    assert.deepEqual(names('kind:git'), ['repo']);
    assert.deepEqual(names('state:fail apps'), ['db']);
    assert.deepEqual(names('abc'), ['web']);
    assert.deepEqual(names('nothing-like-this'), []);
    assert.deepEqual(parseSearch(' kind: x '), [{ value: 'x' }]);
  });

  it('combines the search with the kind, namespace and state filters', () => {
    const f = { text: '', kinds: ['Kustomization'], namespace: 'infra', states: ['failing' as const] };
    assert.deepEqual(
      selectRows(rows, f).map((r) => r.name),
      ['certs'],
    );
  });

  it('counts states in total and per group, groups with failures first, then those still progressing', () => {
    assert.deepEqual(countRows(rows), { total: 6, failing: 2, progressing: 1, suspended: 1, ready: 2 });
    const byNs = groupCounts(rows, (r) => r.namespace);
    assert.deepEqual(
      byNs.map((g) => [g.name, g.counts.failing, g.counts.total]),
      [
        ['infra', 1, 2],
        ['apps', 1, 3],
        ['flux-system', 0, 1],
      ],
    );
  });
});
