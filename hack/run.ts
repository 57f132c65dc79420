// Tide's main job for a developer: run the controllers against $KUBECONFIG, or against the local
// control plane (.testbed/, started when needed) when KUBECONFIG is unset. Installs the CRDs in crds/
// first. Stops the controllers on Ctrl-C; the local control plane keeps running (make testbed-down).

import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { createClient } from '../controllers/runtime/client.ts';
import { nodeFlags } from '../controllers/runtime/nodeflags.ts';
import { installCrds } from './crds.ts';
import { startExample } from './example.ts';
import { startControlPlane } from './testbed/controlplane.ts';
import { freePort } from './testbed/proc.ts';
import { hackDir, toolPaths } from './testbed/tools.ts';
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

/** Controllers: the folders of controllers/ with a main.ts but api, runtime, cli and ui (the dashboard). */
function controllerMains(): string[] {
  const dir = join(root, 'controllers');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((d) => !['api', 'runtime', 'cli', 'ui'].includes(d) && existsSync(join(dir, d, 'main.ts')))
    .map((d) => join(dir, d, 'main.ts'));
}

async function main() {
  const local = !process.env.KUBECONFIG;
  const kubeconfig = await kubeconfigPath();
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const client = createClient(kc, { fieldManager: 'tide' });
  log(`installed ${(await installCrds(client)).length} CRDs on ${kc.getCurrentCluster()?.server}`);
  const example = local ? await startExample(client, defaultTestbedDir) : undefined;
  if (example) {
    log(`example: ${example.gitUrl} (credentials in Secret flux-system/gitops-repo-auth) syncs to the`);
    log('  dev, staging and prod namespaces; watch it with: npm run tide -- get kustomizations -A');
    if (example.registryHost)
      log(`  images of ${example.registryHost}/example/backend update Git: npm run tide -- get images all`);
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
  // notification-controller receives the other controllers' events, and webhooks, on loopback ports.
  const [eventsPort, receiverPort] = [await freePort(), await freePort()];
  const nameOf = (main: string) => main.split('/').at(-2) ?? '';
  const notifying = mains.some((m) => nameOf(m) === 'notification');
  const eventsFlags = notifying ? [`--events-addr=http://127.0.0.1:${eventsPort}/`] : [];
  // Artifacts live beside the control plane's state, served on a free loopback port.
  const ownFlags: Record<string, string[]> = {
    source: [`--storage-path=${join(defaultTestbedDir, 'source-storage')}`, '--storage-addr=127.0.0.1:0'],
    notification: [`--events-addr=127.0.0.1:${eventsPort}`, `--receiverAddr=127.0.0.1:${receiverPort}`],
    'image-reflector': [`--storage-path=${join(defaultTestbedDir, 'image-reflector-storage')}`],
  };
  // The kustomize-controller runs the pinned kustomize and sops builds, the helm-controller the pinned
  // helm (and kustomize for post-renderers).
  const tools = await toolPaths(['kustomize', 'sops', 'helm']);
  const toolEnv = {
    TIDE_KUSTOMIZE_BIN: tools.kustomize,
    TIDE_SOPS_BIN: tools.sops,
    TIDE_HELM_BIN: tools.helm,
  };
  const flagsOf = (name: string) => [
    ...localFlags,
    ...(name === 'notification' ? [] : eventsFlags),
    ...(ownFlags[name] ?? []),
  ];
  // Each controller's log also goes to <log dir>/<name>-controller.log, which `tide logs --log-dir` reads.
  const logDir = process.env.TIDE_LOG_DIR ?? join(defaultTestbedDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const children = mains.map((m) => {
    const child = spawn(process.execPath, [...nodeFlags, m, ...flagsOf(nameOf(m))], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KUBECONFIG: kubeconfig, ...toolEnv },
    });
    const file = createWriteStream(join(logDir, `${nameOf(m)}-controller.log`), { flags: 'a' });
    child.stdout.on('data', (d) => {
      process.stdout.write(d);
      file.write(d);
    });
    child.stderr.on('data', (d) => {
      process.stderr.write(d);
      file.write(d);
    });
    child.once('exit', () => file.end());
    return child;
  });
  log(`running ${mains.map((m) => m.split('/').at(-2)).join(', ')}-controller; Ctrl-C to stop`);
  log(`their logs: npm run tide -- logs --log-dir ${logDir} -A`);
  if (notifying)
    log(`webhook receiver: http://127.0.0.1:${receiverPort}/hook/<status.webhookPath of a Receiver>`);
  const stop = () => {
    for (const c of children) c.kill('SIGTERM');
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await Promise.all(children.map((c) => new Promise((resolve) => c.once('exit', resolve))));
  await example?.close();
}

// Exit once the controllers have stopped: the example's Git server would keep the process alive.
main().then(
  () => process.exit(0),
  (err: Error) => {
    log(err.message);
    process.exit(1);
  },
);
