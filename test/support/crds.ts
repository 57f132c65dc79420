// Installs Tide's CRDs on the test bed once per run (server-side apply, as `make run` does) and waits
// until they are Established.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { createClient } from '../../controllers/runtime/client.ts';
import type { KubeObject } from '../../controllers/runtime/object.ts';
import { CRD_DIR } from '../../hack/gen-crds.ts';
import { poll } from '../../hack/testbed/proc.ts';
import { testbed } from './testbed.ts';

let installed: Promise<string[]> | undefined;

/** Applies every CRD in crds/ (field manager tide-test) and waits for Established; returns their names. */
export function ensureCrds(): Promise<string[]> {
  installed ??= (async () => {
    const client = createClient(testbed().kubeconfig, { fieldManager: 'tide-test' });
    const files = (await readdir(CRD_DIR)).filter((f) => f.endsWith('.yaml')).sort();
    const crds = await Promise.all(
      files.map(async (f) => load(await readFile(join(CRD_DIR, f), 'utf8')) as KubeObject),
    );
    await Promise.all(crds.map((crd) => client.apply(crd, { force: true })));
    const names = crds.map((c) => c.metadata.name ?? '');
    await poll('CRDs Established', 60_000, async () => {
      for (const name of names) {
        const crd = await client.get({
          apiVersion: 'apiextensions.k8s.io/v1',
          kind: 'CustomResourceDefinition',
          name,
        });
        const ok = crd.status?.conditions?.some(
          (c: { type: string; status: string }) => c.type === 'Established' && c.status === 'True',
        );
        if (!ok) return undefined;
      }
      return true;
    });
    return names;
  })();
  return installed;
}
