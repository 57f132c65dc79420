// The dashboard on a kind it has no code of its own for: a HelmRelease the helm-controller installed,
// shown from allKinds alone, with its Helm release's objects as the inventory, the release history,
// and the chain HelmRelease → HelmChart → HelmRepository in the graph.
// biome-ignore-all lint/performance/useDomNodeTextContent: these are playwright locators; innerText() is the rendered text a user reads
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { openDashboard, type Served, screenshot, startTideUi } from '../../support/browser.ts';
import { useDemoSuite, waitReady } from '../helm/support.ts';

declare const document: { querySelectorAll(selector: string): { length: number } };
declare const location: { hash: string };

describe('dashboard: a HelmRelease', function () {
  this.timeout(240_000);
  const { ns, hc, create } = useDemoSuite('ui', { timeout: '60s' });
  let ui: Served | undefined;
  let browser: Browser | undefined;
  let page: Page;

  before(async function () {
    this.timeout(180_000);
    await create('web', { values: { message: 'from the chart' } });
    await waitReady(hc.client, ns(), 'web');
    ui = await startTideUi(ns());
    ({ browser, page } = await openDashboard(ui.url));
  });

  after(async () => {
    await browser?.close();
    await ui?.stop();
  });

  const go = (hash: string) =>
    page.evaluate((h) => {
      location.hash = h;
    }, hash);

  it("lists its Helm release's objects with their health, and the release history", async () => {
    await go(`#/o/HelmRelease/${ns()}/web/inventory`);
    await page.waitForFunction(() => document.querySelectorAll('.inventory-item').length >= 2);
    const text = await page.locator('.inventory').innerText();
    assert.match(text, /ConfigMap\s+.*\/web-config/);
    assert.match(text, /Deployment\s+.*\/web-app/);
    await screenshot(page, 'helmrelease-inventory');

    await go(`#/o/HelmRelease/${ns()}/web/history`);
    await page.locator('table.history tbody tr').first().waitFor();
    assert.match(await page.locator('table.history tbody tr').first().innerText(), /demo@0\.1\.0\s+deployed/);
  });

  it('draws HelmRelease → HelmChart → HelmRepository, each edge holding', async () => {
    const chart = `HelmChart/${ns()}/${ns()}-web`;
    const hr = page.locator(`li.edge-item[data-from="HelmRelease/${ns()}/web"][data-to="${chart}"]`);
    const repo = page.locator(`li.edge-item[data-from="${chart}"][data-to="HelmRepository/${ns()}/charts"]`);
    // Edges that hold are not in the list of those that do not: focus the HelmRelease to list its own.
    await go(`#/graph?focus=${encodeURIComponent(`HelmRelease/${ns()}/web`)}`);
    await hr.waitFor();
    assert.match(await hr.innerText(), /holds[\s\S]*artifact 0\.1\.0/);
    assert.equal(await repo.count(), 0, 'the chart’s own edge is listed when the chart is focused');
    await go(`#/graph?focus=${encodeURIComponent(chart)}`);
    await repo.waitFor();
    assert.match(await repo.innerText(), /holds/);
    await screenshot(page, 'helmrelease-graph');
  });
});
