// The test bed of one test run: the control plane plus Git (HTTP and SSH), OCI registry and chart
// servers. The mocha root hooks (hooks.ts) start it once per run; tests reach it through testbed().
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import {
  type ControlPlaneState,
  readState,
  startControlPlane,
  stopControlPlane,
} from '../../hack/testbed/controlplane.ts';
import { type GitHttpServer, startGitHttpServer } from '../../hack/testbed/gitserver.ts';
import { type Registry, startRegistry } from '../../hack/testbed/registry.ts';
import { type StaticServer, startStaticServer } from '../../hack/testbed/staticserver.ts';
import { type SshGitServer, startSshGitServer } from './sshserver.ts';

export interface Testbed {
  /** Scratch directory of this run; removed at the end. */
  dir: string;
  controlPlane: ControlPlaneState;
  /** True when the control plane was started by this run (and is stopped by it). */
  ownsControlPlane: boolean;
  kubeconfig: KubeConfig;
  git: GitHttpServer;
  ssh: SshGitServer;
  registry: Registry;
  charts: StaticServer;
  chartsDir: string;
}

let current: Testbed | undefined;

export function testbed(): Testbed {
  if (!current)
    throw new Error('the test bed is not running: run integration tests with the root hooks (npm test)');
  return current;
}

const log = (m: string) => process.env.TIDE_TEST_VERBOSE && console.error(`testbed: ${m}`);

/**
 * Starts everything. TIDE_TESTBED names the state directory of a running control plane
 * (for example .testbed after `make testbed-up`) to reuse instead of starting one.
 */
export async function startTestbed(): Promise<Testbed> {
  const dir = await mkdtemp(join(tmpdir(), 'tide-test-'));
  const started: { close(): Promise<void> }[] = [];
  try {
    let controlPlane: ControlPlaneState;
    let ownsControlPlane = false;
    const reuse = process.env.TIDE_TESTBED;
    if (reuse) {
      const st = await readState(reuse);
      if (!st) throw new Error(`TIDE_TESTBED=${reuse} holds no running test bed (state.json missing)`);
      controlPlane = st;
    } else {
      controlPlane = await startControlPlane({ dir: join(dir, 'controlplane'), log });
      ownsControlPlane = true;
      started.push({ close: () => stopControlPlane(controlPlane.dir) });
    }
    const kubeconfig = new KubeConfig();
    kubeconfig.loadFromFile(controlPlane.kubeconfig);
    const [git, ssh, registry, charts] = await Promise.all([
      startGitHttpServer(join(dir, 'git')),
      startSshGitServer(join(dir, 'ssh')),
      startRegistry(join(dir, 'registry')),
      startStaticServer(join(dir, 'charts')),
    ]);
    started.push(git, ssh, registry, charts);
    current = {
      dir,
      controlPlane,
      ownsControlPlane,
      kubeconfig,
      git,
      ssh,
      registry,
      charts,
      chartsDir: join(dir, 'charts'),
    };
    return current;
  } catch (err) {
    await Promise.allSettled(started.map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

export async function stopTestbed(): Promise<void> {
  const tb = current;
  current = undefined;
  if (!tb) return;
  await Promise.allSettled([tb.git.close(), tb.ssh.close(), tb.registry.close(), tb.charts.close()]);
  if (tb.ownsControlPlane) await stopControlPlane(tb.controlPlane.dir);
  await rm(tb.dir, { recursive: true, force: true });
}

let nsCounter = 0;

/**
 * Gives the calling describe block its own namespace, created before its tests and deleted after.
 * Returns a getter for the namespace name.
 */
export function useNamespace(prefix = 'test'): () => string {
  let name = '';
  before(async () => {
    const core = testbed().kubeconfig.makeApiClient(CoreV1Api);
    name = `${prefix}-${process.pid}-${++nsCounter}`.toLowerCase().slice(0, 63);
    await core.createNamespace({ body: { metadata: { name } } });
  });
  after(async () => {
    if (!current || !name) return;
    const core = current.kubeconfig.makeApiClient(CoreV1Api);
    await core.deleteNamespace({ name }).catch(() => {});
  });
  return () => name;
}
