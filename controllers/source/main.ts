// source-controller: GitRepository (and, as they land, the other source kinds) plus the artifact server.
//   node dist/controllers/source/main.js --storage-path=/data --storage-addr=:9090 \
//     --storage-adv-addr=source-controller.flux-system.svc.cluster.local. --concurrent=2

import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ParseArgsOptionsConfig } from 'node:util';
import { serveArtifacts } from '../runtime/artifact/server.ts';
import { createStorage } from '../runtime/artifact/storage.ts';
import { parseDuration } from '../runtime/duration.ts';
import { parseFlags, runManager } from '../runtime/manager.ts';
import { bucketController } from './bucket.ts';
import { rebuildMissing, type SourceDeps } from './common.ts';
import { gitRepositoryController } from './gitrepository.ts';
import { helmChartController } from './helmchart.ts';
import { helmRepositoryController } from './helmrepository.ts';
import { ociRepositoryController } from './ocirepository.ts';

const inCluster = Boolean(process.env.KUBERNETES_SERVICE_HOST);

export const sourceFlags = {
  'storage-path': { type: 'string', default: inCluster ? '/data' : join(tmpdir(), 'tide-source-controller') },
  // Flux binds :9090 in a pod; outside a cluster Tide stays on loopback unless told otherwise.
  'storage-addr': { type: 'string', default: inCluster ? ':9090' : '127.0.0.1:9090' },
  'storage-adv-addr': { type: 'string', default: '' },
  'artifact-retention-ttl': { type: 'string', default: '60s' },
  'artifact-retention-records': { type: 'string', default: '2' },
  'max-source-size': { type: 'string', default: '512Mi' },
} satisfies ParseArgsOptionsConfig;

/** Parses a byte size with an optional Ki/Mi/Gi suffix. */
export function parseSize(s: string): number {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(s);
  if (!m) throw new Error(`invalid size '${s}': want a number of bytes with an optional Ki, Mi or Gi suffix`);
  return Number(m[1]) * { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[m[2] ?? '']!;
}

export async function main(argv = process.argv.slice(2)): Promise<number> {
  const { values } = parseFlags(argv, { extra: sourceFlags });
  const flag = (k: keyof typeof sourceFlags) => String(values[k] ?? '');
  const basePath = flag('storage-path');
  await mkdir(basePath, { recursive: true });
  let onNotFound: ((path: string) => void) | undefined;
  const server = await serveArtifacts({
    basePath,
    addr: flag('storage-addr'),
    onNotFound: (path) => onNotFound?.(path),
  });
  const namespace = process.env.RUNTIME_NAMESPACE ?? 'flux-system';
  const advertised =
    flag('storage-adv-addr') ||
    (inCluster ? `source-controller.${namespace}.svc.cluster.local.` : `127.0.0.1:${server.port}`);
  const deps: SourceDeps = {
    storage: createStorage({ basePath, hostname: advertised }),
    gc: {
      ttlMs: parseDuration(flag('artifact-retention-ttl')),
      retentionRecords: Number(flag('artifact-retention-records')),
    },
    maxSourceBytes: parseSize(flag('max-source-size')),
  };
  try {
    return await runManager({
      name: 'source-controller',
      controllers: [
        gitRepositoryController(deps),
        helmRepositoryController(deps),
        helmChartController(deps),
        ociRepositoryController(deps),
        bucketController(),
      ],
      argv,
      extraFlags: sourceFlags,
      setup: async (manager) => {
        onNotFound = (path) => rebuildMissing(manager.runners, path);
        return async () => {};
      },
    });
  } finally {
    await server.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => process.exit(code),
    (err: Error) => {
      console.error(
        JSON.stringify({ level: 'error', msg: 'source-controller failed to start', error: err.message }),
      );
      process.exit(1);
    },
  );
}
