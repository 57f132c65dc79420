// tide create kustomization|helmrelease: the appliers of flux create (F2 cmd/flux/create_kustomization.go,
// create_helmrelease.go).
import { readFile } from 'node:fs/promises';
import { HelmReleaseKind, KustomizationKind } from '../../api/index.ts';
import { isMap, parseYaml } from '../../runtime/helm/yaml.ts';
import { bool, type Context, list, required, str } from '../command.ts';
import { CliError } from '../errors.ts';
import { helmReleaseKind, kustomizationKind } from '../kinds.ts';
import { type Creator, durationFlag, meta, parseRefArg, refKind } from './common.ts';

/** `--depends-on name[.namespace]` entries. */
const dependsOn = (ctx: Context) =>
  list(ctx, 'depends-on').map((d) => {
    const r = parseRefArg(d, 'depends-on');
    if (r.kind) throw new CliError(`invalid --depends-on "${d}": want <name>[.<namespace>]`);
    return { name: r.name, ...(r.namespace ? { namespace: r.namespace } : {}) };
  });

export const kustomization: Creator = {
  words: ['kustomization'],
  what: 'Kustomization',
  kind: kustomizationKind,
  flags: [
    'source',
    'path',
    'prune',
    'interval',
    'retry-interval',
    'timeout',
    'target-namespace',
    'depends-on',
    'wait',
    'service-account',
    'decryption-secret',
  ],
  async build(ctx, name) {
    const src = parseRefArg(required(ctx, 'source'), 'source');
    const kind = refKind(src, ['GitRepository', 'OCIRepository', 'Bucket'], 'source', 'GitRepository');
    const deps = dependsOn(ctx);
    const decryption = str(ctx, 'decryption-secret');
    return [
      {
        apiVersion: KustomizationKind.apiVersion,
        kind: KustomizationKind.kind,
        metadata: meta(ctx, name),
        spec: {
          interval: durationFlag(ctx, 'interval', '1m'),
          path: str(ctx, 'path') ?? './',
          prune: bool(ctx, 'prune'),
          sourceRef: { kind, name: src.name, ...(src.namespace ? { namespace: src.namespace } : {}) },
          ...(str(ctx, 'retry-interval') ? { retryInterval: durationFlag(ctx, 'retry-interval', '1m') } : {}),
          ...(str(ctx, 'timeout') ? { timeout: durationFlag(ctx, 'timeout', '5m') } : {}),
          ...(str(ctx, 'target-namespace') ? { targetNamespace: str(ctx, 'target-namespace') } : {}),
          ...(deps.length ? { dependsOn: deps } : {}),
          ...(bool(ctx, 'wait') ? { wait: true } : {}),
          ...(str(ctx, 'service-account') ? { serviceAccountName: str(ctx, 'service-account') } : {}),
          ...(decryption ? { decryption: { provider: 'sops', secretRef: { name: decryption } } } : {}),
        },
      },
    ];
  },
};

/** --values files merged in order. */
async function valuesOf(ctx: Context): Promise<Record<string, unknown>> {
  const values: Record<string, unknown> = {};
  for (const file of list(ctx, 'values')) {
    const text = await readFile(file, 'utf8').catch((err: Error) => {
      throw new CliError(`cannot read --values ${file}: ${err.message}`);
    });
    const doc = parseYaml(text);
    if (doc !== null && !isMap(doc)) throw new CliError(`--values ${file} is not a map of values`);
    Object.assign(values, doc ?? {});
  }
  return values;
}

/** spec.chartRef from --chart-ref, else spec.chart from --source, --chart and --chart-version. */
function chartOf(ctx: Context): Record<string, unknown> {
  const chartRef = str(ctx, 'chart-ref');
  if (chartRef) {
    if (str(ctx, 'chart') || str(ctx, 'source'))
      throw new CliError('--chart-ref replaces --source and --chart');
    const r = parseRefArg(chartRef, 'chart-ref');
    const kind = refKind(r, ['OCIRepository', 'HelmChart'], 'chart-ref', 'OCIRepository');
    return { chartRef: { kind, name: r.name, ...(r.namespace ? { namespace: r.namespace } : {}) } };
  }
  const src = parseRefArg(required(ctx, 'source', '(or --chart-ref)'), 'source');
  const kind = refKind(src, ['HelmRepository', 'GitRepository', 'Bucket'], 'source', 'HelmRepository');
  return {
    chart: {
      spec: {
        chart: required(ctx, 'chart'),
        ...(str(ctx, 'chart-version') ? { version: str(ctx, 'chart-version') } : {}),
        sourceRef: { kind, name: src.name, ...(src.namespace ? { namespace: src.namespace } : {}) },
      },
    },
  };
}

export const helmRelease: Creator = {
  words: ['helmrelease'],
  what: 'HelmRelease',
  kind: helmReleaseKind,
  flags: [
    'source',
    'chart',
    'chart-version',
    'chart-ref',
    'interval',
    'target-namespace',
    'create-target-namespace',
    'values',
    'release-name',
    'depends-on',
    'service-account',
    'storage-namespace',
  ],
  async build(ctx, name) {
    const values = await valuesOf(ctx);
    const chart = chartOf(ctx);
    const deps = list(ctx, 'depends-on').map((d) => {
      const r = parseRefArg(d, 'depends-on');
      return { name: r.name, ...(r.namespace ? { namespace: r.namespace } : {}) };
    });
    return [
      {
        apiVersion: HelmReleaseKind.apiVersion,
        kind: HelmReleaseKind.kind,
        metadata: meta(ctx, name),
        spec: {
          interval: durationFlag(ctx, 'interval', '1m'),
          ...chart,
          ...(str(ctx, 'release-name') ? { releaseName: str(ctx, 'release-name') } : {}),
          ...(str(ctx, 'target-namespace') ? { targetNamespace: str(ctx, 'target-namespace') } : {}),
          ...(bool(ctx, 'create-target-namespace') ? { install: { createNamespace: true } } : {}),
          ...(str(ctx, 'storage-namespace') ? { storageNamespace: str(ctx, 'storage-namespace') } : {}),
          ...(str(ctx, 'service-account') ? { serviceAccountName: str(ctx, 'service-account') } : {}),
          ...(deps.length ? { dependsOn: deps } : {}),
          ...(Object.keys(values).length ? { values } : {}),
        },
      },
    ];
  },
};
