// Where the CLI's own files are: the package root (the nearest package.json named tide, in the source
// tree or above dist/), the chart, and the pinned tool binaries it runs (helm, kustomize).
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** The directory of the package.json named tide above `from`; undefined when there is none. */
export function packageRoot(from = import.meta.dirname): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'tide') return dir;
    } catch {
      /* no package.json here */
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** charts/tide of the package. */
export function chartDir(root = packageRoot()): string {
  const dir = root && join(root, 'charts', 'tide');
  if (!dir || !existsSync(join(dir, 'Chart.yaml')))
    throw new Error('the Tide chart (charts/tide) is not next to the CLI');
  return dir;
}

export type ToolName = 'helm' | 'kustomize' | 'sops';

/** hack/versions.env of a source checkout: the pinned version of each tool. */
function pinnedVersion(root: string, tool: ToolName): string | undefined {
  try {
    const text = readFileSync(join(root, 'hack', 'versions.env'), 'utf8');
    return new RegExp(`^${tool.toUpperCase()}_VERSION=(\\S+)$`, 'm').exec(text)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * The binary of a tool: $TIDE_<TOOL>_BIN; in a source checkout the pinned build in the tool cache
 * ($TIDE_TOOLS, default ~/.cache/tide/tools, as hack/tools.sh builds it); the image's
 * /usr/local/bin; else the name, found on PATH.
 */
export function toolPath(
  tool: ToolName,
  env: Readonly<Record<string, string | undefined>>,
  root = packageRoot(),
): string {
  const override = env[`TIDE_${tool.toUpperCase()}_BIN`];
  if (override) return override;
  const version = root && pinnedVersion(root, tool);
  if (version) {
    const cache = env.TIDE_TOOLS || join(homedir(), '.cache', 'tide', 'tools');
    const built = join(cache, `${tool}-${version}`, 'bin', tool);
    if (existsSync(built)) return built;
  }
  const image = join('/usr/local/bin', tool);
  return existsSync(image) ? image : tool;
}
