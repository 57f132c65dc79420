// image-reflector-controller: ImageRepository (tag scans) and ImagePolicy (the latest tag).
//   node dist/controllers/image-reflector/main.js --storage-path=/data --requeue-dependency=30s
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ParseArgsOptionsConfig } from 'node:util';
import { parseDuration } from '../runtime/duration.ts';
import { parseFlags, runManager } from '../runtime/manager.ts';
import { imagePolicyController } from './imagepolicy.ts';
import { imageRepositoryController, type ReflectorDeps } from './imagerepository.ts';
import { createTagStore } from './tagstore.ts';

const name = 'image-reflector-controller';
const inCluster = Boolean(process.env.KUBERNETES_SERVICE_HOST);

export const reflectorFlags = {
  'storage-path': { type: 'string', default: inCluster ? '/data' : join(tmpdir(), 'tide-image-reflector') },
  // KiB; tag lists at least this large are stored gzipped.
  'storage-compression-threshold': { type: 'string', default: '64' },
  'requeue-dependency': { type: 'string', default: '30s' },
  'no-cross-namespace-refs': { type: 'boolean', default: false },
} satisfies ParseArgsOptionsConfig;

export async function main(argv = process.argv.slice(2)): Promise<number> {
  const { values } = parseFlags(argv, { extra: reflectorFlags });
  const flag = (k: keyof typeof reflectorFlags) => String(values[k] ?? '');
  const root = flag('storage-path');
  await mkdir(root, { recursive: true, mode: 0o700 });
  const threshold = Number(flag('storage-compression-threshold'));
  if (!Number.isInteger(threshold) || threshold <= 0)
    throw new Error('--storage-compression-threshold must be a positive number of KiB');
  const deps: ReflectorDeps = {
    store: createTagStore({ root, compressionThreshold: threshold * 1024 }),
    requeueDependencyMs: parseDuration(flag('requeue-dependency')),
    noCrossNamespaceRefs: values['no-cross-namespace-refs'] === true,
  };
  return runManager({
    name,
    controllers: [imageRepositoryController(deps), imagePolicyController(deps)],
    argv,
    extraFlags: reflectorFlags,
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
