// Runs the tide CLI as a process, as a user runs it: `node controllers/cli/main.ts ...` with a
// kubeconfig in $KUBECONFIG and the pinned helm and kustomize binaries.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { toolPaths } from '../../hack/testbed/tools.ts';

const mainTs = join(import.meta.dirname, '..', '..', 'controllers', 'cli', 'main.ts');

export interface TideRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface TideProcess {
  child: ChildProcess;
  done: Promise<TideRun>;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
}

const running = new Set<ChildProcess>();

/** Starts `tide args...`; `env` adds to (and overrides) the environment. */
export async function startTide(
  args: string[],
  kubeconfig: string,
  env: NodeJS.ProcessEnv = {},
): Promise<TideProcess> {
  const tools = await toolPaths(['helm', 'kustomize']);
  const child = spawn(process.execPath, [mainTs, ...args], {
    env: {
      ...process.env,
      KUBECONFIG: kubeconfig,
      TIDE_HELM_BIN: tools.helm,
      TIDE_KUSTOMIZE_BIN: tools.kustomize,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    err += d;
  });
  const done = new Promise<TideRun>((resolve) =>
    child.on('close', (code) => {
      running.delete(child);
      resolve({ code, stdout: out, stderr: err });
    }),
  );
  return { child, done, stdout: () => out, stderr: () => err };
}

/** Runs `tide args...` to its end. */
export async function tide(
  args: string[],
  kubeconfig: string,
  env: NodeJS.ProcessEnv = {},
): Promise<TideRun> {
  return (await startTide(args, kubeconfig, env)).done;
}

/** Kills every tide process still running (an after hook of the tests that start them). */
export function killTide(): void {
  for (const c of running) c.kill('SIGKILL');
}

/** A table the CLI printed, as trimmed cells; the header row first. */
export const table = (stdout: string): string[][] =>
  stdout
    .split('\n')
    .filter(Boolean)
    .map((l) =>
      l
        .split('\t')
        .map((c) => c.trim())
        .slice(0, -1),
    );
