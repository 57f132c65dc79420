// The soak's workload and its checks. In namespace `chaos`: GitRepository + Kustomization pairs (prune
// and wait) of about ten objects each (ConfigMaps, a ServiceAccount, a Service, a Deployment), an
// OCIRepository + Kustomization, HelmReleases of a chart from a chart repository behind basic auth, and
// an ImageRepository / ImagePolicy / ImageUpdateAutomation that pushes image updates to a Git repository
// a Kustomization applies. Every source is reached through a fault relay. mutate() changes what is
// published (commits that add, change and delete objects; a new OCI artifact, image tag, chart version);
// check() says whether the cluster holds what was published; a watch counts applies and flags every
// deletion of an object that is still published (wrongly pruned).
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { dump } from 'js-yaml';
import {
  GitRepositoryKind,
  HelmChartKind,
  HelmReleaseKind,
  HelmRepositoryKind,
  ImagePolicyKind,
  ImageRepositoryKind,
  ImageUpdateAutomationKind,
  KustomizationKind,
  OCIRepositoryKind,
} from '../../controllers/api/index.ts';
import { Annotations, ConditionTypes, Labels } from '../../controllers/api/names.ts';
import type { Client } from '../../controllers/runtime/client.ts';
import { isTrue } from '../../controllers/runtime/conditions.ts';
import { createInformer, type Informer } from '../../controllers/runtime/informer.ts';
import type { GVK, KubeObject } from '../../controllers/runtime/object.ts';
import { formatRevision, pushArtifact } from '../../controllers/runtime/oci/artifact.ts';
import { createRegistryClient, type RegistryClient } from '../../controllers/runtime/oci/client.ts';
import type { FaultProxy } from '../../test/support/faults.ts';
import { createWorkTree, ensureNamespaces, pool, type WorkTree } from '../bench/bed.ts';
import type { GitHttpServer } from '../testbed/gitserver.ts';
import { gitEnv } from '../testbed/gitserver.ts';
import { run } from '../testbed/proc.ts';
import { pushImage, type Registry } from '../testbed/registry.ts';
import type { Rng } from './config.ts';

export const ns = 'chaos';
const revAnnotation = 'chaos.tide.dev/rev';
const helmNs = 'chaos-helm';
const ociNs = 'chaos-oci';
const imageNs = 'chaos-image';
const chartName = 'chaos-app';
const imageRepo = 'chaos/app';
const ociRepo = 'chaos/manifests';

/** The servers the workload publishes to, each with the fault relay the controllers reach it through. */
export interface Upstreams {
  git: GitHttpServer;
  gitProxy: FaultProxy;
  registry: Registry;
  registryProxy: FaultProxy;
  chartsRoot: string;
  chartsProxy: FaultProxy;
  chartsAuth: { username: string; password: string };
}

interface Desired {
  kind: string;
  name: string;
  /** What the live object must show: its rev annotation, or (image-app) its container image. */
  value: string;
}

/** What a Kustomization must have applied: objects (by `Kind/name`) in its target namespace. */
interface Owner {
  name: string;
  targetNamespace: string;
  objects: Map<string, Desired>;
  /** The revision its Kustomization must report as lastAppliedRevision. */
  revision(): Promise<string>;
  /** Why what the source serves is not yet the latest (image-app: Git behind the latest tag). */
  pending?(): Promise<string | undefined>;
}

interface Pair extends Owner {
  tree: WorkTree;
  sha: string;
  nextCm: number;
}

export interface Deletion {
  at: string;
  object: string;
}

export interface CheckResult {
  converged: boolean;
  /** Why not, one line per owner that is not there yet (a few). */
  problems: string[];
  /** Published objects not in the cluster. */
  missing: string[];
}

const yaml = (o: unknown) => dump(o, { lineWidth: -1, noRefs: true });
const key = (kind: string, name: string) => `${kind}/${name}`;
const watchedKinds: GVK[] = [
  { group: '', version: 'v1', kind: 'ConfigMap' },
  { group: '', version: 'v1', kind: 'ServiceAccount' },
  { group: '', version: 'v1', kind: 'Service' },
  { group: 'apps', version: 'v1', kind: 'Deployment' },
];

/** The manifest of one workload object (no namespace: the Kustomization's targetNamespace sets it). */
function manifest(d: Desired): KubeObject {
  const metadata = { name: d.name, annotations: { [revAnnotation]: d.value }, labels: { app: 'chaos' } };
  switch (d.kind) {
    case 'ConfigMap':
      return {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata,
        data: { rev: d.value, payload: 'x'.repeat(300) },
      };
    case 'ServiceAccount':
      return { apiVersion: 'v1', kind: 'ServiceAccount', metadata };
    case 'Service':
      return {
        apiVersion: 'v1',
        kind: 'Service',
        metadata,
        spec: { selector: { app: 'chaos' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
      };
    default:
      return deployment(d.name, 'registry.invalid/chaos/app:1.0.0', metadata);
  }
}

function deployment(name: string, image: string, metadata: KubeObject['metadata']): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata,
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image, resources: { requests: { cpu: '1m', memory: '8Mi' } } }] },
      },
    },
  };
}

const fileOf = (d: Desired) => `${d.kind.toLowerCase()}-${d.name}.yaml`;

/** What the watch reads off a live object to compare with Desired.value. */
function liveValue(o: KubeObject, owner: string): string | undefined {
  if (owner === 'image-app')
    return (o as { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } }).spec?.template
      ?.spec?.containers?.[0]?.image;
  return o.metadata.annotations?.[revAnnotation];
}

type Cond = { type: string; status: string; message?: string };
const readyOf = (o: KubeObject) =>
  (o.status?.conditions as Cond[] | undefined)?.find((c) => c.type === ConditionTypes.Ready);

/** Ready=True at the current generation. */
function readyNow(o: KubeObject): boolean {
  return (
    isTrue(o as Parameters<typeof isTrue>[0], ConditionTypes.Ready) &&
    o.status?.observedGeneration === o.metadata.generation
  );
}

export class Workload {
  readonly pairs: Pair[] = [];
  private readonly owners = new Map<string, Owner>();
  private readonly informers: Informer[] = [];
  /** Deletions of objects still published, as the watch saw them. */
  readonly wronglyPruned: Deletion[] = [];
  /** Creations and changes of workload objects the watch saw (server-side applies that changed something). */
  applied = 0;
  readonly commits = { git: 0, oci: 0, images: 0, charts: 0 };
  /** uid of every published object at the last convergence (a new uid means it was deleted meanwhile). */
  private uids = new Map<string, string>();
  private oci: RegistryClient | undefined;
  private ociDigest = '';
  private ociObjects = new Map<string, Desired>();
  private imageTag = 0;
  private chartVersion = 0;
  private readonly chartDir: string;
  private readonly helmEnv: NodeJS.ProcessEnv;
  private token = 0;

  private readonly admin: Client;
  private readonly dir: string;
  private readonly up: Upstreams;
  private readonly rng: Rng;
  private readonly opts: { pairs: number; helmReleases: number; helmBin: string };
  private readonly log: (m: string) => void;

  constructor(
    admin: Client,
    dir: string,
    up: Upstreams,
    rng: Rng,
    opts: { pairs: number; helmReleases: number; helmBin: string },
    log: (m: string) => void,
  ) {
    this.admin = admin;
    this.dir = dir;
    this.up = up;
    this.rng = rng;
    this.opts = opts;
    this.log = log;
    this.chartDir = join(dir, 'chart-src');
    this.helmEnv = {
      ...process.env,
      HELM_CACHE_HOME: join(dir, 'helm', 'cache'),
      HELM_CONFIG_HOME: join(dir, 'helm', 'config'),
      HELM_DATA_HOME: join(dir, 'helm', 'data'),
    };
  }

  /** Credentials in use, as they would appear if leaked (raw and in a basic-auth header). */
  secretMarkers(): string[] {
    const basic = (u: string, p: string) => Buffer.from(`${u}:${p}`).toString('base64');
    const { git, chartsAuth } = this.up;
    return [
      git.password,
      basic(git.username, git.password),
      chartsAuth.password,
      basic(chartsAuth.username, chartsAuth.password),
    ];
  }

  /** The image-app repository on the Git server (its history is searched for credentials too). */
  imageRepoDir(): string {
    return join(this.up.git.root, 'image-app.git');
  }

  // ---- setup -------------------------------------------------------------------------------------

  async setup(): Promise<void> {
    const pairNs = Array.from({ length: this.opts.pairs }, (_, i) => this.pairNamespace(i));
    await ensureNamespaces(this.admin, [ns, helmNs, ociNs, imageNs, ...pairNs]);
    await this.admin.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'git-auth', namespace: ns },
      stringData: { username: this.up.git.username, password: this.up.git.password },
    } as KubeObject);
    await this.admin.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'charts-auth', namespace: ns },
      stringData: this.up.chartsAuth,
    } as KubeObject);
    await this.startWatch();
    await pool(
      Array.from({ length: this.opts.pairs }, (_, i) => i),
      4,
      (i) => this.createPair(i),
    );
    await this.setupOci();
    await this.setupHelm();
    await this.setupImage();
  }

  private pairNamespace(i: number) {
    return `chaos-app-${String(i).padStart(2, '0')}`;
  }

  private async createPair(i: number): Promise<void> {
    const name = `app-${String(i).padStart(2, '0')}`;
    const tree = await createWorkTree({ git: this.up.git, dir: this.dir }, name);
    const objects = new Map<string, Desired>();
    const add = (kind: string, n: string) => objects.set(key(kind, n), { kind, name: n, value: '1' });
    for (let c = 0; c < 7; c++) add('ConfigMap', `cm-${String(c).padStart(3, '0')}`);
    add('ServiceAccount', 'app');
    add('Service', 'app');
    add('Deployment', 'app');
    const files: Record<string, string> = {};
    for (const d of objects.values()) files[fileOf(d)] = yaml(manifest(d));
    const sha = await tree.commit(files, 'initial');
    const pair: Pair = {
      name,
      targetNamespace: this.pairNamespace(i),
      objects,
      tree,
      sha,
      nextCm: 7,
      revision: async () => `main@sha1:${pair.sha}`,
    };
    this.pairs.push(pair);
    this.owners.set(name, pair);
    await this.gitRepository(name);
    await this.kustomization(name, pair.targetNamespace, { kind: GitRepositoryKind.kind, name });
  }

  private gitRepository(name: string) {
    return this.admin.create({
      apiVersion: GitRepositoryKind.apiVersion,
      kind: GitRepositoryKind.kind,
      metadata: { name, namespace: ns },
      spec: {
        url: `${this.up.gitProxy.url}/${name}.git`,
        interval: '1m',
        timeout: '20s',
        ref: { branch: 'main' },
        secretRef: { name: 'git-auth' },
      },
    } as KubeObject);
  }

  private kustomization(name: string, targetNamespace: string, sourceRef: { kind: string; name: string }) {
    return this.admin.create({
      apiVersion: KustomizationKind.apiVersion,
      kind: KustomizationKind.kind,
      metadata: { name, namespace: ns },
      spec: {
        interval: '5m',
        retryInterval: '20s',
        timeout: '3m',
        path: './',
        prune: true,
        wait: true,
        targetNamespace,
        sourceRef,
      },
    } as KubeObject);
  }

  private async setupOci(): Promise<void> {
    this.oci = createRegistryClient({ registry: this.up.registry.host, insecure: true });
    for (let i = 0; i < 5; i++) {
      const name = `oci-${i}`;
      this.ociObjects.set(key('ConfigMap', name), { kind: 'ConfigMap', name, value: '1' });
    }
    await this.pushOci();
    const owner: Owner = {
      name: 'oci',
      targetNamespace: ociNs,
      objects: this.ociObjects,
      revision: async () => formatRevision('latest', this.ociDigest),
    };
    this.owners.set(owner.name, owner);
    await this.admin.create({
      apiVersion: OCIRepositoryKind.apiVersion,
      kind: OCIRepositoryKind.kind,
      metadata: { name: 'oci', namespace: ns },
      spec: {
        url: `oci://${this.up.registryProxy.host}/${ociRepo}`,
        ref: { tag: 'latest' },
        insecure: true,
        interval: '1m',
        timeout: '20s',
      },
    } as KubeObject);
    await this.kustomization('oci', ociNs, { kind: OCIRepositoryKind.kind, name: 'oci' });
  }

  /** Pushes the OCI objects (a tar.gz of their manifests) as `latest`. */
  private async pushOci(): Promise<void> {
    const src = await mkdtemp(join(this.dir, 'oci-'));
    for (const d of this.ociObjects.values()) await writeFile(join(src, fileOf(d)), yaml(manifest(d)));
    const tgz = join(this.dir, 'oci.tgz');
    await run('tar', ['-czf', tgz, '-C', src, '.']);
    const { digest } = await pushArtifact(this.oci!, ociRepo, {
      layer: await readFile(tgz),
      tags: ['latest'],
    });
    this.ociDigest = digest;
    await rm(src, { recursive: true, force: true });
  }

  private helm(args: string[]) {
    return run(this.opts.helmBin, args, { env: this.helmEnv });
  }

  /** Packages the next chart version into the chart repository and rewrites its index. */
  private async publishChart(): Promise<void> {
    const version = `0.1.${++this.chartVersion}`;
    const files: Record<string, string> = {
      'Chart.yaml': yaml({
        apiVersion: 'v2',
        name: chartName,
        version,
        description: 'Tide chaos soak chart',
      }),
      'values.yaml': yaml({ message: 'hello' }),
      'templates/configmap.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cfg\ndata:\n  version: {{ .Chart.Version | quote }}\n  message: {{ .Values.message | quote }}\n',
      'templates/serviceaccount.yaml':
        'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ .Release.Name }}\n',
    };
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(this.chartDir, chartName, path)), { recursive: true });
      await writeFile(join(this.chartDir, chartName, path), text);
    }
    await mkdir(this.up.chartsRoot, { recursive: true });
    await this.helm(['package', join(this.chartDir, chartName), '-d', this.up.chartsRoot]);
    await this.helm(['repo', 'index', this.up.chartsRoot, '--url', this.up.chartsProxy.url]);
  }

  private releases(): string[] {
    return Array.from({ length: this.opts.helmReleases }, (_, i) => `web-${i}`);
  }

  private async setupHelm(): Promise<void> {
    await this.publishChart();
    await this.admin.create({
      apiVersion: HelmRepositoryKind.apiVersion,
      kind: HelmRepositoryKind.kind,
      metadata: { name: 'charts', namespace: ns },
      spec: {
        url: this.up.chartsProxy.url,
        interval: '1m',
        timeout: '20s',
        secretRef: { name: 'charts-auth' },
      },
    } as KubeObject);
    for (const name of this.releases())
      await this.admin.create({
        apiVersion: HelmReleaseKind.apiVersion,
        kind: HelmReleaseKind.kind,
        metadata: { name, namespace: ns },
        spec: {
          interval: '5m',
          releaseName: name,
          targetNamespace: helmNs,
          timeout: '3m',
          chart: {
            spec: {
              chart: chartName,
              version: '>=0.1.0',
              interval: '1m',
              sourceRef: { kind: HelmRepositoryKind.kind, name: 'charts' },
            },
          },
        },
      } as KubeObject);
  }

  private async setupImage(): Promise<void> {
    this.imageTag = 1;
    await pushImage(this.up.registry, imageRepo, [this.tag()]);
    const tree = await createWorkTree({ git: this.up.git, dir: this.dir }, 'image-app');
    const image = `${this.up.registryProxy.host}/${imageRepo}`;
    const text = yaml(deployment('app', `${image}:${this.tag()}`, { name: 'app' })).replace(
      `image: ${image}:${this.tag()}`,
      `image: ${image}:${this.tag()} # {"$imagepolicy": "${ns}:app"}`,
    );
    await tree.commit({ 'deployment.yaml': text }, 'initial');
    const bare = this.imageRepoDir();
    const git = (...args: string[]) => run('git', ['--git-dir', bare, ...args], { env: gitEnv });
    const desired: Desired = { kind: 'Deployment', name: 'app', value: '' };
    const owner: Owner = {
      name: 'image-app',
      targetNamespace: imageNs,
      objects: new Map([[key('Deployment', 'app'), desired]]),
      revision: async () => `main@sha1:${(await git('rev-parse', 'main')).trim()}`,
      pending: async () => {
        const inGit = /image: (\S+)/.exec(await git('show', 'main:deployment.yaml'))?.[1] ?? '';
        desired.value = inGit;
        const want = `${image}:${this.tag()}`;
        return inGit === want ? undefined : `Git has ${inGit}, the latest image is ${want}`;
      },
    };
    this.owners.set(owner.name, owner);
    await this.gitRepository('image-app');
    await this.kustomization('image-app', imageNs, { kind: GitRepositoryKind.kind, name: 'image-app' });
    const img = (kind: string, name: string, spec: Record<string, unknown>) =>
      this.admin.create({
        apiVersion: 'image.toolkit.fluxcd.io/v1',
        kind,
        metadata: { name, namespace: ns },
        spec,
      } as KubeObject);
    await img(ImageRepositoryKind.kind, 'app', { image, interval: '1m', timeout: '20s', insecure: true });
    await img(ImagePolicyKind.kind, 'app', {
      imageRepositoryRef: { name: 'app' },
      policy: { semver: { range: '>=1.0.0' } },
    });
    await img(ImageUpdateAutomationKind.kind, 'app', {
      sourceRef: { kind: GitRepositoryKind.kind, name: 'image-app' },
      interval: '1m',
      git: {
        checkout: { ref: { branch: 'main' } },
        commit: { author: { name: 'Tide Chaos', email: 'chaos@tide.invalid' } },
        push: { branch: 'main' },
      },
      update: { strategy: 'Setters', path: './' },
    });
  }

  private tag() {
    return `1.0.${this.imageTag}`;
  }

  // ---- changes -----------------------------------------------------------------------------------

  /** A webhook's effect: asks an object to reconcile now (ignored when the API is the fault). */
  private async request(apiVersion: string, kind: string, name: string): Promise<void> {
    await this.admin
      .patch({ apiVersion, kind, namespace: ns, name }, 'merge', {
        metadata: { annotations: { [Annotations.reconcileRequestedAt]: `chaos-${++this.token}` } },
      })
      .catch(() => {});
  }

  /** One commit to a pair: 1 to 3 of change / add / delete, keeping 3 to 14 ConfigMaps. */
  async commitPair(pair: Pair): Promise<void> {
    const files: Record<string, string | null> = {};
    const ops = this.rng.int(1, 3);
    const next = new Map(pair.objects);
    for (let o = 0; o < ops; o++) {
      const cms = [...next.values()].filter((d) => d.kind === 'ConfigMap');
      const roll = this.rng.next();
      if (roll < 0.25 && cms.length < 14) {
        const d = { kind: 'ConfigMap', name: `cm-${String(pair.nextCm++).padStart(3, '0')}`, value: '1' };
        next.set(key(d.kind, d.name), d);
        files[fileOf(d)] = yaml(manifest(d));
      } else if (roll < 0.5 && cms.length > 3) {
        const d = this.rng.pick(cms);
        next.delete(key(d.kind, d.name));
        files[fileOf(d)] = null;
      } else {
        const d = this.rng.pick([...next.values()]);
        const changed = { ...d, value: String(Number(d.value) + 1) };
        next.set(key(d.kind, d.name), changed);
        files[fileOf(changed)] = yaml(manifest(changed));
      }
    }
    // What Git holds from now on: a deletion the watch sees after the push is a prune, never before.
    pair.objects = next;
    pair.sha = await pair.tree.commit(files, `chaos: ${ops} change(s)`);
    this.commits.git++;
    await this.request(GitRepositoryKind.apiVersion, GitRepositoryKind.kind, pair.name);
  }

  /** Publishes changes: commits to a few pairs and, now and then, a new OCI artifact, image tag and chart. */
  async mutate(): Promise<void> {
    const n = Math.min(this.pairs.length, this.rng.int(2, Math.max(2, this.pairs.length / 2)));
    for (const pair of this.rng.shuffle(this.pairs).slice(0, n)) await this.commitPair(pair);
    if (this.rng.next() < 0.4) {
      const d = this.rng.pick([...this.ociObjects.values()]);
      this.ociObjects.set(key(d.kind, d.name), { ...d, value: String(Number(d.value) + 1) });
      await this.pushOci();
      this.commits.oci++;
      await this.request(OCIRepositoryKind.apiVersion, OCIRepositoryKind.kind, 'oci');
    }
    if (this.rng.next() < 0.3) {
      this.imageTag++;
      await pushImage(this.up.registry, imageRepo, [this.tag()]);
      this.commits.images++;
      await this.request('image.toolkit.fluxcd.io/v1', ImageRepositoryKind.kind, 'app');
    }
    if (this.rng.next() < 0.2) {
      await this.publishChart();
      this.commits.charts++;
      await this.request(HelmRepositoryKind.apiVersion, HelmRepositoryKind.kind, 'charts');
    }
  }

  // ---- watch -------------------------------------------------------------------------------------

  private async startWatch(): Promise<void> {
    const fingerprint = (o: KubeObject) =>
      JSON.stringify([
        o.metadata.annotations?.[revAnnotation],
        (o as { data?: unknown }).data,
        liveValue(o, 'image-app'),
      ]);
    for (const kind of watchedKinds) {
      const inf = createInformer({
        client: this.admin,
        kind,
        labelSelector: `${Labels.kustomizeNamespace}=${ns}`,
      });
      inf.addHandler({
        add: () => this.applied++,
        update: (a, b) => {
          if (fingerprint(a) !== fingerprint(b)) this.applied++;
        },
        delete: (o) => this.onDelete(o),
      });
      this.informers.push(inf);
    }
    // The releases' ConfigMaps: a Helm upgrade patches them, nothing ever deletes one.
    const helmCms = createInformer({
      client: this.admin,
      kind: watchedKinds[0]!,
      namespace: helmNs,
    });
    helmCms.addHandler({
      delete: (o) => {
        if (!o.metadata.name?.endsWith('-cfg')) return;
        const object = `${helmNs}/ConfigMap/${o.metadata.name}`;
        this.wronglyPruned.push({ at: new Date().toISOString(), object });
        this.log(`WRONGLY PRUNED: ${object} (a release's object) was deleted`);
      },
    });
    this.informers.push(helmCms);
    for (const inf of this.informers) inf.start();
    await Promise.all(this.informers.map((i) => i.waitForSync()));
  }

  private onDelete(o: KubeObject): void {
    const owner = this.owners.get(o.metadata.labels?.[Labels.kustomizeName] ?? '');
    const k = key(o.kind ?? '', o.metadata.name ?? '');
    if (owner?.objects.has(k)) {
      const object = `${o.metadata.namespace}/${k}`;
      this.wronglyPruned.push({ at: new Date().toISOString(), object });
      this.log(`WRONGLY PRUNED: ${object} was deleted while still in its source`);
    }
  }

  async stopWatch(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  // ---- convergence -------------------------------------------------------------------------------

  /**
   * Whether the cluster holds what was last published: every Kustomization Ready at its source's latest
   * revision with every published object present with the published content and nothing else of it;
   * every HelmRelease Ready with the latest chart version released; the image update in Git.
   */
  async check(): Promise<CheckResult> {
    const missing: string[] = [];
    const ks = new Map(
      (await this.admin.listAll(KustomizationKind, { namespace: ns })).items.map((o) => [
        o.metadata.name ?? '',
        o,
      ]),
    );
    const live = await this.liveObjects();
    const problems: string[] = [];
    for (const owner of this.owners.values()) {
      const why = await this.checkOwner(owner, ks.get(owner.name), live, missing);
      if (why.length) problems.push(`${owner.name}: ${why.slice(0, 3).join('; ')}`);
    }
    problems.push(...(await this.checkReleases(missing)));
    problems.push(...(await this.checkArtifacts()));
    return { converged: problems.length === 0, problems, missing };
  }

  /** The workload's objects in the cluster by `namespace/Kind/name`. */
  private async liveObjects(): Promise<Map<string, KubeObject>> {
    const live = new Map<string, KubeObject>();
    for (const kind of watchedKinds) {
      const list = await this.admin.listAll(kind, { labelSelector: `${Labels.kustomizeNamespace}=${ns}` });
      for (const o of list.items) live.set(`${o.metadata.namespace}/${kind.kind}/${o.metadata.name}`, o);
    }
    return live;
  }

  /** Why one Kustomization's objects are not what its source publishes (nothing when they are). */
  private async checkOwner(
    owner: Owner,
    k: KubeObject | undefined,
    live: Map<string, KubeObject>,
    missing: string[],
  ): Promise<string[]> {
    const why: string[] = [];
    const pending = await owner.pending?.();
    if (pending) why.push(pending);
    const want = await owner.revision();
    if (!k) why.push('no Kustomization');
    else if (!readyNow(k) || k.status?.lastAppliedRevision !== want)
      why.push(
        `Kustomization at ${k.status?.lastAppliedRevision}, want ${want}; Ready: ${readyOf(k)?.message}`,
      );
    for (const [id, d] of owner.objects) {
      const full = `${owner.targetNamespace}/${id}`;
      const o = live.get(full);
      if (!o) {
        missing.push(full);
        why.push(`${id} missing`);
      } else if (liveValue(o, owner.name) !== d.value)
        why.push(`${id} at ${liveValue(o, owner.name)}, want ${d.value}`);
    }
    const prefix = `${owner.targetNamespace}/`;
    for (const full of live.keys())
      if (full.startsWith(prefix) && !owner.objects.has(full.slice(prefix.length)))
        why.push(`${full} not pruned`);
    return why;
  }

  /**
   * Sources whose advertised artifact the artifact server does not serve (after the storage was wiped,
   * until the source-controller rebuilt it): a consumer reconciling now could not fetch it.
   */
  private async checkArtifacts(): Promise<string[]> {
    const problems: string[] = [];
    for (const kind of [GitRepositoryKind, OCIRepositoryKind, HelmRepositoryKind, HelmChartKind]) {
      const list = await this.admin.listAll(kind, { namespace: ns });
      for (const o of list.items) {
        const url = (o.status as { artifact?: { url?: string } } | undefined)?.artifact?.url;
        if (!url) {
          problems.push(`${kind.kind} ${o.metadata.name}: no artifact`);
          continue;
        }
        const status = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(10_000) }).then(
          (r) => r.status,
          (err: Error) => err.message,
        );
        if (status !== 200)
          problems.push(`${kind.kind} ${o.metadata.name}: artifact ${url} answers ${status}`);
      }
    }
    return problems;
  }

  /** Why HelmReleases are not Ready with the latest chart version released (nothing when they are). */
  private async checkReleases(missing: string[]): Promise<string[]> {
    const problems: string[] = [];
    const hrs = await this.admin.listAll(HelmReleaseKind, { namespace: ns });
    const cms = new Map(
      (await this.admin.listAll(watchedKinds[0]!, { namespace: helmNs })).items.map((o) => [
        o.metadata.name ?? '',
        o as KubeObject & { data?: Record<string, string> },
      ]),
    );
    const version = `0.1.${this.chartVersion}`;
    for (const name of this.releases()) {
      const hr = hrs.items.find((o) => o.metadata.name === name);
      const cm = cms.get(`${name}-cfg`);
      if (!cm) missing.push(`${helmNs}/ConfigMap/${name}-cfg`);
      if (!hr || !readyNow(hr) || cm?.data?.version !== version) {
        const ready = hr && readyOf(hr);
        problems.push(
          `HelmRelease ${name}: Ready ${ready?.status} (${ready?.message}), released ${cm?.data?.version}, want ${version}`,
        );
      }
    }
    return problems;
  }

  /**
   * After a convergence: published objects whose uid changed since the last one were deleted and
   * created again while in Git (a deletion the watch may have missed across a restart). Records them.
   */
  async recordUids(): Promise<void> {
    const now = new Map([...(await this.liveObjects())].map(([id, o]) => [id, o.metadata.uid ?? '']));
    for (const [id, uid] of now) {
      const before = this.uids.get(id);
      if (before && before !== uid && !this.wronglyPruned.some((d) => d.object === id)) {
        this.wronglyPruned.push({ at: new Date().toISOString(), object: id });
        this.log(`WRONGLY PRUNED: ${id} was recreated (uid changed) while in its source`);
      }
    }
    this.uids = now;
  }

  /** Every Tide object's status, for the leak check. */
  async statuses(): Promise<string> {
    const kinds = [
      GitRepositoryKind,
      OCIRepositoryKind,
      HelmRepositoryKind,
      KustomizationKind,
      HelmReleaseKind,
      ImageRepositoryKind,
      ImagePolicyKind,
      ImageUpdateAutomationKind,
    ];
    const out: string[] = [];
    for (const k of kinds) {
      const list = await this.admin
        .listAll(k, { namespace: ns })
        .catch(() => ({ items: [] as KubeObject[] }));
      for (const o of list.items) out.push(JSON.stringify(o.status ?? {}));
    }
    return out.join('\n');
  }

  async close(): Promise<void> {
    await this.stopWatch();
    await this.oci?.close();
  }
}

/** Random credentials for a run (their values are what the leak check looks for). */
export function randomSecret(prefix: string): string {
  return `${prefix}-${randomBytes(12).toString('hex')}`;
}
