// biome-ignore-all lint/performance/useDomNodeTextContent: these are playwright locators; innerText() is the rendered text a user reads
// The dashboard in a real headless Chromium, against the test bed with the source- and
// kustomize-controller running: `tide ui` as a user runs it (loopback, the admin kubeconfig, one
// namespace), and the in-cluster server (token sign-in, impersonation) for a read-only user.
// Screenshots of every view go to test-output/ui/.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { poll } from '../../../hack/testbed/proc.ts';
import { openDashboard, type Served, screenshot, serve, startTideUi } from '../../support/browser.ts';
import { testbed } from '../../support/testbed.ts';
import {
  configMap,
  type DataObject,
  deployment,
  type Repo,
  useKustomizeEnv,
  yaml,
} from '../kustomize/kustomization-support.ts';

// What the functions run in the page use of the DOM (this program is type-checked without lib.dom).
interface PageElement {
  textContent: string | null;
  getAttribute(name: string): string | null;
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): { length: number };
};
declare const location: { hash: string };
declare const window: Record<string, unknown>;

describe('dashboard (tide ui) in a browser', function () {
  this.timeout(300_000);
  const env = useKustomizeEnv('ui');
  const ns = () => env.ns();
  const key = (name: string) => `Kustomization/${ns()}/${name}`;
  let ui: Served | undefined;
  let repo: Repo;
  let browser: Browser | undefined;
  let page: Page;

  before(async function () {
    this.timeout(240_000);
    repo = await env.repo('site', {
      'app/deploy.yaml': yaml(deployment('web', { replicas: 2 })),
      'app/cm.yaml': yaml(configMap('web-config', { greeting: 'hello from git' })),
      'other/cm.yaml': yaml(configMap('other-config', { v: '1' })),
    });
    const target = { targetNamespace: ns() };
    await env.createKs('app', repo, { path: './app', ...target, wait: true, timeout: '2m' });
    await env.createKs('broken', repo, { path: './does-not-exist', ...target });
    await env.createKs('blocked', repo, { path: './other', ...target, dependsOn: [{ name: 'broken' }] });
    await env.waitReady('app');
    await env.waitNotReady('broken', /kustomization path not found/);
    await env.waitNotReady('blocked', /dependency '.*\/broken' is not ready/);

    ui = await startTideUi(ns());
    ({ browser, page } = await openDashboard(ui.url));
  });

  after(async () => {
    await browser?.close();
    await ui?.stop();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.error(`--- tide ui ---\n${ui?.output().slice(-4000)}`);
  });

  it('lists the failing Kustomization first, with its message', async () => {
    const first = page.locator('table.objects tbody tr').first();
    await page.waitForFunction(
      (k) => document.querySelector('table.objects tbody tr')?.getAttribute('data-key') === k,
      key('broken'),
    );
    assert.equal(await first.getAttribute('data-key'), key('broken'));
    assert.match(await first.innerText(), /Failing[\s\S]*kustomization path not found: '\.\/does-not-exist'/);
    assert.equal(await page.locator('.card-count[data-state="failing"]').innerText(), '1');
    await screenshot(page, 'overview');

    await page.fill('input.search', 'blocked');
    await page.waitForFunction(() => document.querySelectorAll('table.objects tbody tr').length === 1);
    // Live: the row follows the object until its dependency check has been reported.
    await page.waitForFunction(
      () => /DependencyNotReady/.test(document.querySelector('table.objects tbody tr')?.textContent ?? ''),
      undefined,
      { timeout: 60_000 },
    );
    assert.match(await first.innerText(), /DependencyNotReady/);
    await page.fill('input.search', '');
  });

  it("shows the object page with the inventory tree: Deployment → ReplicaSet → Pods, each one's health", async () => {
    await page.evaluate((h) => {
      location.hash = h;
    }, `#/o/Kustomization/${ns()}/app`);
    await page.locator('dl.facts').waitFor();
    assert.match(await page.locator('dl.facts').innerText(), /GitRepository .*\/site/);
    await page.locator('.last-reconcile').waitFor();
    await screenshot(page, 'object');

    await page.click('nav.tabs >> text=Inventory');
    await page.waitForFunction(() => document.querySelectorAll('.inventory-item .kind').length > 0);
    const text = await page.locator('.inventory').innerText();
    assert.match(text, /Deployment\s+.*\/web/);
    assert.match(text, /ConfigMap\s+.*\/web-config/);
    // The Deployment's ReplicaSet and both of its Pods (kwok runs them), nested under it.
    await page.waitForFunction(
      () => document.querySelectorAll('ul.tree.nested .inventory-item').length >= 3,
      undefined,
      {
        timeout: 60_000,
      },
    );
    const nested = await page.locator('ul.tree.nested .kind').allInnerTexts();
    assert.deepEqual(nested.filter((k) => k === 'ReplicaSet').length, 1);
    assert.deepEqual(nested.filter((k) => k === 'Pod').length, 2);
    assert.match(text, /Current/);
    await screenshot(page, 'inventory');

    await page.click('nav.tabs >> text=History');
    await page.locator('table.history tbody tr').first().waitFor();
    assert.match(
      await page.locator('table.history').innerText(),
      /main@sha1:\w+[\s\S]*ReconciliationSucceeded/,
    );
    await screenshot(page, 'history');
  });

  it('shows in the graph that a Kustomization is blocked by its dependency, and why', async () => {
    await page.evaluate(() => {
      location.hash = '#/graph';
    });
    const edge = page.locator(`li.edge-item[data-from="${key('blocked')}"][data-to="${key('broken')}"]`);
    await edge.waitFor();
    // The dependency's first reconcile is still in progress at first: the page follows it live.
    const why = new RegExp(
      `dependency '${ns()}/broken' is not ready: Ready=False ArtifactFailed: kustomization path not found`,
    );
    const text = await poll('the edge says why it is blocked', 60_000, async () => {
      const t = await edge.innerText();
      return why.test(t) ? t : undefined;
    });
    assert.match(text, /blocked/);
    assert.equal(await page.locator(`g.gnode[data-key="${key('blocked')}"]`).count(), 1);
    await screenshot(page, 'graph');
  });

  it('shows a manual edit in the cluster in the drift view', async () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns(), name: 'web-config' };
    await env
      .client()
      .patch(cm, 'merge', { data: { greeting: 'edited by hand' } }, { fieldManager: 'kubectl-edit' });
    await page.evaluate((h) => {
      location.hash = h;
    }, `#/o/Kustomization/${ns()}/app/drift`);
    const item = page.locator(`.drift-object[data-subject="ConfigMap/${ns()}/web-config"]`);
    await item.waitFor({ timeout: 60_000 });
    assert.match(await item.locator('.badge.action').innerText(), /configured/);
    assert.equal(await item.locator('tr.line-del td.text').innerText(), '-  greeting: edited by hand');
    assert.equal(await item.locator('tr.line-add td.text').innerText(), '+  greeting: hello from git');
    assert.match(await item.locator('.changed-by').innerText(), /kubectl-edit \(Update/);
    // The Deployment was not touched: it is unchanged, so not listed.
    assert.equal(await page.locator(`.drift-object[data-subject="Deployment/${ns()}/web"]`).count(), 0);
    await screenshot(page, 'drift');
  });

  it('reconciles on a click and updates the page from the watch, without a reload', async () => {
    await page.evaluate((h) => {
      location.hash = h;
      window.notReloaded = true;
    }, `#/o/Kustomization/${ns()}/app`);
    const handled = page.locator('.handled');
    await handled.waitFor();
    const before = await handled.innerText();
    await page.click('.actions button:text-is("Reconcile")');
    await page.locator('.action-result').waitFor();
    assert.match(
      await page.locator('.action-result').innerText(),
      /reconcile of Kustomization .*\/app requested/,
    );
    await page.waitForFunction((b) => document.querySelector('.handled')?.textContent !== b, before, {
      timeout: 60_000,
    });
    assert.match(await handled.innerText(), /^\d{4}-\d\d-\d\dT/);
    assert.equal(
      await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded),
      true,
    );
    // The reconcile applied Git again: the hand edit is gone.
    const cm = await env.get<DataObject>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: ns(),
      name: 'web-config',
    });
    assert.equal(cm.data?.greeting, 'hello from git');
    await screenshot(page, 'reconciled');
  });

  it('rolls a Kustomization back with a revert commit in Git, from the page', async () => {
    const second = await repo.commit({
      'app/cm.yaml': yaml(configMap('web-config', { greeting: 'second' })),
    });
    await env.requestKs('app');
    await env.waitReady('app', second);
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns(), name: 'web-config' };
    assert.equal((await env.get<DataObject>(cm)).data?.greeting, 'second');
    await page.evaluate((h) => {
      location.hash = h;
    }, `#/o/Kustomization/${ns()}/app`);
    await page.click('.actions button:text-is("Roll back")');
    const result = page.locator('.notice .action-result');
    await result.waitFor({ timeout: 120_000 });
    assert.match(
      await result.innerText(),
      /rolled back to the state of main@sha1:\w+: applied main@sha1:\w+/,
    );
    assert.equal((await env.get<DataObject>(cm)).data?.greeting, 'hello from git');
    const ks = await env.getKs('app');
    assert.notEqual(ks.status?.lastAppliedRevision, second, 'a new revision, the revert commit, is applied');
    await screenshot(page, 'rolled-back');
  });

  describe('in a cluster, for a user who may only read', () => {
    const user = `viewer-${process.pid}`;
    const role = `tide-ui-test-read-${process.pid}`;
    let server: Served | undefined;
    let viewerPage: Page;

    before(async () => {
      const c = env.client();
      await c.create({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: role },
        rules: [
          {
            apiGroups: ['source.toolkit.fluxcd.io', 'kustomize.toolkit.fluxcd.io'],
            resources: ['*'],
            verbs: ['get', 'list', 'watch'],
          },
          { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch'] },
        ],
      });
      await c.create({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: role },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
      });
      const tokens = join(testbed().dir, `ui-tokens-${process.pid}.csv`);
      await writeFile(tokens, `viewer-token-${process.pid},${user},1\n`);
      server = await serve(
        [
          'controllers/ui/main.ts',
          '--listen-address=127.0.0.1:0',
          '--auth-mode=token',
          `--token-file=${tokens}`,
          `--watch-namespace=${ns()}`,
        ],
        { KUBECONFIG: testbed().controlPlane.kubeconfig },
        (line) => {
          const port = /"msg":"dashboard serving".*"port":(\d+)/.exec(line)?.[1];
          return port ? `http://127.0.0.1:${port}` : undefined;
        },
      );
      viewerPage = await (browser as Browser).newPage({ viewport: { width: 1440, height: 900 } });
    });

    after(async () => {
      await server?.stop();
      const c = env.client();
      await c.delete({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', name: role });
      await c.delete({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: role });
    });

    it("signs in, sees the objects, and is refused the suspend with the API server's message", async () => {
      await viewerPage.goto(`${server?.url}/`);
      await viewerPage.fill('input[name="token"]', `viewer-token-${process.pid}`);
      await viewerPage.click('button[type="submit"]');
      await viewerPage.waitForFunction(
        (k) => document.querySelector(`table.objects tr[data-key="${k}"]`) !== null,
        key('app'),
      );
      assert.match(await viewerPage.locator('.user').innerText(), new RegExp(user));

      await viewerPage.evaluate((h) => {
        location.hash = h;
      }, `#/o/Kustomization/${ns()}/app`);
      await viewerPage.click('.actions button:text-is("Suspend")');
      const refusal = viewerPage.locator('.notice-error .action-result');
      await refusal.waitFor();
      const message = await refusal.innerText();
      assert.match(message, new RegExp(`User "${user}" cannot patch resource "kustomizations"`));
      assert.match(message, /forbidden/);
      const ks = await env.getKs('app');
      assert.notEqual(ks.spec.suspend, true, 'the refused suspend changed nothing');
      await screenshot(viewerPage, 'refused');
    });
  });
});
