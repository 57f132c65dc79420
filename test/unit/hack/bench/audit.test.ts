import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  auditOffset,
  auditPolicy,
  benchUser,
  countAuditLines,
  countAuditWindow,
} from '../../../../hack/bench/audit.ts';

const ev = (o: Record<string, unknown>) =>
  JSON.stringify({ stage: 'ResponseComplete', user: { username: benchUser }, ...o });

describe('bench audit counting', () => {
  it('the policy logs the bench user at Metadata level and nobody else', () => {
    const p = auditPolicy();
    assert.match(p, new RegExp(`level: Metadata\\n  users: \\["${benchUser}"\\]`));
    assert.match(p, /- level: None\n$/);
  });

  it('counts finished requests by verb, dry-runs apart, and writes by what they changed', () => {
    const lines = [
      ev({ verb: 'get', requestURI: '/api/v1/namespaces/a/services/app' }),
      ev({
        verb: 'patch',
        requestURI: '/apis/apps/v1/namespaces/a/deployments/app?dryRun=All&fieldManager=x',
      }),
      ev({
        verb: 'patch',
        requestURI: '/apis/apps/v1/namespaces/a/deployments/app?fieldManager=x',
        objectRef: { resource: 'deployments', apiGroup: 'apps' },
      }),
      ev({
        verb: 'patch',
        objectRef: {
          resource: 'kustomizations',
          subresource: 'status',
          apiGroup: 'kustomize.toolkit.fluxcd.io',
        },
      }),
      ev({
        verb: 'patch',
        objectRef: { resource: 'kustomizations', apiGroup: 'kustomize.toolkit.fluxcd.io' },
      }),
      ev({ verb: 'create', objectRef: { resource: 'events' } }),
      ev({ verb: 'update', objectRef: { resource: 'leases', apiGroup: 'coordination.k8s.io' } }),
      // A watch counts once, when its response starts; its completion much later does not count again.
      ev({ verb: 'watch', stage: 'ResponseStarted' }),
      ev({ verb: 'watch', stage: 'ResponseComplete' }),
      // Other users and other stages are not the controllers' requests.
      JSON.stringify({
        stage: 'ResponseComplete',
        verb: 'get',
        user: { username: 'system:kube-controller-manager' },
      }),
      ev({ verb: 'get', stage: 'ResponseStarted' }),
      '{"truncated',
    ];
    const c = countAuditLines(lines);
    assert.deepEqual(c.byVerb, { get: 1, 'patch (dry-run)': 1, patch: 3, create: 1, update: 1, watch: 1 });
    assert.equal(c.total, 8);
    assert.deepEqual(c.writes, { objects: 1, status: 1, toolkit: 1, events: 1, leases: 1 });
  });

  it('counts only the window between two offsets of the log', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-audit-'));
    try {
      const file = join(dir, 'audit.log');
      assert.equal(await auditOffset(file), 0);
      await writeFile(file, `${ev({ verb: 'list' })}\n`);
      const from = await auditOffset(file);
      await writeFile(file, `${ev({ verb: 'list' })}\n${ev({ verb: 'get' })}\n${ev({ verb: 'get' })}\n`);
      const c = await countAuditWindow(file, from, await auditOffset(file));
      assert.deepEqual(c.byVerb, { get: 2 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
