// Runs a Tide controller as its own process against the test bed, the way it runs in a cluster.

import { type ChildProcess, spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { nodeFlags } from '../../controllers/runtime/nodeflags.ts';
import { testbed } from './testbed.ts';

export interface ControllerProcess {
  child: ChildProcess;
  logFile: string;
  /** The controller's JSON log lines so far (for assertions and failure messages). */
  logs(): string;
  stop(): Promise<void>;
}

const root = join(import.meta.dirname, '..', '..');

/**
 * Starts `controllers/<name>/main.ts` with the test bed's kubeconfig (or `opts.kubeconfig`); health and
 * metrics on loopback.
 */
export async function startController(
  name: string,
  args: string[] = [],
  opts: { kubeconfig?: string; env?: Record<string, string> } = {},
): Promise<ControllerProcess> {
  const tb = testbed();
  const dir = await mkdtemp(join(tb.dir, `${name}-`));
  const logFile = join(dir, 'controller.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    [
      ...nodeFlags,
      join(root, 'controllers', name, 'main.ts'),
      '--metrics-addr=127.0.0.1:0',
      '--health-addr=127.0.0.1:0',
      '--enable-leader-election=false',
      ...args,
    ],
    {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, KUBECONFIG: opts.kubeconfig ?? tb.controlPlane.kubeconfig, ...opts.env },
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    logFile,
    logs: () => readFileSync(logFile, 'utf8'),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
