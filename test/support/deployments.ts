// Runs Tide's controllers as local processes standing in for the pods of their Deployments: the
// container's command (`node dist/controllers/<key>/main.js`, run from the source as main.ts), its
// arguments and environment, with only what cannot work outside a pod made local: listen and
// advertised addresses on loopback ports, /data in a temp dir, the image's tool paths replaced by the
// pinned binaries. No kubelet runs containers on the test bed (kwok only makes the pods Ready).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeObject } from '../../controllers/runtime/object.ts';
import { freePort } from '../../hack/testbed/proc.ts';
import { toolPaths } from '../../hack/testbed/tools.ts';

const root = join(import.meta.dirname, '..', '..');

export interface LocalController {
  name: string;
  /** The arguments it was started with, after localization. */
  args: string[];
  child: ChildProcess;
}

export interface LocalControllers {
  controllers: LocalController[];
  /** Every controller's output, `<deployment>.log` (what `tide logs --log-dir` reads). */
  logDir: string;
  stop(): Promise<void>;
}

export interface Ports {
  events: number;
  storage: number;
  receiver: number;
}

/** One argument of a Deployment as a local process takes it (anything else is kept as is). */
export function localizeArg(
  arg: string,
  deployment: string,
  ports: Ports,
  paths: { storage: string; kustomize: string; sops: string },
): string {
  const m = /^(--[^=]+)=(.*)$/.exec(arg);
  if (!m) return arg;
  const flag = m[1]!;
  const local = (port: number) => `127.0.0.1:${port}`;
  const byFlag: Record<string, string> = {
    '--metrics-addr': '127.0.0.1:0',
    '--health-addr': '127.0.0.1:0',
    '--storage-path': paths.storage,
    '--storage-addr': local(ports.storage),
    '--storage-adv-addr': local(ports.storage),
    '--receiverAddr': local(ports.receiver),
    '--kustomize-path': paths.kustomize,
    '--sops-path': paths.sops,
    // notification-controller listens on it; the others send to it.
    '--events-addr':
      deployment === 'notification-controller' ? local(ports.events) : `http://${local(ports.events)}/`,
  };
  return flag in byFlag ? `${flag}=${byFlag[flag]}` : arg;
}

/** Starts one process per Deployment whose controller this checkout has; skips the others. */
export async function startFromDeployments(
  deployments: readonly KubeObject[],
  kubeconfig: string,
  dir: string,
): Promise<LocalControllers> {
  const tools = await toolPaths(['kustomize', 'sops', 'helm']);
  const logDir = join(dir, 'logs');
  await mkdir(logDir, { recursive: true });
  const ports: Ports = { events: await freePort(), storage: await freePort(), receiver: await freePort() };
  const storage = await mkdtemp(join(dir, 'storage-'));
  const controllers: LocalController[] = [];
  for (const d of deployments) {
    const name = d.metadata.name ?? '';
    const container = d.spec?.template?.spec?.containers?.[0];
    const command: string[] = container?.command ?? [];
    // The last word of the command is the controller's entry point; the words before it, node's flags.
    const key = /^dist\/controllers\/([^/]+)\/main\.js$/.exec(command.at(-1) ?? '')?.[1];
    const main = key && join(root, 'controllers', key, 'main.ts');
    if (command[0] !== 'node' || !main || !existsSync(main)) continue;
    const args = (container.args as string[]).map((a) =>
      localizeArg(a, name, ports, { storage, kustomize: tools.kustomize, sops: tools.sops }),
    );
    const env: Record<string, string> = {};
    for (const e of container.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value;
      else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace')
        env[e.name] = d.metadata.namespace ?? '';
    }
    const fd = openSync(join(logDir, `${name}.log`), 'a');
    // The node flags of the container's command (charts/tide nodeFlags), then the controller.
    const child = spawn(process.execPath, [...command.slice(1, -1), main, ...args], {
      stdio: ['ignore', fd, fd],
      env: {
        ...process.env,
        ...env,
        TIDE_KUSTOMIZE_BIN: tools.kustomize,
        TIDE_SOPS_BIN: tools.sops,
        TIDE_HELM_BIN: tools.helm,
        KUBECONFIG: kubeconfig,
      },
    });
    controllers.push({ name, args, child });
  }
  return {
    controllers,
    logDir,
    async stop() {
      await Promise.all(
        controllers.map(async ({ child }) => {
          if (child.exitCode !== null) return;
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
          if (child.exitCode === null) child.kill('SIGKILL');
        }),
      );
    },
  };
}
