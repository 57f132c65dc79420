// Installs Tide's CRDs on the test bed once per run, as `make run` does.
import { createClient } from '../../controllers/runtime/client.ts';
import { installCrds } from '../../hack/crds.ts';
import { testbed } from './testbed.ts';

let installed: Promise<string[]> | undefined;

/** Applies every CRD in crds/ (field manager tide-test) and waits for Established; returns their names. */
export function ensureCrds(): Promise<string[]> {
  installed ??= installCrds(createClient(testbed().kubeconfig, { fieldManager: 'tide-test' }));
  return installed;
}
