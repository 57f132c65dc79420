// The tide CLI run as a process against the test bed's control plane. No controller runs here: the
// tests create Flux objects and write their statuses as source-controller and kustomize-controller
// would (server-side apply to the status subresource), and play the controller's side of the
// reconcile handshake: see the requestedAt annotation, answer in status.lastHandledReconcileAt.

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Annotations } from '../../../controllers/api/names.ts';
import { type Client, createClient } from '../../../controllers/runtime/client.ts';
import type { KubeObject, ObjectRef } from '../../../controllers/runtime/object.ts';
import { poll } from '../../../hack/testbed/proc.ts';
import { ensureCrds } from '../../support/crds.ts';
import { testbed, useNamespace } from '../../support/testbed.ts';
import { table } from '../../support/tide.ts';

const mainTs = join(import.meta.dirname, '../../../controllers/cli/main.ts');
const requestedAt = Annotations.reconcileRequestedAt;
const rfc3339Nano = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
const sha = (c: string) => c.repeat(40);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}
interface Tide {
  done: Promise<Run>;
  exited(): boolean;
  output(): string;
}

const children = new Set<ChildProcess>();

/** Starts `node controllers/cli/main.ts …` with the test bed's kubeconfig in $KUBECONFIG. */
function tide(args: string[], env: NodeJS.ProcessEnv = {}): Tide {
  const child = spawn(process.execPath, [mainTs, ...args], {
    env: { ...process.env, KUBECONFIG: testbed().controlPlane.kubeconfig, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  let exited = false;
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const done = new Promise<Run>((resolve) =>
    child.on('close', (code) => {
      exited = true;
      children.delete(child);
      resolve({ code, stdout, stderr });
    }),
  );
  return { done, exited: () => exited, output: () => `${stdout}${stderr}` };
}

const runTide = (args: string[], env?: NodeJS.ProcessEnv) => tide(args, env).done;

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

function readyCondition(obj: KubeObject, status: 'True' | 'False', message: string) {
  return {
    type: 'Ready',
    status,
    reason: status === 'True' ? 'Succeeded' : 'GitOperationFailed',
    message,
    lastTransitionTime: now(),
    observedGeneration: obj.metadata.generation,
  };
}

function artifact(kind: string, obj: KubeObject, revision: string) {
  return {
    path: `${kind}/${obj.metadata.namespace}/${obj.metadata.name}/${sha('a')}.tar.gz`,
    url: `http://source-controller.flux-system.svc.cluster.local./${kind}/${obj.metadata.name}.tar.gz`,
    revision,
    digest: `sha256:${sha('b').slice(0, 64)}`,
    lastUpdateTime: now(),
    size: 1024,
  };
}

describe('tide CLI as a process against the control plane', function () {
  this.timeout(120_000);
  const ns = useNamespace('cli');
  const other = useNamespace('cli-other');
  let client: Client;

  before(async () => {
    await ensureCrds();
    client = createClient(testbed().kubeconfig, { fieldManager: 'tide-test' });
  });
  after(() => {
    for (const child of children) child.kill('SIGKILL');
  });

  const gitRef = (name: string, namespace = ns()): ObjectRef => ({
    apiVersion: 'source.toolkit.fluxcd.io/v1',
    kind: 'GitRepository',
    name,
    namespace,
  });
  const ksRef = (name: string, namespace = ns()): ObjectRef => ({
    apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
    kind: 'Kustomization',
    name,
    namespace,
  });

  async function createGitRepository(name: string, namespace = ns(), spec: Record<string, unknown> = {}) {
    const ref = gitRef(name, namespace);
    return client.create<KubeObject>({
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: { name, namespace },
      spec: { url: `https://git.example.com/${name}.git`, interval: '1m', ref: { branch: 'main' }, ...spec },
    });
  }

  async function createKustomization(name: string, source: string, spec: Record<string, unknown> = {}) {
    const ref = ksRef(name);
    return client.create<KubeObject>({
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: { name, namespace: ns() },
      spec: {
        interval: '10m',
        prune: true,
        path: './',
        sourceRef: { kind: 'GitRepository', name: source },
        ...spec,
      },
    });
  }

  /** Writes a GitRepository status as source-controller would. */
  async function gitStatus(
    obj: KubeObject,
    opts: { revision?: string; ready: ['True' | 'False', string]; handled?: string },
  ) {
    const status = {
      observedGeneration: obj.metadata.generation,
      conditions: [readyCondition(obj, ...opts.ready)],
      ...(opts.revision ? { artifact: artifact('gitrepository', obj, opts.revision) } : {}),
      ...(opts.handled ? { lastHandledReconcileAt: opts.handled } : {}),
    };
    await client.applyStatus(gitRef(obj.metadata.name!, obj.metadata.namespace), status, {
      fieldManager: 'gotk-source-controller',
    });
  }

  /** Writes a Kustomization status as kustomize-controller would. */
  async function ksStatus(
    obj: KubeObject,
    opts: { revision: string; ready: ['True' | 'False', string]; handled?: string },
  ) {
    const status = {
      observedGeneration: obj.metadata.generation,
      lastAppliedRevision: opts.revision,
      lastAttemptedRevision: opts.revision,
      conditions: [readyCondition(obj, ...opts.ready)],
      ...(opts.handled ? { lastHandledReconcileAt: opts.handled } : {}),
    };
    await client.applyStatus(ksRef(obj.metadata.name!, obj.metadata.namespace), status, {
      fieldManager: 'gotk-kustomize-controller',
    });
  }

  /** The controller's side: waits until the object carries a reconcile request; returns it and its token. */
  async function awaitRequest(ref: ObjectRef, ready: (o: KubeObject) => boolean = () => true) {
    return poll(
      `${ref.kind} ${ref.name} reconcile request`,
      30_000,
      async () => {
        const obj = await client.get(ref);
        const token = obj.metadata.annotations?.[requestedAt];
        return token && ready(obj) ? { obj, token } : undefined;
      },
      50,
    );
  }

  it('get sources git -A shows revision, suspension, Ready and message of every namespace', async () => {
    const good = await createGitRepository('podinfo');
    await gitStatus(good, {
      revision: `main@sha1:${sha('1')}`,
      ready: ['True', `stored artifact for revision 'main@sha1:${sha('1')}'`],
    });
    const broken = await createGitRepository('broken');
    await gitStatus(broken, {
      ready: ['False', 'failed to checkout and determine revision: authentication required'],
    });
    await createGitRepository('fresh', other(), { suspend: true });

    const all = await runTide(['get', 'sources', 'git', '-A']);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stderr, '');
    const rows = table(all.stdout);
    assert.deepEqual(rows[0], ['NAMESPACE', 'NAME', 'REVISION', 'SUSPENDED', 'READY', 'MESSAGE']);
    const ours = rows.filter(
      (r) => [ns(), other()].includes(r[0]!) && ['broken', 'podinfo', 'fresh'].includes(r[1]!),
    );
    assert.deepEqual(ours, [
      [
        ns(),
        'broken',
        '',
        'False',
        'False',
        'failed to checkout and determine revision: authentication required',
      ],
      [
        ns(),
        'podinfo',
        'main@sha1:11111111',
        'False',
        'True',
        "stored artifact for revision 'main@sha1:11111111'",
      ],
      [other(), 'fresh', '', 'True', 'False', 'waiting to be reconciled'],
    ]);
    // Columns line up: every line has its tabs at the same offsets.
    const tabs = (l: string) => [...l.matchAll(/\t/g)].map((m) => m.index);
    const lines = all.stdout.split('\n').filter(Boolean);
    for (const l of lines) assert.deepEqual(tabs(l), tabs(lines[0]!), l);

    const one = await runTide(['get', 'sources', 'git', '-n', other()]);
    assert.deepEqual(table(one.stdout), [
      ['NAME', 'REVISION', 'SUSPENDED', 'READY', 'MESSAGE'],
      ['fresh', '', 'True', 'False', 'waiting to be reconciled'],
    ]);
    const failing = await runTide(['get', 'sources', 'git', '-n', ns(), '--status-selector', 'ready=false']);
    assert.deepEqual(
      table(failing.stdout).map((r) => r[0]),
      ['NAME', 'broken'],
    );
  });

  it('get ks -n <ns> shows lastAppliedRevision and the Ready message; an empty namespace says so', async () => {
    const ks = await createKustomization('apps', 'podinfo');
    await ksStatus(ks, {
      revision: `main@sha1:${sha('2')}`,
      ready: ['True', `Applied revision: main@sha1:${sha('2')}`],
    });
    const r = await runTide(['get', 'ks', 'apps', '-n', ns()]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(table(r.stdout), [
      ['NAME', 'REVISION', 'SUSPENDED', 'READY', 'MESSAGE'],
      ['apps', 'main@sha1:22222222', 'False', 'True', 'Applied revision: main@sha1:22222222'],
    ]);
    const empty = await runTide(['get', 'kustomizations', '-n', other()]);
    assert.deepEqual(empty, {
      code: 0,
      stdout: '',
      stderr: `✗ no Kustomization objects found in "${other()}" namespace\n`,
    });
  });

  it('suspend sets spec.suspend, get shows SUSPENDED True, and reconcile then refuses', async () => {
    await createGitRepository('to-suspend');
    const r = await runTide(['suspend', 'source', 'git', 'to-suspend', '-n', ns()]);
    assert.deepEqual(r, {
      code: 0,
      stdout: '',
      stderr: `► suspending source git to-suspend in ${ns()} namespace\n✔ source git suspended\n`,
    });
    assert.equal((await client.get(gitRef('to-suspend'))).spec.suspend, true);
    const got = await runTide(['get', 'sources', 'git', 'to-suspend', '-n', ns()]);
    assert.equal(table(got.stdout)[1]?.[2], 'True');

    const refused = await runTide(['reconcile', 'source', 'git', 'to-suspend', '-n', ns()]);
    assert.deepEqual(refused, { code: 1, stdout: '', stderr: '✗ resource is suspended\n' });
    assert.equal((await client.get(gitRef('to-suspend'))).metadata.annotations?.[requestedAt], undefined);
  });

  it('reconcile source git writes the request, waits for it to be handled and prints the revision', async () => {
    const repo = await createGitRepository('rec');
    // An earlier reconcile, already handled: the CLI must not mistake it for the answer to its request.
    await gitStatus(repo, {
      revision: `main@sha1:${sha('3')}`,
      ready: ['True', 'old'],
      handled: '2020-01-01T00:00:00Z',
    });
    const started = Date.now();
    const cli = tide(['reconcile', 'source', 'git', 'rec', '-n', ns(), '--poll-interval', '100ms']);

    const { obj, token } = await awaitRequest(gitRef('rec'));
    assert.match(token, rfc3339Nano);
    assert.ok(Math.abs(Date.parse(token) - started) < 30_000, `token ${token} is about now`);
    await sleep(500);
    assert.equal(cli.exited(), false, `exited before the request was handled:\n${cli.output()}`);

    await gitStatus(obj, {
      revision: `main@sha1:${sha('4')}`,
      ready: ['True', `stored artifact for revision 'main@sha1:${sha('4')}'`],
      handled: token,
    });
    const r = await cli.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stderr,
      [
        `► annotating GitRepository rec in ${ns()} namespace`,
        '✔ GitRepository annotated',
        '◎ waiting for GitRepository reconciliation',
        '✔ GitRepository reconciliation completed',
        `✔ fetched revision main@sha1:${sha('4')}`,
        '',
      ].join('\n'),
    );
  });

  it('reconcile exits 1 with the message when the controller answers Ready=False', async () => {
    await createGitRepository('rec-fail');
    const cli = tide(['reconcile', 'source', 'git', 'rec-fail', '-n', ns(), '--poll-interval', '100ms']);
    const { obj, token } = await awaitRequest(gitRef('rec-fail'));
    await gitStatus(obj, { ready: ['False', 'failed to checkout: authentication required'], handled: token });
    const r = await cli.done;
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^◎ waiting for GitRepository reconciliation$/m);
    assert.ok(
      r.stderr.endsWith(
        '\n✗ GitRepository reconciliation failed: failed to checkout: authentication required\n',
      ),
      r.stderr,
    );
  });

  it('reconcile fails after --timeout when no controller answers', async () => {
    await createGitRepository('rec-timeout');
    const r = await runTide([
      'reconcile',
      'source',
      'git',
      'rec-timeout',
      '-n',
      ns(),
      '--timeout',
      '2s',
      '--poll-interval',
      '200ms',
    ]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /\n✗ timed out after 2s waiting for GitRepository rec-timeout reconciliation: the controller has not handled the request yet \(is source-controller running\?\)\n$/,
    );
    assert.match(
      (await client.get(gitRef('rec-timeout'))).metadata.annotations?.[requestedAt] ?? '',
      rfc3339Nano,
    );
  });

  it('reconcile ks --with-source reconciles the GitRepository first, then the Kustomization', async () => {
    await createGitRepository('ws-src');
    await createKustomization('ws', 'ws-src');
    const cli = tide(['reconcile', 'ks', 'ws', '-n', ns(), '--with-source', '--poll-interval', '100ms']);

    const src = await awaitRequest(gitRef('ws-src'));
    assert.equal(
      (await client.get(ksRef('ws'))).metadata.annotations?.[requestedAt],
      undefined,
      'the Kustomization is annotated only after its source is reconciled',
    );
    await gitStatus(src.obj, {
      revision: `main@sha1:${sha('5')}`,
      ready: ['True', 'stored'],
      handled: src.token,
    });
    const ks = await awaitRequest(ksRef('ws'));
    await ksStatus(ks.obj, {
      revision: `main@sha1:${sha('5')}`,
      ready: ['True', 'Applied'],
      handled: ks.token,
    });

    const r = await cli.done;
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stderr.split('\n'), [
      `► annotating GitRepository ws-src in ${ns()} namespace`,
      '✔ GitRepository annotated',
      '◎ waiting for GitRepository reconciliation',
      '✔ GitRepository reconciliation completed',
      `✔ fetched revision main@sha1:${sha('5')}`,
      `► annotating Kustomization ws in ${ns()} namespace`,
      '✔ Kustomization annotated',
      '◎ waiting for Kustomization reconciliation',
      '✔ Kustomization reconciliation completed',
      `✔ applied revision main@sha1:${sha('5')}`,
      '',
    ]);
  });

  it('resume clears spec.suspend, requests a reconcile and waits for Ready at the new generation', async () => {
    const paused = await createKustomization('paused', 'podinfo', { suspend: true });
    await ksStatus(paused, { revision: `main@sha1:${sha('6')}`, ready: ['True', 'Applied'] });
    const cli = tide(['resume', 'ks', 'paused', '-n', ns(), '--poll-interval', '100ms']);

    const { obj, token } = await awaitRequest(ksRef('paused'), (o) => o.spec.suspend === false);
    assert.ok(
      (obj.metadata.generation ?? 0) > (paused.metadata.generation ?? 0),
      'resuming changed the spec',
    );
    await sleep(500);
    assert.equal(cli.exited(), false, `exited before the request was handled:\n${cli.output()}`);
    await ksStatus(obj, { revision: `main@sha1:${sha('7')}`, ready: ['True', 'Applied'], handled: token });

    const r = await cli.done;
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stderr.split('\n'), [
      `► resuming kustomization paused in ${ns()} namespace`,
      '✔ kustomization resumed',
      '◎ waiting for Kustomization reconciliation',
      '✔ Kustomization paused reconciliation completed',
      `✔ applied revision main@sha1:${sha('7')}`,
      '',
    ]);
    assert.equal((await client.get(ksRef('paused'))).spec.suspend, false);
  });

  it('--kubeconfig and --context pick the cluster without $KUBECONFIG; a missing one fails clearly', async () => {
    await createGitRepository('kc');
    const home = await mkdtemp(join(tmpdir(), 'tide-cli-home-'));
    try {
      const env = { KUBECONFIG: '', HOME: home };
      const kubeconfig = testbed().controlPlane.kubeconfig;
      const context = testbed().kubeconfig.getCurrentContext();
      const args = ['get', 'sources', 'git', 'kc', '-n', ns(), '--kubeconfig', kubeconfig];
      const ok = await runTide([...args, '--context', context], env);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(table(ok.stdout)[1]?.[0], 'kc');

      const wrong = await runTide(['get', 'ks', '--kubeconfig', kubeconfig, '--context', 'nope'], env);
      assert.deepEqual(wrong, {
        code: 1,
        stdout: '',
        stderr: '✗ context "nope" not found in the kubeconfig\n',
      });
      const none = await runTide(['get', 'ks'], env);
      assert.deepEqual(none, {
        code: 1,
        stdout: '',
        stderr: '✗ no kubeconfig found: pass --kubeconfig, set $KUBECONFIG or create ~/.kube/config\n',
      });
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
