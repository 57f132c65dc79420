// kustomize-controller: Kustomization.
//   node dist/controllers/kustomize/main.js --concurrent=4 --requeue-dependency=30s \
//     --kustomize-path=/usr/local/bin/kustomize --sops-path=/usr/local/bin/sops
import type { ParseArgsOptionsConfig } from 'node:util';
import { parseDuration } from '../runtime/duration.ts';
import { KubeConfig } from '../runtime/kubeconfig.ts';
import { parseFlags, runManager } from '../runtime/manager.ts';
import { kustomizationController } from './kustomization.ts';

const name = 'kustomize-controller';

export const kustomizeFlags = {
  'requeue-dependency': { type: 'string', default: '30s' },
  'default-service-account': { type: 'string', default: '' },
  'no-cross-namespace-refs': { type: 'boolean', default: false },
  // Remote bases are always refused; the flag is accepted for compatibility with Flux's manifests.
  'no-remote-bases': { type: 'boolean', default: true },
  'kustomize-path': { type: 'string', default: process.env.TIDE_KUSTOMIZE_BIN ?? 'kustomize' },
  'sops-path': { type: 'string', default: process.env.TIDE_SOPS_BIN ?? 'sops' },
  'health-check-interval': { type: 'string', default: '2s' },
} satisfies ParseArgsOptionsConfig;

export async function main(argv = process.argv.slice(2)): Promise<number> {
  const { values } = parseFlags(argv, { extra: kustomizeFlags });
  const flag = (k: keyof typeof kustomizeFlags) => values[k];
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const controller = kustomizationController({
    kubeConfig,
    fieldManager: name,
    kustomizeBin: String(flag('kustomize-path')),
    sopsBin: String(flag('sops-path')),
    requeueDependencyMs: parseDuration(String(flag('requeue-dependency'))),
    defaultServiceAccount: String(flag('default-service-account')) || undefined,
    noCrossNamespaceRefs: flag('no-cross-namespace-refs') === true,
    healthIntervalMs: parseDuration(String(flag('health-check-interval'))),
  });
  return runManager({ name, controllers: [controller], argv, extraFlags: kustomizeFlags, kubeConfig });
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
