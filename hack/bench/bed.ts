// One benchmark run's environment: a fresh local control plane (priority and fairness on, as in a real
// cluster, and an audit log of the controllers' user), that user's kubeconfig bound to cluster-admin,
// a Git server that counts fetches, and the CRDs of the suite under test. Everything is stopped and
// removed by close(), also on Ctrl-C.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { type Client, createClient, isConflict } from '../../controllers/runtime/client.ts';
import type { KubeObject } from '../../controllers/runtime/object.ts';
import { installCrds } from '../crds.ts';
import {
  apiRequest,
  type ControlPlaneState,
  kubeconfigYaml,
  startControlPlane,
  stopControlPlane,
} from '../testbed/controlplane.ts';
import { type GitHttpServer, gitEnv, startGitHttpServer } from '../testbed/gitserver.ts';
import { clientCert } from '../testbed/pki.ts';
import { run } from '../testbed/proc.ts';
import { auditPolicy, benchGroup, benchUser } from './audit.ts';
import { emptyGitCounts, type GitCounts, gitRequestCounter } from './gitcount.ts';
import { parsePrometheusText, requestsByVerb } from './promtext.ts';
import { benchNamespace, gitSecretName } from './workload.ts';

export interface Bed {
  name: string;
  dir: string;
  controlPlane: ControlPlaneState;
  /** The harness's own client (system:masters); its requests are not counted. */
  admin: Client;
  /** The controllers' user (benchUser), for the suites and the bare apply loop. */
  controllerKubeconfig: string;
  auditLog: string;
  git: GitHttpServer;
  /** Requests the Git server has seen so far, by kind. */
  gitCounts: GitCounts;
  /** The apiserver flags the benchmark adds to the test bed's. */
  apiserverFlags: string[];
  log: (msg: string) => void;
  close(): Promise<void>;
}

/** Cleanups of everything running, for Ctrl-C. */
export const running = new Set<() => Promise<void>>();

/** Runs every cleanup, newest first (controllers before the control plane they talk to). */
export async function stopEverything(): Promise<void> {
  for (const f of [...running].reverse()) await f().catch(() => {});
}

export interface BedOptions {
  root: string;
  name: string;
  /** CRDs to install (a directory of YAML files); none when unset. */
  crdDir?: string;
  keep: boolean;
  log: (msg: string) => void;
}

export async function startBed(opts: BedOptions): Promise<Bed> {
  const dir = await mkdtemp(join(opts.root, `${opts.name}-`));
  const log = (m: string) => opts.log(`${opts.name}: ${m}`);
  const cpDir = join(dir, 'controlplane');
  const auditLog = join(dir, 'audit.log');
  const policy = join(dir, 'audit-policy.yaml');
  await writeFile(policy, auditPolicy());
  const apiserverFlags = [
    '--enable-priority-and-fairness=true',
    `--audit-policy-file=${policy}`,
    `--audit-log-path=${auditLog}`,
    '--audit-log-format=json',
  ];
  let git: GitHttpServer | undefined;
  const close = async () => {
    running.delete(close);
    await git?.close();
    await stopControlPlane(cpDir, !opts.keep);
    if (!opts.keep) await rm(dir, { recursive: true, force: true });
  };
  running.add(close);
  try {
    const controlPlane = await startControlPlane({
      dir: cpDir,
      extraArgs: { 'kube-apiserver': apiserverFlags },
    });
    const adminKc = new KubeConfig();
    adminKc.loadFromFile(controlPlane.kubeconfig);
    const admin = createClient(adminKc, { fieldManager: 'tide-bench' });

    const pkiDir = dirname(controlPlane.pki.caCert);
    const cert = await clientCert(pkiDir, 'bench-controller', `/O=${benchGroup}/CN=${benchUser}`);
    const [ca, crt, key] = await Promise.all([
      readFile(controlPlane.pki.caCert),
      readFile(cert.cert),
      readFile(cert.key),
    ]);
    const controllerKubeconfig = join(dir, 'controller.kubeconfig');
    await writeFile(controllerKubeconfig, kubeconfigYaml(controlPlane.server, ca, crt, key), { mode: 0o600 });
    await admin.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'tide-bench-controllers' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: benchUser }],
    } as KubeObject);
    if (opts.crdDir) await installCrds(admin, 120_000, opts.crdDir);

    const gitCounts = emptyGitCounts();
    git = await startGitHttpServer(join(dir, 'git'), 'tide', 'tide-secret', gitRequestCounter(gitCounts));
    await ensureNamespaces(admin, [benchNamespace]);
    await admin.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: gitSecretName, namespace: benchNamespace },
      stringData: { username: git.username, password: git.password },
    });
    log(`control plane ${controlPlane.server} ready`);
    return {
      name: opts.name,
      dir,
      controlPlane,
      admin,
      controllerKubeconfig,
      auditLog,
      git,
      gitCounts,
      apiserverFlags,
      log,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Runs fn over items with at most `concurrency` in flight; resolves when all are done. */
export async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** Creates the namespaces that do not exist yet. */
export async function ensureNamespaces(client: Client, names: readonly string[]): Promise<void> {
  await pool(names, 16, async (name) => {
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }).catch((err) => {
      if (!isConflict(err)) throw err;
    });
  });
}

/** apiserver_request_total by verb, over every client (the controllers' share is in the audit log). */
export async function apiserverRequests(bed: Bed): Promise<Record<string, number>> {
  const res = await apiRequest(bed.controlPlane, 'GET', '/metrics');
  return requestsByVerb(parsePrometheusText(res.text));
}

export interface WorkTree {
  /** Clone URL on the Git server (without credentials). */
  url: string;
  /** Writes files (path → content; null deletes), commits and pushes to main; returns the commit sha. */
  commit(files: Record<string, string | null>, message: string): Promise<string>;
}

/**
 * A repository on the bed's Git server and a working copy of it. Pushes go straight to the bare
 * repository on disk, so that the server counts only the controllers' requests.
 */
export async function createWorkTree(bed: Pick<Bed, 'git' | 'dir'>, name: string): Promise<WorkTree> {
  const url = await bed.git.createRepo(name);
  const dir = join(bed.dir, `work-${name}`);
  await mkdir(dir, { recursive: true });
  const git = (...args: string[]) =>
    run('git', ['-c', 'user.name=Tide Bench', '-c', 'user.email=bench@tide.invalid', '-C', dir, ...args], {
      env: gitEnv,
    });
  await git('init', '-q', '-b', 'main');
  await git('remote', 'add', 'origin', join(bed.git.root, `${name}.git`));
  return {
    url,
    async commit(files, message) {
      for (const [path, content] of Object.entries(files)) {
        const abs = join(dir, path);
        if (content === null) await rm(abs, { force: true });
        else {
          await mkdir(dirname(abs), { recursive: true });
          await writeFile(abs, content);
        }
      }
      await git('add', '-A');
      await git('commit', '-q', '--allow-empty', '-m', message);
      await git('push', '-q', 'origin', 'HEAD:refs/heads/main');
      return (await git('rev-parse', 'HEAD')).trim();
    },
  };
}
