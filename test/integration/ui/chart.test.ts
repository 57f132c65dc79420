// charts/tide's dashboard option (ui.enabled), rendered by the pinned helm: off by default; each sign-in
// mode's flags, Secrets and impersonation RBAC; the objects accepted by the API server (server-side
// dry-run); and the rendered command line, run as it is against the test bed, serving a user.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { createClient } from '../../../controllers/runtime/client.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { run } from '../../../hack/testbed/proc.ts';
import { toolPaths } from '../../../hack/testbed/tools.ts';
import { serve } from '../../support/browser.ts';
import { ensureCrds } from '../../support/crds.ts';
import { testbed, useNamespace } from '../../support/testbed.ts';

const chart = join(import.meta.dirname, '..', '..', '..', 'charts', 'tide');
// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are free-form
type Obj = KubeObject & { spec?: any; rules?: any; subjects?: any };

async function template(...args: string[]): Promise<Obj[]> {
  const { helm } = await toolPaths(['helm']);
  const out = await run(helm, ['template', 'tide', chart, ...args]);
  return (loadAll(out) as (Obj | null)[]).filter((o): o is Obj => o !== null);
}

const ui = (objs: Obj[]) =>
  objs.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'tide-ui');
const one = (objs: Obj[], kind: string) => {
  const found = objs.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0] as Obj;
};
const container = (objs: Obj[]) => one(objs, 'Deployment').spec.template.spec.containers[0];

describe('charts/tide: the dashboard (ui)', function () {
  this.timeout(180_000);
  const ns = useNamespace('ui-chart');

  it('renders nothing of the dashboard by default', async () => {
    assert.deepEqual(ui(await template('--namespace', 'flux-system')), []);
  });

  it('with OIDC: the issuer flags, the client secret mounted, impersonation of the named users and groups', async () => {
    const objs = ui(
      await template(
        '--namespace',
        'flux-system',
        '--set',
        'ui.enabled=true',
        '--set',
        'ui.oidc.issuerURL=https://dex.example.com',
        '--set',
        'ui.oidc.clientID=tide',
        '--set',
        'ui.oidc.clientSecretName=tide-oidc',
        '--set',
        'ui.oidc.redirectURL=https://tide.example.com/oauth2/callback',
        '--set',
        'ui.impersonate.groups={platform,dev}',
      ),
    );
    assert.deepEqual(objs.map((o) => o.kind).sort(), [
      'ClusterRole',
      'ClusterRoleBinding',
      'Deployment',
      'NetworkPolicy',
      'Service',
      'ServiceAccount',
    ]);
    const c = container(objs);
    assert.deepEqual(c.command.at(-1), 'dist/controllers/ui/main.js');
    for (const flag of [
      '--auth-mode=oidc',
      '--oidc-issuer-url=https://dex.example.com',
      '--oidc-client-id=tide',
      '--oidc-redirect-url=https://tide.example.com/oauth2/callback',
      '--oidc-client-secret-file=/etc/tide-ui/oidc/client-secret',
      '--listen-address=:9080',
      '--secure-cookies',
    ])
      assert.ok(c.args.includes(flag), `${flag} in ${c.args.join(' ')}`);
    const volumes = one(objs, 'Deployment').spec.template.spec.volumes;
    assert.deepEqual(
      volumes.find((v: { name: string }) => v.name === 'oidc'),
      { name: 'oidc', secret: { secretName: 'tide-oidc' } },
    );
    const rules = one(objs, 'ClusterRole').rules;
    assert.deepEqual(rules[1], {
      apiGroups: [''],
      resources: ['users', 'groups'],
      verbs: ['impersonate'],
      resourceNames: ['platform', 'dev'],
    });
    assert.deepEqual(rules[0].verbs, ['get', 'list', 'watch'], 'the dashboard itself only reads');
    assert.equal(one(objs, 'Service').spec.ports[0].targetPort, 'http');
  });

  it('refuses OIDC without an issuer, and the token mode without its Secret', async () => {
    await assert.rejects(
      template('--set', 'ui.enabled=true'),
      /ui\.oidc\.issuerURL is required with authMode oidc/,
    );
    await assert.rejects(
      template('--set', 'ui.enabled=true', '--set', 'ui.authMode=token'),
      /ui\.tokenSecret is required with authMode token/,
    );
  });

  it('renders objects the API server accepts, and a command line that serves a signed-in user', async () => {
    await ensureCrds();
    const objs = ui(
      await template('--namespace', ns(), '--set', 'ui.enabled=true', '--set', 'ui.authMode=header'),
    );
    const admin = createClient(testbed().kubeconfig, { fieldManager: 'tide-test' });
    for (const o of objs) await admin.apply(o, { dryRun: true, force: true });

    const c = container(objs);
    const args = (c.args as string[])
      .map((a) => (a.startsWith('--listen-address=') ? '--listen-address=127.0.0.1:0' : a))
      .filter((a) => !a.startsWith('--kustomize-path') && !a.startsWith('--sops-path'));
    const served = await serve(
      ['controllers/ui/main.ts', ...args, `--watch-namespace=${ns()}`],
      { KUBECONFIG: testbed().controlPlane.kubeconfig },
      (line) => {
        const port = /"msg":"dashboard serving".*"port":(\d+)/.exec(line)?.[1];
        return port ? `http://127.0.0.1:${port}` : undefined;
      },
    );
    try {
      assert.equal((await fetch(`${served.url}/healthz`)).status, 200);
      assert.equal((await fetch(`${served.url}/api/session`)).status, 401, 'no proxy header, no user');
      const session = await fetch(`${served.url}/api/session`, {
        headers: { 'X-Forwarded-User': 'alice@example.com', 'X-Forwarded-Groups': 'platform,dev' },
      });
      assert.deepEqual(await session.json(), {
        user: 'alice@example.com',
        groups: ['platform', 'dev'],
        mode: 'header',
        rollback: false,
      });
    } finally {
      await served.stop();
    }
  });
});
