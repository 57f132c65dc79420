// The faults the soak injects, one at a time, each right after new revisions were published so that it
// lands while the controllers fetch, apply and push them: a controller SIGKILLed or SIGTERMed (and
// started again), kube-apiserver or etcd restarted, the Git server, registry or chart repository down
// (or answering 500, or too slowly), the artifact storage wiped, the artifact server killed.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultMode, FaultProxy } from '../../test/support/faults.ts';
import {
  type Component,
  type ControlPlaneState,
  startComponent,
  stopComponent,
  waitApiReady,
} from '../testbed/controlplane.ts';
import type { Rng } from './config.ts';
import type { ControllerName, Controllers } from './controllers.ts';
import type { Workload } from './workload.ts';

export const faultNames = [
  'sigkill-controller',
  'sigterm-controller',
  'restart-kube-apiserver',
  'restart-etcd',
  'git-down',
  'git-500',
  'git-slow',
  'registry-down',
  'charts-down',
  'storage-wiped',
  'artifact-server-killed',
] as const;
export type FaultName = (typeof faultNames)[number];

export interface FaultEnv {
  rng: Rng;
  controllers: Controllers;
  controlPlane: ControlPlaneState;
  gitProxy: FaultProxy;
  registryProxy: FaultProxy;
  chartsProxy: FaultProxy;
  storagePath: string;
  workload: Workload;
  log: (m: string) => void;
}

/** What happened: the fault's name and a detail (which controller, how long). */
export interface Injected {
  name: FaultName;
  detail: string;
}

/** SIGTERM grace, as terminationGracePeriodSeconds in the chart. */
const termGraceMs = 60_000;
/** How long an upstream stays broken: long enough for retries and spec.timeout (20 s) to be hit. */
const outage = (rng: Rng) => rng.int(30, 75) * 1000;

async function restart(env: FaultEnv, c: Component): Promise<string> {
  const downMs = env.rng.int(3, 12) * 1000;
  await stopComponent(env.controlPlane, c);
  await sleep(downMs);
  await startComponent(env.controlPlane, c);
  await waitApiReady(env.controlPlane, 300_000);
  return `down ${downMs / 1000} s`;
}

async function upstream(env: FaultEnv, proxy: FaultProxy, mode: FaultMode): Promise<string> {
  const ms = outage(env.rng);
  await proxy.set(mode, { slowMs: 60_000 });
  // New revisions published while it is broken: fetches of them fail, and must succeed afterwards.
  await sleep(ms / 2);
  await env.workload.mutate();
  await sleep(ms / 2);
  await proxy.set('pass');
  return `${ms / 1000} s`;
}

/** Injects one fault and returns once it is over (the component is back, the upstream answers). */
export async function inject(env: FaultEnv, name: FaultName): Promise<Injected> {
  const { rng, controllers } = env;
  const pickController = () => rng.pick(controllers.names()) as ControllerName;
  // Let the reconciles the fresh revisions started get going before the fault hits them.
  await sleep(rng.int(0, 2500));
  switch (name) {
    case 'sigkill-controller': {
      const c = pickController();
      await controllers.kill(c);
      await sleep(rng.int(1, 5) * 1000);
      await controllers.start(c);
      return { name, detail: c };
    }
    case 'sigterm-controller': {
      const c = pickController();
      await controllers.terminate(c, termGraceMs);
      await controllers.start(c);
      return { name, detail: c };
    }
    case 'restart-kube-apiserver':
      return { name, detail: await restart(env, 'kube-apiserver') };
    case 'restart-etcd':
      return { name, detail: await restart(env, 'etcd') };
    case 'git-down':
      return { name, detail: await upstream(env, env.gitProxy, 'down') };
    case 'git-500':
      return { name, detail: await upstream(env, env.gitProxy, 'error') };
    case 'git-slow':
      return { name, detail: await upstream(env, env.gitProxy, 'slow') };
    case 'registry-down':
      return { name, detail: await upstream(env, env.registryProxy, 'down') };
    case 'charts-down':
      return { name, detail: await upstream(env, env.chartsProxy, 'down') };
    case 'storage-wiped': {
      const entries = await readdir(env.storagePath);
      for (const e of entries) await rm(join(env.storagePath, e), { recursive: true, force: true });
      await env.workload.mutate();
      return { name, detail: `${entries.length} entries removed` };
    }
    case 'artifact-server-killed': {
      await controllers.kill('source');
      await sleep(rng.int(2, 8) * 1000);
      await controllers.start('source');
      return { name, detail: 'source-controller' };
    }
  }
}
