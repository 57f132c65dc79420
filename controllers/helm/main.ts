// helm-controller: HelmRelease.
//   node dist/controllers/helm/main.js --concurrent=4 --requeue-dependency=30s \
//     --helm-path=/usr/local/bin/helm --kustomize-path=/usr/local/bin/kustomize
import type { ParseArgsOptionsConfig } from 'node:util';
import { parseDuration } from '../runtime/duration.ts';
import { KubeConfig } from '../runtime/kubeconfig.ts';
import { parseFlags, runManager } from '../runtime/manager.ts';
import { helmReleaseController } from './helmrelease.ts';
import { type StorageDriver, StorageDrivers } from './storage.ts';

const name = 'helm-controller';

export const helmFlags = {
  'requeue-dependency': { type: 'string', default: '30s' },
  'default-service-account': { type: 'string', default: '' },
  'no-cross-namespace-refs': { type: 'boolean', default: false },
  'graceful-shutdown-timeout': { type: 'string', default: '600s' },
  'helm-path': { type: 'string', default: process.env.TIDE_HELM_BIN ?? 'helm' },
  'kustomize-path': { type: 'string', default: process.env.TIDE_KUSTOMIZE_BIN ?? 'kustomize' },
} satisfies ParseArgsOptionsConfig;

/** Helm's $HELM_DRIVER: the storage of releases, secret (default) or configmap. */
function storageDriver(env: NodeJS.ProcessEnv): StorageDriver {
  const d = (env.HELM_DRIVER ?? '').toLowerCase();
  if (d === '' || d === 'secret' || d === 'secrets') return StorageDrivers.Secret;
  if (d === 'configmap' || d === 'configmaps') return StorageDrivers.ConfigMap;
  throw new Error(`HELM_DRIVER '${env.HELM_DRIVER}' is not supported: use secret or configmap`);
}

export async function main(argv = process.argv.slice(2)): Promise<number> {
  const { values } = parseFlags(argv, { extra: helmFlags });
  const flag = (k: keyof typeof helmFlags) => values[k];
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const controller = helmReleaseController({
    kubeConfig,
    fieldManager: name,
    helmBin: String(flag('helm-path')),
    kustomizeBin: String(flag('kustomize-path')),
    requeueDependencyMs: parseDuration(String(flag('requeue-dependency'))),
    defaultServiceAccount: String(flag('default-service-account')) || undefined,
    noCrossNamespaceRefs: flag('no-cross-namespace-refs') === true,
    storageDriver: storageDriver(process.env),
  });
  return runManager({
    name,
    controllers: [controller],
    argv,
    extraFlags: helmFlags,
    kubeConfig,
    gracefulShutdownMs: parseDuration(String(flag('graceful-shutdown-timeout'))),
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => process.exit(code),
    (err: Error) => {
      console.error(JSON.stringify({ level: 'error', msg: `${name} failed to start`, error: err.message }));
      process.exit(1);
    },
  );
}
