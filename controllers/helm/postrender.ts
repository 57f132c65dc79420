// The post-rendering of a HelmRelease, as Flux's helm-controller does it (internal/postrender): each
// spec.postRenderers[].kustomize (patches and images) in order, then spec.commonMetadata, then the
// origin labels helm.toolkit.fluxcd.io/name and /namespace on every object. All of it is kustomize,
// run with the pinned kustomize binary in a closed environment: one build per post-renderer, the
// metadata transformers in the last one.
//
// Helm 4 runs post-renderers as plugins (type postrenderer/v1, subprocess runtime, manifests on stdin,
// result on stdout); `pluginFiles` is the plugin written into the sandbox HOME of each helm run, a node
// process running postrender-main.ts with the spec written beside it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommonMetadata, Image, Patch } from '../api/kustomize-types.ts';
import { runProcess } from '../runtime/process.ts';
import { cleanStderr, withSandbox } from '../runtime/sandbox.ts';

export const POST_RENDERER_PLUGIN = 'tide-postrender';

export interface PostRenderSpec {
  kustomizeBin: string;
  renderers: { patches?: Patch[]; images?: Image[] }[];
  commonMetadata?: CommonMetadata;
  /** Labels set last on every object. */
  originLabels: Record<string, string>;
  /** Limit of each kustomize build. */
  timeoutMs: number;
}

// The plugin's program: the sibling postrender-main module (.ts in development, .js once built).
const mainScript = fileURLToPath(new URL(`./postrender-main${extname(import.meta.url)}`, import.meta.url));

/** Files of the post-renderer plugin, relative to the helm plugins directory. */
export function pluginFiles(spec: PostRenderSpec): Record<string, string> {
  const dir = POST_RENDERER_PLUGIN;
  const manifest = {
    apiVersion: 'v1',
    name: POST_RENDERER_PLUGIN,
    version: '1.0.0',
    type: 'postrenderer/v1',
    runtime: 'subprocess',
    runtimeConfig: {
      // helm expands ${HELM_PLUGIN_DIR} in plugin commands.
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Helm plugin variable, not a template
      platformCommand: [{ command: process.execPath, args: [mainScript, '${HELM_PLUGIN_DIR}/spec.json'] }],
    },
  };
  return {
    [`${dir}/plugin.yaml`]: `${JSON.stringify(manifest, null, 2)}\n`,
    [`${dir}/spec.json`]: JSON.stringify(spec),
  };
}

// The builtin transformers Flux's renderers are: labels and annotations on metadata only.
const metadataTransformer = (
  kind: 'LabelTransformer' | 'AnnotationsTransformer',
  values: object,
  i: number,
) => ({
  apiVersion: 'builtin',
  kind,
  metadata: { name: `tide-${i}` },
  [kind === 'LabelTransformer' ? 'labels' : 'annotations']: values,
  fieldSpecs: [
    { path: kind === 'LabelTransformer' ? 'metadata/labels' : 'metadata/annotations', create: true },
  ],
});

function transformers(spec: PostRenderSpec): object[] {
  const out: object[] = [];
  const labels = spec.commonMetadata?.labels;
  const annotations = spec.commonMetadata?.annotations;
  if (labels && Object.keys(labels).length)
    out.push(metadataTransformer('LabelTransformer', labels, out.length));
  if (annotations && Object.keys(annotations).length)
    out.push(metadataTransformer('AnnotationsTransformer', annotations, out.length));
  out.push(metadataTransformer('LabelTransformer', spec.originLabels, out.length));
  return out;
}

/** One kustomize build of `manifests` with the patches, images and transformers given. */
async function kustomize(
  spec: PostRenderSpec,
  manifests: string,
  step: { patches?: Patch[]; images?: Image[]; transformers?: object[] },
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tide-postrender-'));
  try {
    const kustomization: Record<string, unknown> = {
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: ['helm-output.yaml'],
    };
    if (step.patches?.length) kustomization.patches = step.patches;
    if (step.images?.length) kustomization.images = step.images;
    const files: Record<string, string> = { 'helm-output.yaml': manifests };
    step.transformers?.forEach((t, i) => {
      files[`transformer-${i}.yaml`] = JSON.stringify(t);
    });
    if (step.transformers?.length)
      kustomization.transformers = step.transformers.map((_, i) => `transformer-${i}.yaml`);
    files['kustomization.yaml'] = JSON.stringify(kustomization);
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    const res = await withSandbox((env) =>
      runProcess(spec.kustomizeBin, ['build', dir], { env, timeoutMs: spec.timeoutMs }),
    );
    if (res.code !== 0) throw new Error(`kustomize post-renderer: ${cleanStderr(res.stderr, dir)}`);
    return res.stdout.toString('utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs every post-rendering step over Helm's rendered manifests. */
export async function postRender(spec: PostRenderSpec, manifests: string): Promise<string> {
  let out = manifests;
  const last = spec.renderers.length - 1;
  for (const [i, r] of spec.renderers.entries()) {
    out = await kustomize(spec, out, { ...r, ...(i === last ? { transformers: transformers(spec) } : {}) });
  }
  if (spec.renderers.length === 0) out = await kustomize(spec, out, { transformers: transformers(spec) });
  return out;
}
