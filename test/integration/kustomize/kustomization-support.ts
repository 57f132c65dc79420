// What the kustomization*.test.ts files share: the source- and kustomize-controller running as their own
// processes against the test bed, repositories on its Git server with a GitRepository each, and the
// checks a user makes with kubectl (Ready, revisions, applied objects).

import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import type { Kustomization } from '../../../controllers/api/kustomize.ts';
import { Annotations, ConditionTypes } from '../../../controllers/api/names.ts';
import { type Client, createClient } from '../../../controllers/runtime/client.ts';
import type { KubeObject, ObjectRef } from '../../../controllers/runtime/object.ts';
import { runProcess } from '../../../controllers/runtime/process.ts';
import { withSandbox } from '../../../controllers/runtime/sandbox.ts';
import { poll } from '../../../hack/testbed/proc.ts';
import { toolPaths } from '../../../hack/testbed/tools.ts';
import { ageKeyPair } from '../../support/age.ts';
import { type ControllerProcess, startController } from '../../support/controllers.ts';
import { ensureCrds } from '../../support/crds.ts';
import { createWorkRepo } from '../../support/gitwork.ts';
import { testbed, useNamespace } from '../../support/testbed.ts';

export const ksApiVersion = 'kustomize.toolkit.fluxcd.io/v1';
const gitApiVersion = 'source.toolkit.fluxcd.io/v1';
export const requestedAt = Annotations.reconcileRequestedAt;

/** A ConfigMap or Secret as read back from the cluster. */
export type DataObject = KubeObject & { data?: Record<string, string> };
export type Cond = { type: string; status: string; reason: string; message: string };
export type KsSpec = Partial<Kustomization['spec']>;

/** YAML documents of the given objects, as a user writes them in Git. */
export const yaml = (...objs: unknown[]) => objs.map((o) => dump(o, { lineWidth: -1 })).join('---\n');

export const configMap = (
  name: string,
  data: Record<string, string>,
  meta: Record<string, unknown> = {},
) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...meta },
  data,
});

export function deployment(
  name: string,
  opts: { replicas?: number; image?: string; nodeSelector?: Record<string, string>; namespace?: string } = {},
) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, ...(opts.namespace ? { namespace: opts.namespace } : {}), labels: { app: name } },
    spec: {
      replicas: opts.replicas ?? 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          ...(opts.nodeSelector ? { nodeSelector: opts.nodeSelector } : {}),
          containers: [{ name: 'app', image: opts.image ?? 'registry.example/app:1.0.0' }],
        },
      },
    },
  };
}

export const ready = (o: { status?: { conditions?: unknown[] } }) =>
  (o.status?.conditions as Cond[] | undefined)?.find((c) => c.type === ConditionTypes.Ready);
export const condition = (o: { status?: { conditions?: unknown[] } }, type: string) =>
  (o.status?.conditions as Cond[] | undefined)?.find((c) => c.type === type);

export interface Repo {
  /** Name of the GitRepository (and of the repository on the Git server). */
  name: string;
  /** Commits the files (null deletes), asks the GitRepository to reconcile, returns the new revision. */
  commit(files: Record<string, string | Uint8Array | null>): Promise<string>;
}

export interface KsEnv {
  ns(): string;
  /** Admin client of the test, field manager `tide-test`. */
  client(): Client;
  controllers(): { source: ControllerProcess; kustomize: ControllerProcess };
  /** A repository with these files and a GitRepository (interval 10m) that stored their revision. */
  repo(name: string, files: Record<string, string>): Promise<Repo>;
  createKs(name: string, repo: Repo, spec: KsSpec): Promise<Kustomization>;
  getKs(name: string): Promise<Kustomization>;
  patchKs(name: string, spec: KsSpec): Promise<void>;
  /** Sets requestedAt on the Kustomization and waits until it was handled; returns the token. */
  requestKs(name: string): Promise<Kustomization>;
  /** Ready=True at the current generation, having applied `revision` when given. */
  waitReady(name: string, revision?: string): Promise<Kustomization>;
  /** Ready=False with a message matching `pattern`. */
  waitNotReady(name: string, pattern: RegExp): Promise<Kustomization>;
  get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T>;
  tryGet<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T | undefined>;
  /** Polls until `check` returns a value (60 s). */
  until<T>(what: string, check: () => Promise<T | undefined>): Promise<T>;
}

const timeout = 60_000;

/**
 * Registers hooks: a namespace, both controllers (with the pinned kustomize and sops), the CRDs, and a
 * Secret `git-auth` with the Git server's credentials. After the tests the Kustomizations are deleted
 * while the controllers still run, so their finalizers prune what the tests created outside the namespace.
 * `controllerArgs` adds flags to both controllers (read when they start, e.g. an --events-addr).
 */
export function useKustomizeEnv(prefix: string, opts: { controllerArgs?: () => string[] } = {}): KsEnv {
  let client: Client | undefined;
  let source: ControllerProcess | undefined;
  let kustomize: ControllerProcess | undefined;
  let counter = 0;
  const ks = (name: string): ObjectRef => ({
    apiVersion: ksApiVersion,
    kind: 'Kustomization',
    namespace: ns(),
    name,
  });
  const c = () => {
    if (!client) throw new Error('useKustomizeEnv: before() has not run');
    return client;
  };

  // Registered before useNamespace's hook so that it runs before the namespace goes.
  after(async function () {
    this.timeout(90_000);
    if (client && ns()) {
      const list = await client.list(
        { group: 'kustomize.toolkit.fluxcd.io', version: 'v1', kind: 'Kustomization' },
        {
          namespace: ns(),
        },
      );
      await Promise.all(list.items.map((k) => client?.delete(ks(k.metadata.name ?? ''))));
      await poll('Kustomizations finalized', 60_000, async () => {
        const left = await c().list(
          { group: 'kustomize.toolkit.fluxcd.io', version: 'v1', kind: 'Kustomization' },
          {
            namespace: ns(),
          },
        );
        return left.items.length === 0 ? true : undefined;
      }).catch((err: Error) => console.error(`cleanup: ${err.message}`));
    }
    await Promise.all([kustomize?.stop(), source?.stop()]);
  });
  const ns = useNamespace(prefix);
  before(async function () {
    this.timeout(120_000);
    const tb = testbed();
    await ensureCrds();
    client = createClient(tb.kubeconfig, { fieldManager: 'tide-test' });
    const tools = await toolPaths(['kustomize', 'sops']);
    const storage = await mkdtemp(join(tb.dir, 'ks-storage-'));
    const extra = opts.controllerArgs?.() ?? [];
    [source, kustomize] = await Promise.all([
      startController('source', [
        `--storage-path=${storage}`,
        '--storage-addr=127.0.0.1:0',
        '--concurrent=4',
        ...extra,
      ]),
      startController('kustomize', [
        `--kustomize-path=${tools.kustomize}`,
        `--sops-path=${tools.sops}`,
        '--health-check-interval=1s',
        '--requeue-dependency=2s',
        '--concurrent=6',
        ...extra,
      ]),
    ]);
    await client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'git-auth', namespace: ns() },
      stringData: { username: tb.git.username, password: tb.git.password },
    });
  });
  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    const tail = (p?: ControllerProcess) => p?.logs().split('\n').slice(-40).join('\n');
    console.error(
      `--- source-controller ---\n${tail(source)}\n--- kustomize-controller ---\n${tail(kustomize)}`,
    );
  });

  const until = <T>(what: string, check: () => Promise<T | undefined>) => poll(what, timeout, check, 500);
  const getGit = (name: string) =>
    c().get({ apiVersion: gitApiVersion, kind: 'GitRepository', namespace: ns(), name }) as Promise<
      {
        status?: { artifact?: { revision: string } };
      } & KubeObject
    >;
  const waitArtifact = (name: string, revision: string) =>
    until(`GitRepository ${name} at ${revision}`, async () => {
      const g = await getGit(name);
      const got = g.status?.artifact?.revision;
      if (got === revision) return g;
      throw new Error(`artifact ${got}; Ready: ${ready(g)?.message}`);
    });
  const getKs = (name: string) => c().get<Kustomization>(ks(name));
  const describe = (o: Kustomization) => {
    const r = ready(o);
    return `Ready=${r?.status} ${r?.reason}: ${r?.message} (applied ${o.status?.lastAppliedRevision})`;
  };

  return {
    ns,
    client: c,
    controllers: () => {
      if (!source || !kustomize) throw new Error('controllers not started');
      return { source, kustomize };
    },
    async repo(name, files) {
      const work = await createWorkRepo(`${prefix}-${name}-${process.pid}`);
      const sha = await work.commit(files, 'initial');
      await c().create({
        apiVersion: gitApiVersion,
        kind: 'GitRepository',
        metadata: { name, namespace: ns() },
        spec: { url: work.url, interval: '10m', secretRef: { name: 'git-auth' }, ref: { branch: 'main' } },
      });
      await waitArtifact(name, `main@sha1:${sha}`);
      return {
        name,
        async commit(changes) {
          const next = await work.commit(changes);
          await c().patch(
            { apiVersion: gitApiVersion, kind: 'GitRepository', namespace: ns(), name },
            'merge',
            {
              metadata: { annotations: { [requestedAt]: `commit-${next}` } },
            },
          );
          const revision = `main@sha1:${next}`;
          await waitArtifact(name, revision);
          return revision;
        },
      };
    },
    async createKs(name, repo, spec) {
      return c().create<Kustomization>({
        apiVersion: ksApiVersion,
        kind: 'Kustomization',
        metadata: { name, namespace: ns() },
        spec: {
          interval: '10m',
          prune: true,
          sourceRef: { kind: 'GitRepository', name: repo.name },
          ...spec,
        },
      } as Kustomization);
    },
    getKs,
    async patchKs(name, spec) {
      await c().patch(ks(name), 'merge', { spec });
    },
    async requestKs(name) {
      const token = `req-${process.pid}-${++counter}-${Date.now()}`;
      await c().patch(ks(name), 'merge', { metadata: { annotations: { [requestedAt]: token } } });
      return until(`Kustomization ${name} handled ${token}`, async () => {
        const o = await getKs(name);
        if (o.status?.lastHandledReconcileAt === token) return o;
        throw new Error(describe(o));
      });
    },
    waitReady: (name, revision) =>
      until(`Kustomization ${name} Ready${revision ? ` at ${revision}` : ''}`, async () => {
        const o = await getKs(name);
        const ok =
          ready(o)?.status === 'True' &&
          o.status?.observedGeneration === o.metadata.generation &&
          (!revision || o.status?.lastAppliedRevision === revision);
        if (ok) return o;
        throw new Error(describe(o));
      }),
    waitNotReady: (name, pattern) =>
      until(`Kustomization ${name} Ready=False ${pattern}`, async () => {
        const o = await getKs(name);
        const r = ready(o);
        if (r?.status === 'False' && pattern.test(r.message)) return o;
        throw new Error(describe(o));
      }),
    get: (ref) => c().get(ref),
    tryGet: (ref) => c().tryGet(ref),
    until,
  };
}

/** Encrypts YAML with the pinned sops binary for an age recipient, as a user prepares a repository. */
export async function sopsEncrypt(text: string, recipient: string): Promise<string> {
  const { sops } = await toolPaths(['sops']);
  return withSandbox(async (env, home) => {
    const args = ['encrypt', '--age', recipient, '--input-type', 'yaml', '--output-type', 'yaml'];
    const io = ['--filename-override', 'input.yaml', '--encrypted-regex', '^(data|stringData)$'];
    const res = await runProcess(sops, [...args, ...io], { env, cwd: home, input: text, timeoutMs: 30_000 });
    assert.equal(res.code, 0, res.stderr);
    return res.stdout.toString('utf8');
  });
}

export { ageKeyPair };
