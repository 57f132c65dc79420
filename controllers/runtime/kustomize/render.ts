// What a Kustomization's source renders to, built the way kustomize-controller builds it, from an
// extracted artifact: generate the kustomization file and overlays, decrypt SOPS sources, kustomize
// build, decrypt SOPS objects, postBuild substitution, commonMetadata. The kustomize-controller applies
// the result; the dashboard diffs it against the cluster (its drift view), so both render alike.
import type { KustomizationSpec } from '../../api/kustomize.ts';
import { Reasons } from '../../api/names.ts';
import { parseDuration } from '../duration.ts';
import { GenericError, isReconcileError } from '../errors.ts';
import type { KubeObject } from '../object.ts';
import { kustomizeBuild } from './build.ts';
import { ageKeysFromSecret, decryptObjects, decryptSources, isEncryptedSecret } from './decrypt.ts';
import { generateKustomization, setCommonMetadata } from './generate.ts';
import { resolveBuildDir } from './paths.ts';
import { plainBuild } from './plain.ts';
import { resolveVars, substituteObjects, type VarSource } from './substitute.ts';

/** The Kustomization fields rendering reads. */
export interface Renderable {
  metadata: { namespace?: string };
  spec: KustomizationSpec;
}

export interface RenderOptions {
  /** Path of the pinned kustomize binary. */
  kustomizeBin: string;
  /** Path of the pinned sops binary. */
  sopsBin: string;
  /**
   * `.data` of a Secret or ConfigMap in the Kustomization's namespace (decryption keys, substituteFrom),
   * undefined when it does not exist; read with the caller's identity.
   */
  readData(kind: 'Secret' | 'ConfigMap', name: string): Promise<Record<string, string> | undefined>;
}

// Decryption Secret keys of SOPS back ends Tide does not run (Flux: PGP, cloud KMS, Vault).
const unsupportedKeyPattern = /(\.asc|^sops\.(aws-kms|azure-kv|gcp-kms|vault-token|age-ssh-private-key))$/;

/** The age keys of the decryption Secret; refuses one that holds only keys of other back ends. */
async function decryptionKeys(obj: Renderable, opts: RenderOptions) {
  const name = obj.spec.decryption?.secretRef?.name;
  if (!name) return { ageKeys: [], unsupported: [] };
  const data = await opts.readData('Secret', name);
  if (!data) throw new GenericError(Reasons.BuildFailed, `decryption secret '${name}' not found`);
  const ageKeys = ageKeysFromSecret(data);
  const unsupported = Object.keys(data).filter((k) => unsupportedKeyPattern.test(k));
  if (ageKeys.length === 0 && unsupported.length > 0)
    throw new GenericError(
      Reasons.BuildFailed,
      `decryption secret '${name}' holds only keys Tide cannot use (${unsupported.join(', ')}): ` +
        'only age keys (*.agekey) are supported',
    );
  return { ageKeys, unsupported };
}

/** Runs a decryption step; a failure names the keys of the Secret that were not tried. */
async function decrypting<T>(unsupported: string[], step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (unsupported.length === 0 || !isReconcileError(err)) throw err;
    throw new GenericError(
      err.reason,
      `${err.message} (keys not supported by Tide and not tried: ${unsupported.join(', ')})`,
    );
  }
}

/**
 * The objects the Kustomization renders from `root` (the extracted artifact, changed in place).
 * Failures are reconcile errors: BuildFailed, or ArtifactFailed for a missing spec.path.
 */
export async function renderKustomization(
  root: string,
  obj: Renderable,
  opts: RenderOptions,
): Promise<KubeObject[]> {
  const spec = obj.spec;
  const { ageKeys, unsupported } = await decryptionKeys(obj, opts);
  const sops = { sopsBin: opts.sopsBin, ageKeys };
  // A plain directory of manifests is built here; anything kustomize must do goes to kustomize.
  let objects =
    (await plainBuild(root, await resolveBuildDir(root, spec.path), spec)) ??
    (await (async () => {
      const { dir } = await generateKustomization(root, spec);
      if (spec.decryption?.secretRef?.name)
        await decrypting(unsupported, () => decryptSources(root, dir, sops));
      const timeoutMs = parseDuration(spec.timeout ?? spec.interval);
      return kustomizeBuild(root, spec.path, { kustomizeBin: opts.kustomizeBin, timeoutMs });
    })());
  if (spec.decryption) objects = await decrypting(unsupported, () => decryptObjects(objects, sops));
  const post = spec.postBuild;
  if (post) {
    const sources: VarSource[] = [];
    for (const from of post.substituteFrom ?? []) {
      const kind = from.kind as 'ConfigMap' | 'Secret';
      sources.push({
        kind,
        name: from.name,
        optional: from.optional,
        data: await opts.readData(kind, from.name),
      });
    }
    const vars = resolveVars(post.substitute, sources);
    objects = substituteObjects(objects, vars, {
      strict: true,
      always: post.substituteStrategy === 'Always',
    });
  }
  // As Flux: commonMetadata after substitution, and no encrypted Secret is ever applied as is.
  objects = setCommonMetadata(objects, spec.commonMetadata);
  const encrypted = objects.find(isEncryptedSecret);
  if (encrypted) {
    const id = `${encrypted.kind}/${encrypted.metadata.namespace ?? obj.metadata.namespace ?? ''}/${encrypted.metadata.name}`;
    throw new GenericError(
      Reasons.BuildFailed,
      `${id} is SOPS encrypted, configuring decryption is required for this secret to be reconciled`,
    );
  }
  return objects;
}
