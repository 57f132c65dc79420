// The audit of every Kustomization spec field: each is implemented (where, below) or refused through
// unsupportedFields. A field added to the schema fails this test until someone decides which.
import assert from 'node:assert/strict';
import { KustomizationSpec } from '../../../controllers/api/kustomize.ts';
import { kustomizationUnsupportedFields } from '../../../controllers/kustomize/kustomization.ts';

/** Field (or subtree) → where the controller reads it. */
const implemented: Record<string, string> = {
  'spec.sourceRef': 'runtime/sourceref.ts resolveSource (apiVersion: group checked; kind: some refused)',
  'spec.path': 'build/generate.ts',
  'spec.interval': 'runner requeue; default timeout and retryInterval',
  'spec.retryInterval': 'runner requeue after a failure; source-not-found wait',
  'spec.timeout': 'kustomize build, health wait, WaitForTermination',
  'spec.prune': 'applyAndPrune, finalize',
  'spec.deletionPolicy': 'finalize',
  'spec.wait': 'checkHealth',
  'spec.healthChecks': 'checkHealth',
  'spec.healthCheckExprs': 'runtime/apply/healthexprs.ts via checkHealth',
  'spec.dependsOn': 'runtime/dependencies.ts (readyExpr: CEL)',
  'spec.targetNamespace': 'build/generate.ts',
  'spec.namePrefix': 'build/generate.ts',
  'spec.nameSuffix': 'build/generate.ts',
  'spec.commonMetadata': 'build/generate.ts setCommonMetadata',
  'spec.patches': 'build/generate.ts',
  'spec.images': 'build/generate.ts',
  'spec.components': 'build/generate.ts',
  'spec.ignoreMissingComponents': 'build/generate.ts',
  'spec.buildMetadata': 'build/generate.ts',
  'spec.postBuild': 'build/substitute.ts',
  'spec.decryption.provider': 'sops only (schema enum)',
  'spec.decryption.secretRef': 'decryptionKeys: age keys; other key types fail the build by name',
  'spec.serviceAccountName': 'runtime/clients.ts impersonation (on the remote cluster with kubeConfig)',
  'spec.kubeConfig.secretRef': 'runtime/clients.ts',
  'spec.kubeConfig.configMapRef': 'runtime/clients.ts, provider generic (others fail by name)',
  'spec.force': 'runtime/apply applyAll',
  'spec.ignore': 'runtime/apply/ignore.ts via applyAll',
  'spec.suspend': 'runner',
};

interface SchemaNode {
  type?: string;
  items?: SchemaNode;
  properties?: Record<string, SchemaNode>;
}

function leaves(s: SchemaNode, path: string): string[] {
  if (s.type === 'array' && s.items) return leaves(s.items, `${path}[]`);
  if (s.type === 'object' && s.properties)
    return Object.entries(s.properties).flatMap(([k, v]) => leaves(v, `${path}.${k}`));
  return [path];
}

const under = (path: string, prefix: string) =>
  path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[]`);

describe('kustomize/fields', () => {
  const fields = leaves(KustomizationSpec as SchemaNode, 'spec');
  const refused = kustomizationUnsupportedFields.filter((f) => !f.allowed).map((f) => f.path);

  it('implements or refuses every spec field', () => {
    const unaudited = fields.filter(
      (f) => !Object.keys(implemented).some((p) => under(f, p)) && !refused.some((p) => under(f, p)),
    );
    assert.deepEqual(unaudited, []);
  });

  it('audits only fields the schema has, and refuses none it implements', () => {
    for (const p of [...Object.keys(implemented), ...kustomizationUnsupportedFields.map((f) => f.path)])
      assert.ok(
        fields.some((f) => under(f, p)),
        `${p} is not a field of the Kustomization schema`,
      );
    for (const p of refused)
      assert.ok(!Object.keys(implemented).some((i) => under(p, i)), `${p} is both implemented and refused`);
  });
});
