// A second control plane, for tests of Kustomizations that apply to a remote cluster (spec.kubeConfig).
// It runs next to the test bed's (own directory and ports, all on loopback), is started by the
// describe block that needs it and stopped after that block, so other runs never pay for it.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { type Client, createClient } from '../../controllers/runtime/client.ts';
import {
  type ControlPlaneState,
  type StartOptions,
  startControlPlane,
  stopControlPlane,
} from '../../hack/testbed/controlplane.ts';
import { testbed } from './testbed.ts';

export interface SecondCluster {
  state: ControlPlaneState;
  /** Its admin kubeconfig as YAML: self-contained (embedded CA and client certificate). */
  kubeconfigYaml: string;
  /** Admin client, field manager `tide-test`. */
  client: Client;
}

let counter = 0;

/**
 * Registers hooks that start a second control plane before the calling describe block's tests and
 * stop it after them; `configure` may add start options (apiserver flags), given the directory. Register it after the hooks that still need it in their own `after` (e.g.
 * useKustomizeEnv's finalization), as mocha runs `after` hooks in the order they were registered.
 */
export function useSecondCluster(
  configure?: (dir: string) => Promise<Omit<StartOptions, 'dir'>>,
): () => SecondCluster {
  let cluster: SecondCluster | undefined;
  before(async function () {
    this.timeout(300_000);
    const dir = join(testbed().dir, `controlplane-second-${++counter}`);
    await mkdir(dir, { recursive: true });
    const state = await startControlPlane({ ...(await configure?.(dir)), dir });
    const kubeconfigYaml = await readFile(state.kubeconfig, 'utf8');
    const kc = new KubeConfig();
    kc.loadFromString(kubeconfigYaml);
    cluster = { state, kubeconfigYaml, client: createClient(kc, { fieldManager: 'tide-test' }) };
  });
  after(async function () {
    this.timeout(120_000);
    if (cluster) await stopControlPlane(cluster.state.dir);
    cluster = undefined;
  });
  return () => {
    if (!cluster) throw new Error('useSecondCluster: before() has not run');
    return cluster;
  };
}
