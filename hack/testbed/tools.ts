// Paths of the pinned tool binaries, as hack/tools.sh resolves them (cache or TIDE_<TOOL>_BIN overrides).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './proc.ts';

export const hackDir = join(dirname(fileURLToPath(import.meta.url)), '..');

export type ToolName =
  | 'etcd'
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'kwok'
  | 'kwok-stages'
  | 'helm'
  | 'kustomize'
  | 'sops';

let cached: Map<string, string> | undefined;

/**
 * Resolves the tool paths once; throws naming those of `required` that are missing and the command
 * that builds them.
 */
export async function toolPaths(required?: ToolName[]): Promise<Record<ToolName, string>> {
  if (!cached) {
    const out = await run('bash', [join(hackDir, 'tools.sh'), '--print']);
    cached = new Map(
      out
        .trim()
        .split('\n')
        .map((l) => {
          const i = l.indexOf('=');
          return [l.slice(0, i), l.slice(i + 1)] as [string, string];
        }),
    );
  }
  const missing = [...cached]
    .filter(([n, p]) => (!required || required.includes(n as ToolName)) && !existsSync(p))
    .map(([n]) => n);
  if (missing.length > 0) {
    throw new Error(`missing test-bed tools: ${missing.join(', ')}; build them with 'make tools'`);
  }
  return Object.fromEntries(cached) as Record<ToolName, string>;
}
