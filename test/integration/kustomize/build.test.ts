// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Flux ${var} expressions are the subject of these tests
// The build pipeline against the pinned kustomize binary (no cluster needed).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { isReconcileError } from '../../../controllers/runtime/errors.ts';
import { kustomizeBuild } from '../../../controllers/runtime/kustomize/build.ts';
import {
  type BuildSpec,
  generateKustomization,
  setCommonMetadata,
} from '../../../controllers/runtime/kustomize/generate.ts';
import type { KubeObject } from '../../../controllers/runtime/kustomize/objects.ts';
import { resolveBuildDir } from '../../../controllers/runtime/kustomize/paths.ts';
import { plainBuild } from '../../../controllers/runtime/kustomize/plain.ts';
import { resolveVars, substituteObjects } from '../../../controllers/runtime/kustomize/substitute.ts';
import { toolPaths } from '../../../hack/testbed/tools.ts';
import { manifest, useTempDir, writeTree } from '../../unit/kustomize/support.ts';

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  labels:
    app: podinfo
spec:
  replicas: 1
  selector:
    matchLabels:
      app: podinfo
  template:
    metadata:
      labels:
        app: podinfo
    spec:
      containers:
        - name: podinfod
          image: ghcr.io/stefanprodan/podinfo:6.5.0
          ports:
            - containerPort: 9898
`;

const service = `apiVersion: v1
kind: Service
metadata:
  name: podinfo
  labels:
    app: podinfo
spec:
  selector:
    app: podinfo
  ports:
    - port: 9898
`;

const replicasPatch = (n: number) => `patches:
  - target:
      kind: Deployment
      name: podinfo
    patch: |
      - op: replace
        path: /spec/replicas
        value: ${n}
`;

// Laid out like Flux's tutorial repositories: apps/<app>/base, overlays per environment, clusters/<env>.
const tutorialTree: Record<string, string> = {
  'apps/podinfo/base/deployment.yaml': deployment,
  'apps/podinfo/base/service.yaml': service,
  'apps/podinfo/base/kustomization.yaml':
    'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deployment.yaml\n  - service.yaml\n',
  'apps/podinfo/overlays/dev/kustomization.yaml': `resources:\n  - ../../base\n${replicasPatch(1)}`,
  'apps/podinfo/overlays/staging/kustomization.yaml': `resources:\n  - ../../base\n${replicasPatch(2)}`,
  'apps/podinfo/overlays/prod/kustomization.yaml': `resources:\n  - ../../base\n${replicasPatch(3)}`,
  'clusters/dev/namespace.yaml': manifest('Namespace', 'dev'),
  'clusters/dev/kustomization.yaml':
    'namespace: dev\nresources:\n  - namespace.yaml\n  - ../../apps/podinfo/overlays/dev\n',
  'clusters/staging/kustomization.yaml':
    'namespace: staging\nresources:\n  - ../../apps/podinfo/overlays/staging\n',
  'clusters/prod/kustomization.yaml': 'namespace: prod\nresources:\n  - ../../apps/podinfo/overlays/prod\n',
  'components/monitoring/kustomization.yaml':
    'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - servicemonitor.yaml\n' +
    'patches:\n  - target: {kind: Deployment}\n    patch: |\n      - op: add\n        path: /metadata/annotations\n        value: {prometheus.io/scrape: "true"}\n',
  'components/monitoring/servicemonitor.yaml': manifest('ConfigMap', 'podinfo-monitoring'),
};

function find(objects: readonly KubeObject[], kind: string, name?: string): KubeObject {
  const o = objects.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  assert.ok(
    o,
    `no ${kind}${name ? ` ${name}` : ''} in ${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`,
  );
  return o;
}

describe('kustomize/build: kustomize binary', function () {
  this.timeout(60_000);
  const tmp = useTempDir('tide-kbuild-');
  let kustomizeBin = '';

  before(async () => {
    kustomizeBin = (await toolPaths(['kustomize'])).kustomize;
  });

  const build = async (spec: BuildSpec) => {
    const { dir } = await generateKustomization(tmp(), spec);
    assert.ok(dir.startsWith(tmp()));
    return kustomizeBuild(tmp(), spec.path, { kustomizeBin, timeoutMs: 30_000 });
  };

  describe('the tutorial layout', () => {
    beforeEach(() => writeTree(tmp(), tutorialTree));

    for (const [env, replicas] of [
      ['dev', 1],
      ['staging', 2],
      ['prod', 3],
    ] as const) {
      it(`clusters/${env} builds the ${env} overlay of the base`, async () => {
        const objects = await build({ path: `./clusters/${env}` });
        const names = objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort();
        assert.deepEqual(
          names,
          [
            `Deployment/${env}/podinfo`,
            `Service/${env}/podinfo`,
            ...(env === 'dev' ? ['Namespace//dev'] : []),
          ].sort(),
        );
        const d = find(objects, 'Deployment');
        assert.equal(d.spec.replicas, replicas);
        assert.equal(d.spec.template.spec.containers[0].image, 'ghcr.io/stefanprodan/podinfo:6.5.0');
      });
    }

    it('targetNamespace overrides the namespace of every namespaced object', async () => {
      const objects = await build({ path: 'clusters/staging', targetNamespace: 'team-a' });
      assert.deepEqual(
        objects.map((o) => o.metadata.namespace),
        objects.map(() => 'team-a'),
      );
    });

    it('namePrefix and nameSuffix rename the objects and the references to them', async () => {
      await writeTree(tmp(), {
        'apps/podinfo/base/config.yaml': manifest('ConfigMap', 'podinfo-config'),
        'apps/podinfo/base/kustomization.yaml': 'resources: [deployment.yaml, service.yaml, config.yaml]\n',
      });
      await writeTree(tmp(), {
        'apps/podinfo/base/deployment.yaml': deployment.replace(
          '          ports:',
          '          envFrom:\n            - configMapRef:\n                name: podinfo-config\n          ports:',
        ),
      });
      const objects = await build({ path: 'clusters/prod', namePrefix: 'pre-', nameSuffix: '-suf' });
      assert.deepEqual(objects.map((o) => o.metadata.name).sort(), [
        'pre-podinfo-config-suf',
        'pre-podinfo-suf',
        'pre-podinfo-suf',
      ]);
      const d = find(objects, 'Deployment');
      assert.equal(d.spec.template.spec.containers[0].envFrom[0].configMapRef.name, 'pre-podinfo-config-suf');
    });

    it('commonMetadata sets labels and annotations on the objects, not on templates or selectors', async () => {
      const objects = setCommonMetadata(await build({ path: 'clusters/prod' }), {
        labels: { team: 'platform', app: 'overridden' },
        annotations: { owner: 'ops' },
      });
      for (const o of objects) {
        assert.equal(o.metadata.labels?.team, 'platform');
        assert.equal(o.metadata.labels?.app, 'overridden');
        assert.equal(o.metadata.annotations?.owner, 'ops');
      }
      const d = find(objects, 'Deployment');
      assert.deepEqual(d.spec.selector.matchLabels, { app: 'podinfo' });
      assert.deepEqual(d.spec.template.metadata.labels, { app: 'podinfo' });
      assert.deepEqual(find(objects, 'Service').spec.selector, { app: 'podinfo' });
    });

    it('patches: a JSON6902 patch by kind and name, a strategic-merge patch by label selector', async () => {
      const objects = await build({
        path: 'clusters/prod',
        patches: [
          {
            patch: '- op: replace\n  path: /spec/replicas\n  value: 5',
            target: { kind: 'Deployment', name: 'podinfo' },
          },
          {
            patch:
              'apiVersion: v1\nkind: Service\nmetadata:\n  name: any\n  annotations:\n    patched: "yes"\n',
            target: { kind: 'Service', labelSelector: 'app=podinfo' },
          },
          {
            patch: '- op: add\n  path: /metadata/annotations\n  value: {never: "matched"}',
            target: { kind: 'Deployment', name: 'other' },
          },
        ],
      });
      assert.equal(find(objects, 'Deployment').spec.replicas, 5); // the spec patch comes after the overlay's
      assert.equal(find(objects, 'Service').metadata.annotations?.patched, 'yes');
      assert.equal(find(objects, 'Deployment').metadata.annotations?.never, undefined);
    });

    it('images replace the name, tag or digest of matching containers', async () => {
      const tagged = await build({
        path: 'clusters/prod',
        images: [
          { name: 'ghcr.io/stefanprodan/podinfo', newName: 'registry.local/podinfo', newTag: '6.6.0' },
        ],
      });
      assert.equal(
        find(tagged, 'Deployment').spec.template.spec.containers[0].image,
        'registry.local/podinfo:6.6.0',
      );
      const digest = `sha256:${'a'.repeat(64)}`;
      const pinned = await build({
        path: 'clusters/staging',
        images: [{ name: 'ghcr.io/stefanprodan/podinfo', digest }],
      });
      assert.equal(
        find(pinned, 'Deployment').spec.template.spec.containers[0].image,
        `ghcr.io/stefanprodan/podinfo@${digest}`,
      );
    });

    it('components add the component resources and patches', async () => {
      const objects = await build({ path: 'clusters/dev', components: ['../../components/monitoring'] });
      assert.ok(find(objects, 'ConfigMap', 'podinfo-monitoring'));
      assert.equal(find(objects, 'Deployment').metadata.annotations?.['prometheus.io/scrape'], 'true');
    });

    it('postBuild substitution after the build keeps Flux semantics (typed values, defaults)', async () => {
      await writeTree(tmp(), {
        'apps/podinfo/base/deployment.yaml': deployment
          .replace('replicas: 1', 'replicas: ${REPLICAS:=1}')
          .replace('podinfo:6.5.0', 'podinfo:${TAG}'),
        'apps/podinfo/overlays/prod/kustomization.yaml': 'resources:\n  - ../../base\n',
      });
      const built = await build({ path: 'clusters/prod' });
      const vars = resolveVars({ TAG: '6.7.0' }, [
        { kind: 'ConfigMap', name: 'cluster', data: { REPLICAS: '4', TAG: 'x' } },
      ]);
      const d = find(substituteObjects(built, vars), 'Deployment');
      assert.equal(d.spec.replicas, 4);
      assert.equal(d.spec.template.spec.containers[0].image, 'ghcr.io/stefanprodan/podinfo:6.7.0');
    });
  });

  it('generates a kustomization.yaml for a path of plain manifests', async () => {
    await writeTree(tmp(), {
      'deploy/deployment.yaml': deployment,
      'deploy/network/service.yaml': service,
      'deploy/README.md': '# docs',
    });
    const objects = await build({ path: './deploy', targetNamespace: 'apps' });
    assert.deepEqual(objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`).sort(), [
      'Deployment/apps/podinfo',
      'Service/apps/podinfo',
    ]);
    const generated = load(await readFile(join(tmp(), 'deploy/kustomization.yaml'), 'utf8'));
    assert.deepEqual(generated, {
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: ['deployment.yaml', 'network/service.yaml'],
      namespace: 'apps',
    });
  });

  it('a malformed YAML file fails the build with the file named (kustomization listing it)', async () => {
    await writeTree(tmp(), tutorialTree);
    await writeTree(tmp(), {
      'apps/podinfo/base/service.yaml':
        'apiVersion: v1\nkind: Service\nmetadata:\n  name: podinfo\nspec:\n  ports: [9898\n',
    });
    await assert.rejects(
      build({ path: 'clusters/dev' }),
      (e: unknown) =>
        isReconcileError(e) &&
        e.reason === 'BuildFailed' &&
        e.message.includes("malformed YAML in 'apps/podinfo/base/service.yaml'") &&
        /at line \d+/.test(e.message) &&
        !e.message.includes(tmp()),
    );
  });

  it('a malformed YAML file fails the build with the file named (generated kustomization)', async () => {
    await writeTree(tmp(), {
      'plain/ok.yaml': service,
      'plain/broken.yaml': 'kind: ConfigMap\n  bad: indent\n',
    });
    await assert.rejects(
      build({ path: 'plain' }),
      /failed to decode Kubernetes YAML from 'plain\/broken.yaml'.*line 2/,
    );
  });

  it('refuses a remote base before running kustomize, naming the kustomization', async () => {
    await writeTree(tmp(), {
      'clusters/dev/kustomization.yaml': 'resources:\n  - ../../apps/podinfo\n',
      'apps/podinfo/kustomization.yaml':
        'resources:\n  - https://github.com/stefanprodan/podinfo//kustomize?ref=6.5.0\n',
    });
    // A kustomize binary that cannot start: the refusal must come first.
    await assert.rejects(
      kustomizeBuild(tmp(), 'clusters/dev', { kustomizeBin: join(tmp(), 'no-such-kustomize') }),
      /kustomization 'apps\/podinfo\/kustomization.yaml': remote resources entry .* remote bases are disabled/,
    );
  });

  it('kustomize itself refuses exec and container KRM functions and Helm charts', async () => {
    const fn = (spec: string) =>
      `apiVersion: example.com/v1\nkind: Fn\nmetadata:\n  name: fn\n  annotations:\n    config.kubernetes.io/function: |\n${spec}`;
    await writeTree(tmp(), {
      'exec/kustomization.yaml': 'resources: [cm.yaml]\ntransformers: [fn.yaml]\n',
      'exec/cm.yaml': manifest('ConfigMap', 'x'),
      'exec/fn.yaml': fn(`      exec:\n        path: /bin/sh\n`),
      'container/kustomization.yaml': 'resources: [cm.yaml]\ngenerators: [fn.yaml]\n',
      'container/cm.yaml': manifest('ConfigMap', 'x'),
      'container/fn.yaml': fn(`      container:\n        image: busybox\n`),
      'helm/kustomization.yaml':
        'helmCharts:\n  - name: podinfo\n    repo: oci://ghcr.io/stefanprodan/charts\n',
    });
    await assert.rejects(
      build({ path: 'exec' }),
      /external plugins disabled; unable to load external plugin 'Fn'/,
    );
    await assert.rejects(build({ path: 'container' }), /external plugins disabled/);
    await assert.rejects(build({ path: 'helm' }), /must specify --enable-helm/);
  });

  it('loads files only from inside each kustomization directory (LoadRestrictionsRootOnly)', async () => {
    await writeTree(tmp(), {
      'app/kustomization.yaml': 'resources: [cm.yaml]\npatches:\n  - path: ../shared/patch.yaml\n',
      'app/cm.yaml': manifest('ConfigMap', 'x'),
      'shared/patch.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: b\n',
    });
    await assert.rejects(
      build({ path: 'app' }),
      /security; file 'shared\/patch.yaml' is not in or below 'app'/,
    );
  });
});

describe("kustomize/build: a plain directory built without kustomize gives kustomize's objects", function () {
  this.timeout(60_000);
  const tmp = useTempDir('tide-kplain-');
  let kustomizeBin = '';
  before(async () => {
    kustomizeBin = (await toolPaths(['kustomize'])).kustomize;
  });

  // Anchors, flow style, quoted look-alikes of other types, several documents, nested directories,
  // cluster-scoped objects and objects with and without a namespace of their own.
  const tricky = `apiVersion: v1
kind: ConfigMap
metadata:
  name: values
  namespace: elsewhere
  labels: {app: demo, tier: "web"}
data:
  "yes": "yes"
  octal: "012"
  quoted: 'on'
  number: "1.50"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: demo
  labels: &labels {app: demo, tier: "web"}
spec:
  replicas: 2
  selector: {matchLabels: *labels}
  template:
    metadata: {labels: *labels}
    spec:
      containers:
        - name: app
          image: nginx:1.27
          env:
            - {name: ENABLED, value: "true"}
          ports: [{containerPort: 8080}]
`;
  const files = {
    'app/10-config.yaml': tricky,
    'app/nested/service.yml': service,
    'app/nested/deeper/sa.yaml': 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: demo\n',
  };
  const withClusterScoped = {
    ...files,
    'app/ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n',
    'app/role.yaml':
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: demo\nrules: []\n',
  };

  const idOf = (o: KubeObject) =>
    `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  const sorted = (objs: KubeObject[]) => [...objs].sort((a, b) => (idOf(a) < idOf(b) ? -1 : 1));

  async function both(tree: Record<string, string>, spec: BuildSpec) {
    await writeTree(tmp(), tree);
    const plain = await plainBuild(tmp(), await resolveBuildDir(tmp(), spec.path), spec);
    await generateKustomization(tmp(), spec);
    const kustomized = await kustomizeBuild(tmp(), spec.path, { kustomizeBin, timeoutMs: 30_000 });
    return { plain, kustomized };
  }

  // A kustomization.yaml that only lists files (and maybe sets a namespace) is read the same way.
  const listing = (extra = '') => ({
    ...files,
    'app/kustomization.yaml': `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n${extra}resources:\n  - nested/service.yml\n  - 10-config.yaml\n  - ./nested/deeper/sa.yaml\n`,
  });
  for (const [what, tree, spec] of [
    ['without targetNamespace', withClusterScoped, { path: 'app' }],
    ['with targetNamespace', files, { path: 'app', targetNamespace: 'apps' }],
    ['with a kustomization that lists the files', listing(), { path: 'app' }],
    ['with a listing kustomization and its namespace', listing('namespace: listed\n'), { path: 'app' }],
    [
      'with a listing kustomization, its namespace replaced by targetNamespace',
      listing('namespace: listed\n'),
      { path: 'app', targetNamespace: 'apps' },
    ],
  ] as const) {
    it(what, async () => {
      const { plain, kustomized } = await both(tree, spec);
      assert.ok(plain, 'built without kustomize');
      assert.deepEqual(sorted(plain), sorted(kustomized));
    });
  }

  it('leaves to kustomize what only kustomize does', async () => {
    await writeTree(tmp(), withClusterScoped);
    const dir = await resolveBuildDir(tmp(), 'app');
    // Plain values YAML 1.1 and 1.2 read differently.
    for (const value of ['yes', '012', '1_000', '1:20']) {
      await writeTree(tmp(), { 'app/ambiguous.yaml': `${service}  clusterIP: ${value}\n` });
      assert.equal(await plainBuild(tmp(), dir, { path: 'app' }), undefined, value);
    }
    await writeTree(tmp(), { 'app/ambiguous.yaml': service.replace('podinfo', 'other') });
    // A cluster-scoped object under targetNamespace, any other overlay, a kustomization below.
    assert.equal(await plainBuild(tmp(), dir, { path: 'app', targetNamespace: 'apps' }), undefined);
    assert.equal(await plainBuild(tmp(), dir, { path: 'app', namePrefix: 'x-' }), undefined);
    await writeTree(tmp(), { 'app/nested/kustomization.yaml': 'resources: [service.yml]\n' });
    assert.equal(await plainBuild(tmp(), dir, { path: 'app' }), undefined);
    // A kustomization doing more than listing files.
    await writeTree(tmp(), { 'app/kustomization.yaml': 'resources: [ns.yaml]\ncommonLabels: {a: b}\n' });
    assert.equal(await plainBuild(tmp(), dir, { path: 'app' }), undefined);
    await writeTree(tmp(), { 'app/kustomization.yaml': 'resources: [nested]\n' });
    assert.equal(await plainBuild(tmp(), dir, { path: 'app' }), undefined);
  });

  it('refuses the same object twice, as kustomize does', async () => {
    await writeTree(tmp(), { 'app/a.yaml': service, 'app/b.yaml': service });
    const dir = await resolveBuildDir(tmp(), 'app');
    await assert.rejects(plainBuild(tmp(), dir, { path: 'app' }), /already registered id/);
    await generateKustomization(tmp(), { path: 'app' });
    await assert.rejects(
      kustomizeBuild(tmp(), 'app', { kustomizeBin, timeoutMs: 30_000 }),
      /already registered id/,
    );
  });
});
