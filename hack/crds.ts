// Installs the CRDs in crds/ by server-side apply and waits until they are Established. Through the
// runtime client, not client-node's object API: that one serializes through typed models and drops
// schema keys such as `default` and `x-kubernetes-validations`.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import type { Client } from '../controllers/runtime/client.ts';
import type { KubeObject } from '../controllers/runtime/object.ts';
import { CRD_DIR } from './gen-crds.ts';
import { poll } from './testbed/proc.ts';

/**
 * Applies every CRD in dir (default crds/; force, as their owner) and returns their names once all are
 * Established. The benchmarks pass the directory of Flux's own CRDs.
 */
export async function installCrds(client: Client, timeoutMs = 60_000, dir = CRD_DIR): Promise<string[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
  const docs = await Promise.all(files.map(async (f) => loadAll(await readFile(join(dir, f), 'utf8'))));
  const crds = docs.flat().filter((d): d is KubeObject => typeof d === 'object' && d !== null);
  await Promise.all(crds.map((crd) => client.apply(crd, { force: true })));
  const names = crds.map((c) => c.metadata.name ?? '');
  await poll('CRDs Established', timeoutMs, async () => {
    for (const name of names) {
      const crd = await client.get({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        name,
      });
      const established = (crd.status?.conditions ?? []).some(
        (c: { type: string; status: string }) => c.type === 'Established' && c.status === 'True',
      );
      if (!established) return undefined;
    }
    return true;
  });
  return names;
}
