// Pure formatting of the CLI's verbs: -o json|yaml, object diffs, log lines, stats, events, trees,
// rollback targets.
import assert from 'node:assert/strict';
import { load } from 'js-yaml';
import { eventRow, parseFor, shortAge } from '../../../controllers/cli/commands/events.ts';
import { formatLogLine } from '../../../controllers/cli/commands/logs.ts';
import { commitOf, targetRevision } from '../../../controllers/cli/commands/rollback.ts';
import { formatSize, statsRow } from '../../../controllers/cli/commands/stats.ts';
import { drawTree } from '../../../controllers/cli/commands/tree.ts';
import { diffObjects, formatChanges } from '../../../controllers/cli/objdiff.ts';
import { formatObjects, outputFormat } from '../../../controllers/cli/output.ts';
import { object } from './fake.ts';

const sha = 'a'.repeat(40);

describe('cli output formats', () => {
  it('prints one object alone and several as a v1 List, in JSON and in YAML', () => {
    const a = object('Kustomization', 'ns', 'a');
    const b = object('Kustomization', 'ns', 'b');
    assert.deepEqual(JSON.parse(formatObjects([a], 'json', true)), a);
    const list = JSON.parse(formatObjects([a, b], 'json', false));
    assert.deepEqual([list.kind, list.items.length], ['List', 2]);
    assert.deepEqual(load(formatObjects([a], 'yaml', false)), { apiVersion: 'v1', kind: 'List', items: [a] });
    assert.equal(outputFormat(undefined), 'table');
    assert.throws(() => outputFormat('wide'), /unsupported output format "wide": want table, json or yaml/);
  });
});

describe('cli diff of objects', () => {
  const live = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'c',
      namespace: 'n',
      resourceVersion: '7',
      uid: 'u',
      managedFields: [{}],
      labels: { a: '1' },
    },
    data: { color: 'green', size: 'm' },
  };

  it('names each changed path with the old and new value, ignoring what the server sets', () => {
    const desired = structuredClone(live);
    desired.metadata.resourceVersion = '8';
    desired.data = { color: 'red', size: 'm' };
    (desired.metadata.labels as Record<string, string>)['app.kubernetes.io/name'] = 'x';
    const changes = diffObjects(live, desired);
    assert.deepEqual(changes, [
      { path: 'data.color', from: 'green', to: 'red' },
      { path: 'metadata.labels["app.kubernetes.io/name"]', to: 'x' },
    ]);
    assert.equal(
      formatChanges(changes),
      '  data.color\n    - green\n    + red\n  metadata.labels["app.kubernetes.io/name"]\n    + x',
    );
    assert.deepEqual(diffObjects(live, structuredClone(live)), []);
  });

  it('never shows the values of a Secret', () => {
    const secret = { ...live, kind: 'Secret', data: { token: 'b2xk' } };
    const changes = diffObjects(secret, { ...secret, data: { token: 'bmV3' } });
    assert.deepEqual(changes, [{ path: 'data.token', from: '*** (before)', to: '*** (after)' }]);
  });
});

describe('cli logs lines', () => {
  const line = JSON.stringify({
    level: 'error',
    ts: '2026-01-01T00:00:00.000Z',
    msg: 'Reconciler error',
    controllerKind: 'Kustomization',
    name: 'apps',
    namespace: 'flux-system',
    error: 'boom',
  });

  it("prints flux's shape and applies every filter", () => {
    assert.equal(
      formatLogLine(line, { namespace: 'flux-system' }),
      '2026-01-01T00:00:00.000Z error Kustomization/apps.flux-system - Reconciler error boom\n',
    );
    assert.equal(formatLogLine(line, { level: 'info' }), undefined);
    assert.equal(formatLogLine(line, { kind: 'gitrepository' }), undefined);
    assert.ok(formatLogLine(line, { kind: 'kustomization', name: 'APPS' }));
    assert.equal(formatLogLine(line, { namespace: 'apps' }), undefined);
    assert.equal(formatLogLine(line, { since: Date.parse('2026-01-02T00:00:00Z') }), undefined);
    assert.equal(formatLogLine('not json', {}), undefined);
  });
});

describe('cli stats', () => {
  it('formats sizes like flux and counts running, failing and suspended objects', () => {
    assert.deepEqual(
      [formatSize(0), formatSize(512), formatSize(1536), formatSize(5 * 1024 ** 3)],
      ['-', '512 B', '1.5 KiB', '5.0 GiB'],
    );
    const items = [
      object('GitRepository', 'n', 'a', { ready: ['True', ''], status: { artifact: { size: 1024 } } }),
      object('GitRepository', 'n', 'b', { ready: ['False', 'x'] }),
      object('GitRepository', 'n', 'c', { suspend: true }),
    ];
    assert.deepEqual(statsRow('GitRepository', items), ['GitRepository', '2', '1', '1', '1.0 KiB']);
  });
});

describe('cli events', () => {
  it("takes --for as Kind/name with any of the CLI's words, and prints ages like kubectl", () => {
    assert.deepEqual(parseFor('ks/apps'), { kind: 'Kustomization', name: 'apps' });
    assert.deepEqual(parseFor('Deployment/web'), { kind: 'Deployment', name: 'web' });
    assert.throws(() => parseFor('apps'), /invalid --for "apps": want Kind\/name/);
    assert.deepEqual(
      [shortAge(5_000), shortAge(180_000), shortAge(3 * 3600_000), shortAge(5 * 86_400_000)],
      ['5s', '3m', '3h', '5d'],
    );
    const ev = {
      metadata: { name: 'e', namespace: 'n' },
      lastTimestamp: '2026-01-01T00:00:00Z',
      type: 'Warning',
      reason: 'HealthCheckFailed',
      involvedObject: { kind: 'Kustomization', name: 'apps' },
      message: 'timeout\n',
    };
    assert.deepEqual(eventRow(ev, Date.parse('2026-01-01T00:01:00Z'), false), [
      '60s',
      'Warning',
      'HealthCheckFailed',
      'Kustomization/apps',
      'timeout',
    ]);
  });
});

describe('cli tree', () => {
  it("draws nested appliers with flux's connectors", () => {
    const text = drawTree({
      resource: 'Kustomization/flux-system/flux-system',
      resources: [
        {
          resource: 'Kustomization/flux-system/apps',
          resources: [{ resource: 'Deployment/apps/web' }, { resource: 'Service/apps/web' }],
        },
        { resource: 'Namespace/apps' },
      ],
    });
    assert.equal(
      text,
      [
        'Kustomization/flux-system/flux-system',
        '├── Kustomization/flux-system/apps',
        '│   ├── Deployment/apps/web',
        '│   └── Service/apps/web',
        '└── Namespace/apps',
        '',
      ].join('\n'),
    );
  });
});

describe('cli rollback target', () => {
  it('reads commits from revisions and picks the previous successful one from status.history', () => {
    assert.equal(commitOf(`main@sha1:${sha}`), sha);
    assert.equal(commitOf('3f1c9a0'), '3f1c9a0');
    assert.throws(() => commitOf('main'), /invalid revision "main"/);
    const ks = object('Kustomization', 'n', 'apps', {
      status: {
        lastAppliedRevision: `main@sha1:${'c'.repeat(40)}`,
        history: [
          {
            lastReconciledStatus: 'ReconciliationSucceeded',
            metadata: { revision: `main@sha1:${'c'.repeat(40)}` },
          },
          {
            lastReconciledStatus: 'HealthCheckFailed',
            metadata: { revision: `main@sha1:${'b'.repeat(40)}` },
          },
          { lastReconciledStatus: 'ReconciliationSucceeded', metadata: { revision: `main@sha1:${sha}` } },
        ],
      },
    });
    assert.equal(targetRevision(ks, undefined), `main@sha1:${sha}`);
    assert.equal(targetRevision(ks, 'main@sha1:1234567'), 'main@sha1:1234567');
    assert.throws(() => targetRevision(object('Kustomization', 'n', 'x'), undefined), /pass --to <revision>/);
  });
});
