// Push → applied latency through the webhook receiver: a one-object change is committed and pushed,
// a signed GitHub push webhook goes to notification-controller's receiver, and the clock stops when
// the Kustomization is Ready at the new revision. GitRepository and Kustomization have a 1h interval,
// so only the webhook explains the change. The source-, kustomize- and notification-controller run as
// processes, as in a cluster.
//   node hack/bench/receiver-latency.ts [pushes=20]
// Reuses the control plane of $TIDE_TESTBED when set, else starts one in a temp dir and stops it at
// the end. Prints every sample, p50 and p95, and where the time goes (webhook → artifact → applied).

import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ConditionTypes } from '../../controllers/api/names.ts';
import { type Client, createClient } from '../../controllers/runtime/client.ts';
import type { KubeObject } from '../../controllers/runtime/object.ts';
import { installCrds } from '../crds.ts';
import {
  type ControlPlaneState,
  readState,
  startControlPlane,
  stopControlPlane,
} from '../testbed/controlplane.ts';
import { startGitHttpServer } from '../testbed/gitserver.ts';
import { freePort, poll, run } from '../testbed/proc.ts';
import { hackDir, toolPaths } from '../testbed/tools.ts';

const pushes = Number(process.argv[2] ?? 20);
const root = join(hackDir, '..');
const gitEnv = {
  ...process.env,
  GIT_TERMINAL_PROMPT: '0',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

/** The q-quantile by nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  const i = Math.max(0, Math.ceil(q * sorted.length) - 1);
  return sorted[Math.min(i, sorted.length - 1)] ?? Number.NaN;
}

function controller(name: string, args: string[], dir: string, env: NodeJS.ProcessEnv): ChildProcess {
  const fd = openSync(join(dir, `${name}.log`), 'a');
  const base = ['--metrics-addr=127.0.0.1:0', '--health-addr=127.0.0.1:0', '--enable-leader-election=false'];
  return spawn(process.execPath, [join(root, 'controllers', name, 'main.ts'), ...base, ...args], {
    stdio: ['ignore', fd, fd],
    env,
  });
}

const cm = (v: number) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bench\ndata:\n  value: "${v}"\n`;

interface Sample {
  total: number;
  artifact: number;
}

async function measure(client: Client, dir: string, kubeconfig: string): Promise<Sample[]> {
  const git = await startGitHttpServer(join(dir, 'git'));
  const eventsPort = await freePort();
  const receiverPort = await freePort();
  const tools = await toolPaths(['kustomize', 'sops']);
  const env = { ...process.env, KUBECONFIG: kubeconfig };
  const events = `--events-addr=http://127.0.0.1:${eventsPort}/`;
  const procs = [
    controller(
      'source',
      [`--storage-path=${join(dir, 'storage')}`, '--storage-addr=127.0.0.1:0', events],
      dir,
      env,
    ),
    controller(
      'kustomize',
      [`--kustomize-path=${tools.kustomize}`, `--sops-path=${tools.sops}`, events],
      dir,
      env,
    ),
    controller(
      'notification',
      [`--events-addr=127.0.0.1:${eventsPort}`, `--receiverAddr=127.0.0.1:${receiverPort}`],
      dir,
      env,
    ),
  ];
  try {
    const ns = `bench-receiver-${process.pid}`;
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const url = await git.createRepo('bench');
    const work = join(dir, 'work');
    await mkdir(join(work, 'app'), { recursive: true });
    const g = (...args: string[]) =>
      run('git', ['-c', 'user.name=Bench', '-c', 'user.email=bench@localhost', '-C', work, ...args], {
        env: gitEnv,
      });
    await g('init', '-q', '-b', 'main');
    const commit = async (v: number) => {
      await writeFile(join(work, 'app', 'cm.yaml'), cm(v));
      await g('add', '-A');
      await g('commit', '-q', '-m', `value ${v}`);
      await g('push', '-q', url.replace('http://', `http://${git.username}:${git.password}@`), 'HEAD:main');
      return (await g('rev-parse', 'HEAD')).trim();
    };
    const first = await commit(0);
    const create = (o: KubeObject) => client.create(o);
    const meta = (name: string) => ({ name, namespace: ns });
    await create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: meta('git'),
      stringData: { username: git.username, password: git.password },
    });
    await create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: meta('hook'),
      stringData: { token: 'bench-token' },
    });
    await create({
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'GitRepository',
      metadata: meta('bench'),
      spec: { url, interval: '1h', secretRef: { name: 'git' }, ref: { branch: 'main' } },
    });
    const ksRef = { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', ...meta('bench') };
    await create({
      ...ksRef,
      metadata: meta('bench'),
      spec: {
        interval: '1h',
        path: './app',
        prune: true,
        targetNamespace: ns,
        sourceRef: { kind: 'GitRepository', name: 'bench' },
      },
    });
    const receiverRef = {
      apiVersion: 'notification.toolkit.fluxcd.io/v1',
      kind: 'Receiver',
      ...meta('github'),
    };
    await create({
      ...receiverRef,
      metadata: meta('github'),
      spec: {
        type: 'github',
        events: ['push'],
        secretRef: { name: 'hook' },
        resources: [{ kind: 'GitRepository', name: 'bench' }],
      },
    });
    const readyAt = (o: KubeObject) =>
      o.status?.conditions?.find((c: { type: string }) => c.type === ConditionTypes.Ready)?.status === 'True';
    const applied = async (sha: string) => {
      const ks = await client.get(ksRef);
      return readyAt(ks) && ks.status?.lastAppliedRevision === `main@sha1:${sha}` ? true : undefined;
    };
    await poll('the first revision applied', 120_000, () => applied(first), 200);
    const receiver = await poll('the Receiver ready', 60_000, async () => {
      const r = await client.get(receiverRef);
      return readyAt(r) ? r : undefined;
    });
    const hook = `http://127.0.0.1:${receiverPort}${receiver.status?.webhookPath}`;
    const gitRef = { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', ...meta('bench') };

    const samples: Sample[] = [];
    for (let i = 1; i <= pushes; i++) {
      const sha = await commit(i);
      const t0 = performance.now();
      const body = JSON.stringify({ ref: 'refs/heads/main', after: sha });
      const res = await fetch(hook, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'push',
          'x-hub-signature-256': `sha256=${createHmac('sha256', 'bench-token').update(body).digest('hex')}`,
        },
        body,
      });
      if (res.status !== 200) throw new Error(`the receiver answered ${res.status}`);
      let artifact = 0;
      await poll(
        `push ${i} applied`,
        120_000,
        async () => {
          if (!artifact) {
            const repo = await client.get(gitRef);
            if (repo.status?.artifact?.revision === `main@sha1:${sha}`) artifact = performance.now() - t0;
          }
          return applied(sha);
        },
        10,
      );
      const total = performance.now() - t0;
      samples.push({ total, artifact: artifact || total });
      console.log(
        `push ${String(i).padStart(2)}: ${total.toFixed(0)} ms (artifact after ${(artifact || total).toFixed(0)} ms)`,
      );
    }
    await client.delete({ apiVersion: 'v1', kind: 'Namespace', name: ns });
    return samples;
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(0) : p.once('exit', r)))));
    await git.close();
  }
}

async function main(): Promise<number> {
  const reuse = process.env.TIDE_TESTBED;
  const dir = await mkdtemp(join(tmpdir(), 'tide-bench-receiver-'));
  let st: ControlPlaneState | undefined;
  try {
    st = reuse ? await readState(reuse) : await startControlPlane({ dir: join(dir, 'cp') });
    if (!st) throw new Error(`no test bed in ${reuse}`);
    const kc = new KubeConfig();
    kc.loadFromFile(st.kubeconfig);
    const client = createClient(kc, { fieldManager: 'bench' });
    await installCrds(client);
    const samples = await measure(client, dir, st.kubeconfig);
    const totals = samples.map((s) => s.total).sort((a, b) => a - b);
    const artifacts = samples.map((s) => s.artifact).sort((a, b) => a - b);
    const fmt = (xs: number[]) =>
      `p50 ${quantile(xs, 0.5).toFixed(0)} ms, p95 ${quantile(xs, 0.95).toFixed(0)} ms`;
    console.log(`\npush → Kustomization Ready at the new revision, ${samples.length} pushes: ${fmt(totals)}`);
    console.log(`  of which webhook → GitRepository artifact: ${fmt(artifacts)}`);
    return 0;
  } catch (err) {
    console.error(`bench: ${(err as Error).message}`);
    for (const name of ['source', 'kustomize', 'notification']) {
      try {
        console.error(
          `--- ${name} ---\n${readFileSync(join(dir, `${name}.log`), 'utf8')
            .split('\n')
            .slice(-15)
            .join('\n')}`,
        );
      } catch {}
    }
    return 1;
  } finally {
    if (!reuse) await stopControlPlane(join(dir, 'cp'));
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main().then((code) => process.exit(code));
