// Benchmark of the dashboard with many objects: 1000 Kustomizations in 20 namespaces (with their
// GitRepositories, dependency chains, failing, progressing and suspended ones) and 4000 applied objects
// in their inventories, statuses written as the controllers write them. `tide ui`'s server runs
// in-process; Debian's chromium (playwright-core) measures, in the page:
//   - first paint: navigation start → the overview's rows painted (and the first contentful paint);
//   - filter: a keystroke's input event → the filtered rows painted;
//   - object page and its inventory tab, and the graph of one namespace.
//   node hack/bench/ui-dashboard.ts [--runs=5] [--keep]   (BENCH_UI_TESTBED=<dir> reuses a control plane)
// Prints the timings (median and worst of the runs); asserts nothing.

import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { mapLimit } from '../../controllers/runtime/apply/changeset.ts';
import { type Client, createClient } from '../../controllers/runtime/client.ts';
import { KubeConfig } from '../../controllers/runtime/kubeconfig.ts';
import type { KubeObject } from '../../controllers/runtime/object.ts';
import { startDashboard } from '../../controllers/ui/dashboard.ts';
import { emptyFilter, selectRows } from '../../controllers/ui/model/overview.ts';
import type { Row } from '../../controllers/ui/model/rows.ts';
import { installCrds } from '../crds.ts';
import { launchChromium } from '../testbed/chromium.ts';
import { startControlPlane, stopControlPlane } from '../testbed/controlplane.ts';
import { toolPaths } from '../testbed/tools.ts';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, keep: { type: 'boolean', default: false } },
});
const runs = Number(values.runs);
const namespaces = 20;
const perNamespace = 50;
const objectsPerKs = 4;
const log = (m: string) => console.error(`bench-ui: ${m}`);

// What the page functions use of the DOM (this program is type-checked without lib.dom).
declare const document: {
  querySelector(s: string): { value: string; dispatchEvent(e: unknown): void } | null;
  querySelectorAll(s: string): { length: number };
};
declare const location: { hash: string };
declare const performance: { now(): number; getEntriesByName(n: string): { startTime: number }[] };
declare function requestAnimationFrame(cb: () => void): void;
declare const Event: new (type: string, init: { bubbles: boolean }) => unknown;

const rev = (n: number) => `main@sha1:${n.toString(16).padStart(40, '0')}`;
const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const cond = (type: string, status: string, reason: string, message: string) => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: now,
  observedGeneration: 1,
});

/** The status kustomize-controller would have written for Kustomization i of a namespace. */
function ksStatus(ns: string, i: number, names: string[]) {
  const inventory = names.map((n) => ({ id: `${ns}_${n}__ConfigMap`, v: 'v1' }));
  const base = { observedGeneration: 1, inventory: { entries: inventory }, lastAttemptedRevision: rev(1) };
  if (i % 20 === 7)
    return {
      ...base,
      conditions: [
        cond(
          'Ready',
          'False',
          'HealthCheckFailed',
          `timeout waiting for: [Deployment/${ns}/app-${i} status: 'InProgress']`,
        ),
      ],
    };
  if (i % 25 === 11)
    return {
      ...base,
      conditions: [
        cond('Ready', 'False', 'DependencyNotReady', `dependency '${ns}/ks-${i - 1}' is not ready`),
      ],
    };
  return {
    ...base,
    lastAppliedRevision: rev(1),
    conditions: [
      cond('Ready', 'True', 'ReconciliationSucceeded', `Applied revision: ${rev(1)}`),
      cond('Healthy', 'True', 'Succeeded', 'Health check passed'),
    ],
    history: [
      {
        digest: `sha256:${i.toString(16).padStart(64, '0')}`,
        firstReconciled: now,
        lastReconciled: now,
        lastReconciledDuration: '812ms',
        lastReconciledStatus: 'ReconciliationSucceeded',
        totalReconciliations: 1,
        metadata: { revision: rev(1) },
      },
    ],
  };
}

async function populate(client: Client): Promise<void> {
  const work: (() => Promise<unknown>)[] = [];
  for (let n = 0; n < namespaces; n++) {
    const ns = `team-${String(n).padStart(2, '0')}`;
    await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const gitRef = {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'GitRepository',
      namespace: ns,
      name: 'site',
    };
    work.push(async () => {
      await client.apply({
        apiVersion: gitRef.apiVersion,
        kind: gitRef.kind,
        metadata: { name: 'site', namespace: ns },
        spec: { url: `https://git.example/${ns}/site.git`, interval: '5m', ref: { branch: 'main' } },
      } as KubeObject);
      await client.applyStatus(
        gitRef,
        {
          observedGeneration: 1,
          artifact: {
            path: 'x',
            url: 'http://source/x.tar.gz',
            revision: rev(1),
            digest: `sha256:${'0'.repeat(64)}`,
            lastUpdateTime: now,
          },
          conditions: [cond('Ready', 'True', 'Succeeded', `stored artifact for revision '${rev(1)}'`)],
        },
        { fieldManager: 'gotk-source-controller' },
      );
    });
    for (let i = 0; i < perNamespace; i++) {
      const name = `ks-${String(i).padStart(3, '0')}`;
      const names = Array.from({ length: objectsPerKs }, (_, j) => `${name}-cm-${j}`);
      const ref = {
        apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
        kind: 'Kustomization',
        namespace: ns,
        name,
      };
      work.push(async () => {
        for (const cm of names)
          await client.apply({
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: cm, namespace: ns },
            data: { v: cm },
          });
        await client.apply({
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          metadata: { name, namespace: ns },
          spec: {
            interval: '10m',
            path: `./apps/${name}`,
            prune: true,
            sourceRef: { kind: 'GitRepository', name: 'site' },
            ...(i % 10 !== 0 ? { dependsOn: [{ name: `ks-${String(i - 1).padStart(3, '0')}` }] } : {}),
            ...(i % 33 === 5 ? { suspend: true } : {}),
          },
        } as KubeObject);
        await client.applyStatus(ref, ksStatus(ns, i, names), { fieldManager: 'gotk-kustomize-controller' });
      });
    }
  }
  let done = 0;
  await mapLimit(work, 16, async (w) => {
    await w();
    if (++done % 200 === 0) log(`${done}/${work.length} objects with status written`);
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** Waits in the page until `selector` matches at least `count` elements, then one more frame: ms since navigation. */
function paintedWhen(page: Page, selector: string, count: number): Promise<number> {
  return page.evaluate(
    async ([sel, n]) => {
      const frame = () => new Promise<void>((r) => requestAnimationFrame(() => r()));
      const give = performance.now() + 30_000;
      while (document.querySelectorAll(sel as string).length < (n as number)) {
        if (performance.now() > give) throw new Error(`${sel}: fewer than ${n} after 30 s`);
        await frame();
      }
      await frame();
      return performance.now();
    },
    [selector, count] as const,
  );
}

/** Types `term` into the overview's search box: ms from the input event to the filtered rows painted. */
function filterTime(page: Page, term: string, expected: number): Promise<number> {
  return page.evaluate(
    async ([t, n]) => {
      const frame = () => new Promise<void>((r) => requestAnimationFrame(() => r()));
      const input = document.querySelector('input.search');
      if (!input) throw new Error('no search box');
      const t0 = performance.now();
      input.value = t as string;
      input.dispatchEvent(new Event('input', { bubbles: true }));
      const rows = () => document.querySelectorAll('table.objects tbody tr').length;
      while (rows() !== (n as number)) {
        if (performance.now() - t0 > 30_000) throw new Error(`'${t}': ${rows()} rows, not ${n}, after 30 s`);
        await frame();
      }
      await frame();
      return performance.now() - t0;
    },
    [term, expected] as const,
  );
}

/** The rows the overview shows for a search (at most its first page of 250), by the page's own model. */
const shownFor = (rows: Row[], text: string) =>
  Math.min(250, selectRows(rows, { ...emptyFilter(), text }).length);

async function measure(url: string, rows: Row[]) {
  const browser = await launchChromium();
  const results: Record<string, number[]> = {};
  const add = (k: string, v: number) => {
    results[k] = [...(results[k] ?? []), v];
  };
  try {
    // The token URL sets the session cookie once; every run then opens the overview afresh.
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const warm = await context.newPage();
    await warm.goto(url);
    await paintedWhen(warm, 'table.objects tbody tr', 250);
    await warm.close();
    const base = new URL(url).origin;
    for (let r = 0; r < runs; r++) {
      const page = await context.newPage();
      await page.goto(`${base}/`);
      add(
        'overview: rows painted (first paint with data)',
        await paintedWhen(page, 'table.objects tbody tr', 250),
      );
      add(
        'overview: first contentful paint',
        await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1),
      );
      for (const term of ['team-07', 'state:failing', 'ks-042 team-13', '']) {
        const n = shownFor(rows, term);
        add(`filter '${term}' (${n} rows shown)`, await filterTime(page, term, n));
      }
      const tAll = await page.evaluate(() => performance.now());
      await page.click('button.more');
      add(
        `show all ${rows.length} rows painted`,
        (await paintedWhen(page, 'table.objects tbody tr', rows.length)) - tAll,
      );
      const t0 = await page.evaluate(() => performance.now());
      await page.evaluate(() => {
        location.hash = '#/o/Kustomization/team-03/ks-017/inventory';
      });
      add(
        'object page: inventory tree painted',
        (await paintedWhen(page, '.inventory-item', objectsPerKs)) - t0,
      );
      const t1 = await page.evaluate(() => performance.now());
      await page.evaluate(() => {
        location.hash = '#/graph?ns=team-05';
      });
      add('graph of one namespace painted', (await paintedWhen(page, 'g.gnode', perNamespace + 1)) - t1);
      await page.close();
    }
  } finally {
    await browser.close();
  }
  return results;
}

async function main() {
  const reuse = process.env.BENCH_UI_TESTBED;
  const dir = reuse ?? (await mkdtemp(join(tmpdir(), 'tide-bench-ui-')));
  let started = false;
  try {
    const st = await startControlPlane({ dir, log });
    started = !reuse;
    const kc = new KubeConfig();
    kc.loadFromFile(st.kubeconfig);
    const client = createClient(kc, { fieldManager: 'bench-ui' });
    await installCrds(client);
    const t0 = Date.now();
    await populate(client);
    log(
      `${namespaces * perNamespace} Kustomizations, ${namespaces} GitRepositories and ${namespaces * perNamespace * objectsPerKs} ConfigMaps in ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    );
    const tools = await toolPaths(['kustomize', 'sops']);
    const s0 = Date.now();
    const dashboard = await startDashboard({
      kubeConfig: kc,
      address: '127.0.0.1:0',
      tools: { kustomizeBin: tools.kustomize, sopsBin: tools.sops },
    });
    log(`dashboard synced and serving in ${Date.now() - s0} ms (${dashboard.store.rows().length} rows)`);
    try {
      const results = await measure(dashboard.url, dashboard.store.rows());
      console.log(
        `\nDashboard with ${namespaces * perNamespace} Kustomizations and ${namespaces * perNamespace * objectsPerKs} inventory objects`,
      );
      console.log(
        `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${runs} runs\n`,
      );
      console.log(`${'measure'.padEnd(48)} ${'median ms'.padStart(10)} ${'worst ms'.padStart(10)}`);
      for (const [k, v] of Object.entries(results))
        console.log(
          `${k.padEnd(48)} ${median(v).toFixed(0).padStart(10)} ${Math.max(...v)
            .toFixed(0)
            .padStart(10)}`,
        );
    } finally {
      await dashboard.close();
    }
  } finally {
    if (started && !values.keep) {
      await stopControlPlane(dir);
      await rm(dir, { recursive: true, force: true });
    } else if (started) log(`control plane kept in ${dir}`);
  }
}

await main();
