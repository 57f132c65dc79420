// Micro-benchmarks of the HTTP client.
//
// `node hack/bench-client.ts [gets] [patches]`: the Kubernetes client against a local control plane,
// sequential and concurrent GETs and server-side apply patches; reuses the control plane of
// $TIDE_TESTBED when set, else starts one in a temp dir and stops it at the end. Prints wall time,
// requests per second and the client's CPU time per request (steadier than wall time on a busy
// machine).
//
// `node hack/bench-client.ts loopback [requests]`: the memory of a process that imports
// runtime/http.ts and makes `requests` GETs to a loopback HTTP server, then as many to an HTTPS one
// (servers in this process, the client in a child, so that only the client is measured).
//
// Numbers depend on the machine: compare runs on the same one.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ControlPlaneState } from './testbed/controlplane.ts';
import { makePki } from './testbed/pki.ts';

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

async function apiserver(gets: number, patches: number): Promise<void> {
  // Imported here: the loopback child must start with nothing of the client loaded.
  const { createClient } = await import('../controllers/runtime/client.ts');
  const { KubeConfig } = await import('../controllers/runtime/kubeconfig.ts');
  const { readState, startControlPlane, stopControlPlane } = await import('./testbed/controlplane.ts');
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

const listenOn = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};

// The client process of `loopback`, plain JavaScript so that no TypeScript loader is counted: RSS
// after start, after the import, after the HTTP requests, after the HTTPS ones.
const loopbackClient = `
const [n, module, httpUrl, httpsUrl, caFile] = process.argv.slice(1);
const rss = (label) => {
  globalThis.gc();
  console.log(label.padEnd(28) + ' rss ' + (process.memoryUsage().rss / 2 ** 20).toFixed(1) + ' MiB');
};
rss('node, nothing imported');
const { httpClient } = await import(module);
rss('runtime/http imported');
const ca = (await import('node:fs')).readFileSync(caFile);
for (const [label, url, client] of [
  ['HTTP', httpUrl, httpClient()],
  ['HTTPS', httpsUrl, httpClient({ tls: { ca } })],
]) {
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < Number(n); i++) await (await client.request({ url })).text();
  const cpu = process.cpuUsage(cpu0);
  rss('after ' + n + ' ' + label + ' GETs');
  console.log(''.padEnd(28) + ' client CPU ' + ((cpu.user + cpu.system) / n).toFixed(0) + ' µs/op');
}
process.exit(0);
`;

async function loopback(requests: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tide-bench-'));
  const body = 'x'.repeat(2048);
  const answer = (_req: IncomingMessage, res: ServerResponse) => res.end(body);
  const plain = createServer(answer);
  let tls: Server | undefined;
  try {
    const pki = await makePki(dir);
    tls = createTlsServer(
      { cert: await readFile(pki.apiserverCert), key: await readFile(pki.apiserverKey) },
      answer,
    );
    const [httpPort, httpsPort] = [await listenOn(plain), await listenOn(tls)];
    // The build when there is one (npm run build), else the source through Node's type stripping.
    const built = fileURLToPath(new URL('../dist/controllers/runtime/http.js', import.meta.url));
    const module = existsSync(built)
      ? built
      : fileURLToPath(new URL('../controllers/runtime/http.ts', import.meta.url));
    console.log(`client: ${relative(process.cwd(), module)}`);
    const args = ['--expose-gc', '--input-type=module', '-e', loopbackClient, String(requests), module];
    args.push(`http://127.0.0.1:${httpPort}/`, `https://127.0.0.1:${httpsPort}/`, pki.caCert);
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, args, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    process.stdout.write(out);
  } finally {
    plain.closeAllConnections();
    plain.close();
    tls?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const [mode, ...rest] = process.argv.slice(2);
const run =
  mode === 'loopback'
    ? loopback(Number(rest[0] ?? 500))
    : apiserver(Number(mode ?? 2000), Number(rest[0] ?? 500));
run.then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err);
    process.exit(1);
  },
);
