// Renders the Tide chart with the pinned helm binary (`helm template --include-crds`), so `tide install`,
// `tide bootstrap` and `helm install charts/tide` produce the same objects from one source of truth.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isMap } from '../../runtime/helm/yaml.ts';
import { parseDocuments } from '../../runtime/kustomize/objects.ts';
import type { KubeObject } from '../../runtime/object.ts';
import { runProcess } from '../../runtime/process.ts';
import { cleanStderr, withSandbox } from '../../runtime/sandbox.ts';
import { CliError } from '../errors.ts';
import { chartDir, toolPath } from '../package.ts';
import { chartComponents } from './components.ts';

export interface RenderOptions {
  namespace: string;
  /** Keys of the controllers to enable; every other one is disabled. */
  components: readonly string[];
  /** Image tag (default: the chart's appVersion). */
  version?: string;
  /** Image repository, e.g. ghcr.io/acme/tide. */
  registry?: string;
  imagePullSecret?: string;
  logLevel?: string;
  watchAllNamespaces?: boolean;
  networkPolicy?: boolean;
  clusterDomain?: string;
  /** More values files (helm -f), applied after these options. */
  valuesFiles?: readonly string[];
  /** helm --set entries, applied last. */
  set?: readonly string[];
}

/** The values the options stand for, as one values file (omitted options keep the chart's defaults). */
export function valuesOf(opts: RenderOptions, allKeys: readonly string[]): Record<string, unknown> {
  const v: Record<string, unknown> = {
    managedBy: 'tide',
    namespace: { create: true },
    controllers: Object.fromEntries(allKeys.map((k) => [k, { enabled: opts.components.includes(k) }])),
  };
  const image: Record<string, string> = {};
  if (opts.registry) image.repository = opts.registry;
  if (opts.version) image.tag = opts.version.replace(/^v(?=\d)/, '');
  if (Object.keys(image).length) v.image = image;
  if (opts.imagePullSecret) v.imagePullSecrets = [{ name: opts.imagePullSecret }];
  if (opts.logLevel) v.logLevel = opts.logLevel;
  if (opts.watchAllNamespaces !== undefined) v.watchAllNamespaces = opts.watchAllNamespaces;
  if (opts.networkPolicy !== undefined) v.networkPolicy = { enabled: opts.networkPolicy };
  if (opts.clusterDomain) v.clusterDomain = opts.clusterDomain;
  return v;
}

/** Runs `helm template` on the chart and returns the objects, CRDs first as helm orders them. */
export async function renderChart(
  opts: RenderOptions,
  env: Readonly<Record<string, string | undefined>>,
  chart = chartDir(),
): Promise<KubeObject[]> {
  const helm = toolPath('helm', env);
  const keys = chartComponents(chart).map((c) => c.key);
  return withSandbox(async (sandboxEnv, home) => {
    const values = join(home, 'tide-values.json');
    await writeFile(values, JSON.stringify(valuesOf(opts, keys)));
    const args = [
      'template',
      'tide',
      chart,
      '--namespace',
      opts.namespace,
      '--include-crds',
      '-f',
      values,
      ...(opts.valuesFiles ?? []).flatMap((f) => ['-f', f]),
      ...(opts.set ?? []).flatMap((s) => ['--set', s]),
    ];
    let res: Awaited<ReturnType<typeof runProcess>>;
    try {
      res = await runProcess(helm, args, { env: sandboxEnv, timeoutMs: 120_000 });
    } catch (err) {
      throw new CliError(
        `cannot render the chart with ${helm} (set $TIDE_HELM_BIN): ${(err as Error).message}`,
      );
    }
    if (res.code !== 0)
      throw new CliError(
        `helm template failed: ${cleanStderr(res.stderr.replace(/^.*symbolic link.*$/gm, ''))}`,
      );
    let docs: unknown[];
    try {
      docs = parseDocuments(res.stdout.toString('utf8'));
    } catch (err) {
      throw new CliError(`the rendered chart is not valid YAML: ${(err as Error).message}`);
    }
    return docs.filter((d): d is KubeObject => isMap(d) && typeof d.kind === 'string');
  });
}
