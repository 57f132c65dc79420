// tide logs from pods: one pod per Tide Deployment (a Running and Ready one first), read through the
// API's log subresource, filtered and printed as flux prints them.
import assert from 'node:assert/strict';
import { run } from '../../../controllers/cli/main.ts';
import type { Client } from '../../../controllers/runtime/client.ts';
import type { GVK, KubeObject } from '../../../controllers/runtime/object.ts';

const entry = (o: Record<string, string>) =>
  JSON.stringify({ level: 'info', ts: '2026-01-01T00:00:00Z', ...o });

function cluster(logs: Record<string, string[]>) {
  const paths: string[] = [];
  const deployment = (name: string): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'flux-system', labels: { 'app.kubernetes.io/part-of': 'tide' } },
    spec: { selector: { matchLabels: { app: name } } },
  });
  const pod = (name: string, app: string, phase: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'flux-system', labels: { app } },
    status: { phase, conditions: [{ type: 'Ready', status: phase === 'Running' ? 'True' : 'False' }] },
  });
  const pods = [
    pod('source-old', 'source-controller', 'Failed'),
    pod('source-1', 'source-controller', 'Running'),
    pod('ks-1', 'kustomize-controller', 'Running'),
  ];
  const client = {
    listAll: async (gvk: GVK, opts: { labelSelector?: string }) => {
      if (gvk.kind === 'Deployment')
        return { metadata: {}, items: [deployment('source-controller'), deployment('kustomize-controller')] };
      const app = opts.labelSelector?.replace('app=', '');
      return { metadata: {}, items: pods.filter((p) => p.metadata.labels?.app === app) };
    },
    streamLines: async (path: string, onLine: (l: string) => void) => {
      paths.push(path);
      const name = /pods\/([^/]+)\/log/.exec(path)?.[1] ?? '';
      for (const l of logs[name] ?? []) onLine(l);
    },
  } as unknown as Client;
  return { client, paths };
}

async function tideLogs(argv: string[], c: ReturnType<typeof cluster>) {
  let out = '';
  let err = '';
  const code = await run(['logs', ...argv], {
    io: { out: (t) => (out += t), err: (t) => (err += t) },
    connect: async () => c.client,
  });
  return { code, out, err };
}

describe('cli logs from pods', () => {
  it('reads one Running pod per controller and prints the entries of the namespace', async () => {
    const c = cluster({
      'source-1': [
        entry({
          msg: 'stored artifact',
          controllerKind: 'GitRepository',
          name: 'app',
          namespace: 'flux-system',
        }),
        'plain text',
      ],
      'ks-1': [
        entry({
          msg: 'server-side apply completed',
          controllerKind: 'Kustomization',
          name: 'app',
          namespace: 'flux-system',
        }),
        entry({ msg: 'elsewhere', controllerKind: 'Kustomization', name: 'x', namespace: 'apps' }),
      ],
    });
    const r = await tideLogs(['--tail', '10'], c);
    assert.equal(r.code, 0, r.err);
    assert.equal(
      r.out,
      '2026-01-01T00:00:00Z info GitRepository/app.flux-system - stored artifact \n' +
        '2026-01-01T00:00:00Z info Kustomization/app.flux-system - server-side apply completed \n',
    );
    assert.deepEqual(c.paths, [
      '/api/v1/namespaces/flux-system/pods/source-1/log?container=manager&tailLines=10',
      '/api/v1/namespaces/flux-system/pods/ks-1/log?container=manager&tailLines=10',
    ]);
    const all = await tideLogs(
      ['-A', '--kind', 'Kustomization'],
      cluster({
        'ks-1': [entry({ msg: 'elsewhere', controllerKind: 'Kustomization', name: 'x', namespace: 'apps' })],
      }),
    );
    assert.equal(all.out, '2026-01-01T00:00:00Z info Kustomization/x.apps - elsewhere \n');
  });

  it('says so when no Tide pod runs, and refuses bad flag values', async () => {
    const empty = { listAll: async () => ({ metadata: {}, items: [] }) } as unknown as Client;
    let err = '';
    const code = await run(['logs'], {
      io: { out: () => {}, err: (t) => (err += t) },
      connect: async () => empty,
    });
    assert.equal(code, 1);
    assert.equal(
      err,
      '✗ no Tide pods found in namespace "flux-system" (for local processes pass --log-dir)\n',
    );
    assert.match(
      (await tideLogs(['--level', 'warn'], cluster({}))).err,
      /✗ invalid --level "warn": want debug, info or error/,
    );
    assert.match((await tideLogs(['--tail=-1'], cluster({}))).err, /✗ invalid --tail "-1"/);
  });
});
