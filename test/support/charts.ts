// Charts the integration tests release: podinfo's chart (charts/podinfo of the podinfo Go module, in
// the Go module cache), unpacked once per run.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const PODINFO_MODULE = 'github.com/stefanprodan/podinfo@v1.8.1-0.20250910200901-e86405a8674e';
export const PODINFO_CHART_VERSION = '6.9.2';

let dir: string | undefined;

/** The podinfo chart directory: $TIDE_PODINFO_CHART, else charts/podinfo of the module in the Go module cache. */
export function podinfoChartDir(): string {
  if (dir) return dir;
  const candidates = [process.env.TIDE_PODINFO_CHART];
  const modcache =
    process.env.GOMODCACHE ||
    (() => {
      try {
        return execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim();
      } catch {
        return join(process.env.HOME ?? '/root', 'go', 'pkg', 'mod');
      }
    })();
  candidates.push(join(modcache, PODINFO_MODULE, 'charts', 'podinfo'));
  const found = candidates.find(
    (c): c is string => Boolean(c) && existsSync(join(c as string, 'Chart.yaml')),
  );
  if (!found)
    throw new Error(
      `podinfo chart not found (set TIDE_PODINFO_CHART, or 'go mod download ${PODINFO_MODULE}')`,
    );
  dir = found;
  return found;
}
