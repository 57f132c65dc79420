// charts/tide rendered by the pinned helm: lint, what the defaults and other values produce, and a
// server-side dry-run of every rendered object on the test bed (tide install --dry-run).

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { createClient } from '../../../controllers/runtime/client.ts';
import { nodeFlags } from '../../../controllers/runtime/nodeflags.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { run } from '../../../hack/testbed/proc.ts';
import { toolPaths } from '../../../hack/testbed/tools.ts';
import { testbed, useNamespace } from '../../support/testbed.ts';
import { tide } from '../../support/tide.ts';

const chart = join(import.meta.dirname, '..', '..', '..', 'charts', 'tide');
// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are free-form
type Obj = KubeObject & { spec?: any; roleRef?: any; subjects?: any; rules?: any };

async function template(...args: string[]): Promise<Obj[]> {
  const { helm } = await toolPaths(['helm']);
  const out = await run(helm, ['template', 'tide', chart, '--include-crds', ...args]);
  return (loadAll(out) as (Obj | null)[]).filter((o): o is Obj => o !== null);
}

const byKind = (objs: Obj[], kind: string) => objs.filter((o) => o.kind === kind);
const named = (objs: Obj[], kind: string, name: string) => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `${kind}/${name} rendered`);
  return o;
};
const container = (d: Obj) => d.spec.template.spec.containers[0];

describe('charts/tide', function () {
  this.timeout(180_000);
  const ns = useNamespace('chart');

  it('passes helm lint', async () => {
    const { helm } = await toolPaths(['helm']);
    const out = await run(helm, ['lint', '--strict', chart]);
    assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('renders the defaults: CRDs, the default controllers, Flux-named Services, restricted pods', async () => {
    const objs = await template('--namespace', 'flux-system');
    assert.equal(byKind(objs, 'CustomResourceDefinition').length, 13);
    assert.deepEqual(
      byKind(objs, 'Deployment')
        .map((d) => d.metadata.name)
        .sort(),
      ['helm-controller', 'kustomize-controller', 'notification-controller', 'source-controller'],
    );
    for (const d of byKind(objs, 'Deployment')) {
      const c = container(d);
      const name = d.metadata.name ?? '';
      assert.deepEqual(c.command, [
        'node',
        ...nodeFlags,
        `dist/controllers/${name.replace(/-controller$/, '')}/main.js`,
      ]);
      assert.ok(c.args.includes('--metrics-addr=:8080') && c.args.includes('--health-addr=:9440'), name);
      assert.ok(
        c.args.includes('--enable-leader-election=true') && c.args.includes('--log-level=info'),
        name,
      );
      assert.deepEqual(
        c.ports.slice(0, 2).map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]),
        [
          ['http-prom', 8080],
          ['healthz', 9440],
        ],
      );
      assert.equal(c.readinessProbe.httpGet.path, '/readyz');
      assert.equal(c.livenessProbe.httpGet.path, '/healthz');
      // The restricted Pod Security profile.
      assert.deepEqual(c.securityContext, {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      assert.equal(d.spec.template.spec.securityContext.runAsNonRoot, true);
      assert.ok(c.resources.limits.memory, name);
      const events = c.args.find((a: string) => a.startsWith('--events-addr='));
      assert.equal(
        events,
        name === 'notification-controller'
          ? '--events-addr=:9090'
          : '--events-addr=http://notification-controller.flux-system.svc.cluster.local./',
      );
    }
    assert.ok(
      container(named(objs, 'Deployment', 'source-controller')).args.includes(
        '--storage-adv-addr=source-controller.flux-system.svc.cluster.local.',
      ),
    );
    assert.ok(
      container(named(objs, 'Deployment', 'kustomize-controller')).args.includes(
        '--kustomize-path=/usr/local/bin/kustomize',
      ),
    );
    const services = byKind(objs, 'Service').map((s) => [
      s.metadata.name,
      s.spec.ports[0].port,
      s.spec.ports[0].targetPort,
      s.spec.selector.app,
    ]);
    assert.deepEqual(services.sort(), [
      ['notification-controller', 80, 'http', 'notification-controller'],
      ['source-controller', 80, 'http', 'source-controller'],
      ['webhook-receiver', 80, 'http-webhook', 'notification-controller'],
    ]);
    const nsObj = named(objs, 'Namespace', 'flux-system');
    assert.equal(nsObj.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
    // Least privilege: only the appliers are cluster-admin; the others have their own rules, no wildcard verbs.
    const admins = byKind(objs, 'ClusterRoleBinding')
      .filter((b) => b.roleRef.name === 'cluster-admin')
      .map((b) => b.subjects[0].name);
    assert.deepEqual(admins.sort(), ['helm-controller', 'kustomize-controller']);
    for (const r of byKind(objs, 'ClusterRole'))
      for (const rule of r.rules as { verbs: string[] }[])
        assert.ok(!rule.verbs.includes('*'), r.metadata.name);
    assert.deepEqual(
      byKind(objs, 'NetworkPolicy')
        .map((p) => p.metadata.name)
        .sort(),
      ['allow-egress', 'allow-scraping', 'allow-webhooks-notification'],
    );
    for (const o of objs.filter((x) => x.kind !== 'CustomResourceDefinition'))
      assert.equal(o.metadata.labels?.['app.kubernetes.io/part-of'], 'tide', `${o.kind}/${o.metadata.name}`);
  });

  it('renders other values: extra controllers, image, log level, no NetworkPolicies, another namespace', async () => {
    const objs = await template(
      '--namespace',
      'gitops',
      '--set',
      'controllers.image-reflector.enabled=true,controllers.image-automation.enabled=true,controllers.helm.enabled=false',
      '--set',
      'image.repository=ghcr.io/acme/tide,image.tag=1.2.3,logLevel=debug,networkPolicy.enabled=false',
      '--set',
      'controllers.source.concurrency=8,watchAllNamespaces=false,namespace.create=false',
    );
    assert.deepEqual(
      byKind(objs, 'Deployment')
        .map((d) => d.metadata.name)
        .sort(),
      [
        'image-automation-controller',
        'image-reflector-controller',
        'kustomize-controller',
        'notification-controller',
        'source-controller',
      ],
    );
    assert.equal(byKind(objs, 'NetworkPolicy').length, 0);
    assert.equal(byKind(objs, 'Namespace').length, 0);
    for (const d of byKind(objs, 'Deployment')) {
      assert.equal(d.metadata.namespace, 'gitops');
      assert.equal(container(d).image, 'ghcr.io/acme/tide:1.2.3');
      assert.ok(container(d).args.includes('--log-level=debug'));
      assert.ok(container(d).args.includes('--watch-all-namespaces=false'));
    }
    const source = container(named(objs, 'Deployment', 'source-controller'));
    assert.ok(source.args.includes('--concurrent=8'));
    assert.ok(source.args.includes('--storage-adv-addr=source-controller.gitops.svc.cluster.local.'));
    assert.ok(
      container(named(objs, 'Deployment', 'kustomize-controller')).args.includes(
        '--events-addr=http://notification-controller.gitops.svc.cluster.local./',
      ),
    );
    named(objs, 'ClusterRole', 'tide-image-automation-controller-gitops');
  });

  it('every rendered object passes server-side dry-run, with default and other values', async () => {
    const kubeconfig = testbed().controlPlane.kubeconfig;
    for (const extra of [
      [],
      [
        '--components-extra',
        'image-reflector-controller,image-automation-controller',
        '--network-policy=false',
        '--log-level',
        'debug',
        '--version',
        '9.9.9',
      ],
    ]) {
      const exported = await tide(['install', '--export', '-n', ns(), ...extra], kubeconfig);
      assert.equal(exported.code, 0, exported.stderr);
      const count = (loadAll(exported.stdout) as unknown[]).filter(Boolean).length;
      const r = await tide(['install', '--dry-run', '-n', ns(), ...extra], kubeconfig);
      assert.equal(r.code, 0, r.stderr);
      const accepted = r.stderr.split('\n').filter((l) => l.endsWith(' (server dry run)'));
      assert.equal(accepted.length, count, r.stderr);
      assert.match(r.stderr, /✔ install dry-run finished\n$/);
    }
    // Nothing was written.
    const client = createClient(testbed().kubeconfig);
    const deployments = await client.listAll(
      { group: 'apps', version: 'v1', kind: 'Deployment' },
      { namespace: ns() },
    );
    assert.deepEqual(deployments.items, []);
  });
});
