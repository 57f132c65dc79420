// Tide's main job for a developer: run the controllers against $KUBECONFIG, or against the local
// control plane (.testbed/, started when needed) when KUBECONFIG is unset. Installs the CRDs in crds/
// first. Stops the controllers on Ctrl-C; the local control plane keeps running (make testbed-down).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { type Client, createClient } from '../controllers/runtime/client.ts';
import type { KubeObject } from '../controllers/runtime/object.ts';
import { startExample } from './example.ts';
import { startControlPlane } from './testbed/controlplane.ts';
import { hackDir } from './testbed/tools.ts';
import { defaultTestbedDir } from './testbed.ts';

const root = join(hackDir, '..');
const log = (m: string) => console.error(`tide: ${m}`);

async function kubeconfigPath(): Promise<string> {
  if (process.env.KUBECONFIG) return process.env.KUBECONFIG;
  log('KUBECONFIG is unset: using the local control plane');
  const st = await startControlPlane({ dir: defaultTestbedDir, log });
  log(`local control plane: export KUBECONFIG=${st.kubeconfig}`);
  return st.kubeconfig;
}

/**
 * Server-side applies every CRD in crds/ with the field manager tide. Through the runtime client, not
 * client-node's object API: that one serializes through typed models and drops keys such as `default`.
 */
async function installCrds(client: Client): Promise<number> {
  const dir = join(root, 'crds');
  if (!existsSync(dir)) return 0;
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  const docs = (await Promise.all(files.map(async (f) => loadAll(await readFile(join(dir, f), 'utf8')))))
    .flat()
    .filter(Boolean) as KubeObject[];
  await Promise.all(docs.map((doc) => client.apply(doc, { force: true })));
  return docs.length;
}

/** Controllers are the folders of controllers/ with a main.ts, other than api, runtime and cli. */
function controllerMains(): string[] {
  const dir = join(root, 'controllers');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((d) => !['api', 'runtime', 'cli'].includes(d) && existsSync(join(dir, d, 'main.ts')))
    .map((d) => join(dir, d, 'main.ts'));
}

async function main() {
  const local = !process.env.KUBECONFIG;
  const kubeconfig = await kubeconfigPath();
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const client = createClient(kc, { fieldManager: 'tide' });
  log(`installed ${await installCrds(client)} CRDs on ${kc.getCurrentCluster()?.server}`);
  if (local) {
    const git = await startExample(client, defaultTestbedDir);
    process.once('exit', () => void git.close());
    log(
      `example: ${git.url}/gitops-repo.git (credentials in Secret flux-system/gitops-repo-auth) syncs to the`,
    );
    log('  dev, staging and prod namespaces; watch it with: npm run tide -- get kustomizations -A');
  }
  const mains = controllerMains();
  if (mains.length === 0) {
    log('no controllers to run yet; the cluster is ready. Ctrl-C to exit.');
    await new Promise<void>((resolve) => process.once('SIGINT', resolve));
    return;
  }
  // Locally every server stays on loopback; metrics and health ports are picked by the kernel so
  // that the controllers of one process tree do not collide.
  const localFlags = [
    '--metrics-addr=127.0.0.1:0',
    '--health-addr=127.0.0.1:0',
    '--enable-leader-election=false',
  ];
  const children = mains.map((m) =>
    spawn(process.execPath, [m, ...localFlags], {
      stdio: 'inherit',
      env: { ...process.env, KUBECONFIG: kubeconfig },
    }),
  );
  log(`running ${mains.map((m) => m.split('/').at(-2)).join(', ')}-controller; Ctrl-C to stop`);
  const stop = () => {
    for (const c of children) c.kill('SIGTERM');
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await Promise.all(children.map((c) => new Promise((resolve) => c.once('exit', resolve))));
}

main().catch((err: Error) => {
  log(err.message);
  process.exit(1);
});
