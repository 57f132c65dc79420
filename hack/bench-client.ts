// Micro-benchmark of the Kubernetes client against a local control plane: sequential and concurrent
// GETs, and server-side apply patches. `node hack/bench-client.ts [gets] [patches]`; reuses the control
// plane of $TIDE_TESTBED when set, else starts one in a temp dir and stops it at the end. Prints wall
// time, requests per second and the client's CPU time per request (steadier than wall time on a busy
// machine); numbers depend on the machine, compare runs on the same one.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { createClient } from '../controllers/runtime/client.ts';
import {
  type ControlPlaneState,
  readState,
  startControlPlane,
  stopControlPlane,
} from './testbed/controlplane.ts';

const gets = Number(process.argv[2] ?? 2000);
const patches = Number(process.argv[3] ?? 500);

async function timed(label: string, n: number, fn: () => Promise<void>): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const perOp = (cpu.user + cpu.system) / n;
  console.log(
    `${label.padEnd(24)} ${n} in ${ms.toFixed(0)} ms (${((n * 1000) / ms).toFixed(0)}/s), client CPU ${perOp.toFixed(0)} µs/op`,
  );
}

async function main(): Promise<void> {
  const reuse = process.env.TIDE_TESTBED;
  const dir = reuse ? undefined : await mkdtemp(join(tmpdir(), 'tide-bench-'));
  let st: ControlPlaneState | undefined;
  try {
    st = reuse ? await readState(reuse) : await startControlPlane({ dir: join(dir as string, 'cp') });
    if (!st) throw new Error(`no test bed in ${reuse}`);
    const kc = new KubeConfig();
    kc.loadFromFile(st.kubeconfig);
    const client = createClient(kc, { fieldManager: 'bench' });
    const namespace = `bench-${process.pid}`;
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    const cm = (i: number, v: string) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `cm-${i}`, namespace },
      data: { v },
    });
    await client.apply(cm(0, 'x'));
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'cm-0', namespace };
    // Warm up discovery and the connection pool.
    for (let i = 0; i < 50; i++) await client.get(ref);

    await timed('GET, sequential', gets, async () => {
      for (let i = 0; i < gets; i++) await client.get(ref);
    });
    await timed('GET, 8 concurrent', gets, async () => {
      let next = 0;
      const worker = async () => {
        while (next++ < gets) await client.get(ref);
      };
      await Promise.all(Array.from({ length: 8 }, worker));
    });
    await timed('SSA patch, sequential', patches, async () => {
      for (let i = 0; i < patches; i++) await client.apply(cm(i % 50, `v${i}`));
    });
    await timed('SSA patch, 8 concurrent', patches, async () => {
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < patches; i = next++) await client.apply(cm(i % 50, `w${i}`));
      };
      await Promise.all(Array.from({ length: 8 }, worker));
    });
    await client.delete({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
    (globalThis as { gc?: () => void }).gc?.();
    const mem = process.memoryUsage();
    console.log(`rss ${(mem.rss / 2 ** 20).toFixed(0)} MiB, heap ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB`);
  } finally {
    if (dir) {
      await stopControlPlane(join(dir, 'cp'));
      await rm(dir, { recursive: true, force: true });
    }
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err);
    process.exit(1);
  },
);
