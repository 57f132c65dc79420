// What the source-controller suites share: the controller process with its storage, polling an object
// until Ready, reading artifacts back, and the helm CLI and chart servers they publish with.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Artifact, Condition } from '../../controllers/api/meta.ts';
import { Annotations, ConditionTypes } from '../../controllers/api/names.ts';
import { extractTarGz } from '../../controllers/runtime/artifact/extract.ts';
import { type Client, createClient } from '../../controllers/runtime/client.ts';
import type { KubeObject } from '../../controllers/runtime/object.ts';
import { poll, run } from '../../hack/testbed/proc.ts';
import { type StaticServer, startStaticServer } from '../../hack/testbed/staticserver.ts';
import { toolPaths } from '../../hack/testbed/tools.ts';
import { type ControllerProcess, startController } from './controllers.ts';
import { ensureCrds } from './crds.ts';
import { testbed } from './testbed.ts';

export const sourceApiVersion = 'source.toolkit.fluxcd.io/v1';

/** The part of a source object the helpers read. */
export type SourceObject = KubeObject & {
  status?: { conditions?: unknown; observedGeneration?: number; artifact?: Artifact };
};

/** The condition of type `type` in the object's status, if any. */
export const cond = (obj: { status?: { conditions?: unknown } }, type: string) =>
  (obj.status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);

export const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** GETs `url`, asserting 200, and returns the body. */
export async function download(url: string): Promise<Buffer> {
  const res = await fetch(url);
  assert.equal(res.status, 200, `GET ${url}`);
  return Buffer.from(await res.arrayBuffer());
}

/** The files of a served tar.gz artifact, path → content. */
export async function artifactContents(url: string): Promise<Record<string, string>> {
  const dir = await mkdtemp(join(testbed().dir, 'art-'));
  const file = join(dir, 'a.tar.gz');
  await writeFile(file, await download(url));
  await extractTarGz(file, join(dir, 'x'));
  const out: Record<string, string> = {};
  const walk = async (d: string, pre: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name), `${pre}${e.name}/`);
      else out[`${pre}${e.name}`] = await readFile(join(d, e.name), 'utf8');
    }
  };
  await walk(join(dir, 'x'), '');
  return out;
}

/** Writes `files` (relative path → text) under `root`. */
export async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), text);
  }
}

/** The helm binary with its cache, config and data under `work`, so suites do not share state. */
export async function helmCli(work: string): Promise<(args: string[]) => Promise<string>> {
  const bin = (await toolPaths(['helm'])).helm;
  const env = {
    ...process.env,
    HELM_CACHE_HOME: join(work, 'cache'),
    HELM_CONFIG_HOME: join(work, 'config'),
    HELM_DATA_HOME: join(work, 'data'),
  };
  return (args) => run(bin, args, { env });
}

/** A chart repository behind basic auth. */
export const startBasicAuthServer = (
  root: string,
  username: string,
  password: string,
): Promise<StaticServer> => startStaticServer(root, { username, password });

/** Helpers for one source kind in one namespace (`ns` is read at call time, as useNamespace gives it). */
export interface SourceKind<T extends SourceObject> {
  get(name: string): Promise<T>;
  patchSpec(name: string, spec: unknown): Promise<unknown>;
  /** Sets reconcile.fluxcd.io/requestedAt, as `flux reconcile` does. */
  requestReconcile(name: string, token: string): Promise<unknown>;
  /** Waits until the object is Ready=True at its current generation (and matches `also`). */
  waitReady(name: string, also?: (o: T) => boolean): Promise<T>;
  /** Waits until the object is Ready=False with a message matching `pattern`. */
  waitNotReady(name: string, pattern: RegExp): Promise<T>;
}

export interface SourceController {
  /** A client of the test bed (field manager tide-test). */
  readonly client: Client;
  /** The controller's --storage-path. */
  readonly storagePath: string;
  readonly process: ControllerProcess;
  waitReady<T extends SourceObject>(
    kind: string,
    ns: string,
    name: string,
    also?: (o: T) => boolean,
  ): Promise<T>;
  waitNotReady<T extends SourceObject>(kind: string, ns: string, name: string, pattern: RegExp): Promise<T>;
  kind<T extends SourceObject>(kind: string, ns: () => string): SourceKind<T>;
}

const readyText = (o: SourceObject) => {
  const r = cond(o, ConditionTypes.Ready);
  return `Ready=${r?.status} ${r?.reason}: ${r?.message}; revision ${o.status?.artifact?.revision}`;
};

/**
 * Runs source-controller for the enclosing describe: installs the CRDs, starts the process with a fresh
 * storage directory on loopback plus `args`, stops it after, and prints its last log lines when a test
 * fails. The returned handle is usable from the first before hook on.
 */
export function useSourceController(args: string[]): SourceController {
  let client: Client | undefined;
  let storagePath: string | undefined;
  let proc: ControllerProcess | undefined;
  const started = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('source-controller is not started yet');
    return v;
  };

  before(async () => {
    await ensureCrds();
    const tb = testbed();
    client = createClient(tb.kubeconfig, { fieldManager: 'tide-test' });
    storagePath = await mkdtemp(join(tb.dir, 'source-storage-'));
    proc = await startController('source', [
      `--storage-path=${storagePath}`,
      '--storage-addr=127.0.0.1:0',
      ...args,
    ]);
  });
  after(async () => {
    await proc?.stop();
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed' && proc)
      console.error(proc.logs().split('\n').slice(-30).join('\n'));
  });

  const ref = (kind: string, namespace: string, name: string) => ({
    apiVersion: sourceApiVersion,
    kind,
    namespace,
    name,
  });
  const get = <T extends SourceObject>(kind: string, ns: string, name: string) =>
    started(client).get<T>(ref(kind, ns, name));

  const sc: SourceController = {
    get client() {
      return started(client);
    },
    get storagePath() {
      return started(storagePath);
    },
    get process() {
      return started(proc);
    },
    waitReady: <T extends SourceObject>(
      kind: string,
      ns: string,
      name: string,
      also: (o: T) => boolean = () => true,
    ) =>
      poll(`${kind} ${name} Ready`, 60_000, async () => {
        const o = await get<T>(kind, ns, name);
        const ready = cond(o, ConditionTypes.Ready)?.status === 'True';
        if (ready && o.status?.observedGeneration === o.metadata.generation && also(o)) return o;
        throw new Error(readyText(o));
      }),
    waitNotReady: <T extends SourceObject>(kind: string, ns: string, name: string, pattern: RegExp) =>
      poll(`${kind} ${name} Ready=False`, 60_000, async () => {
        const o = await get<T>(kind, ns, name);
        const r = cond(o, ConditionTypes.Ready);
        if (r?.status === 'False' && pattern.test(r.message)) return o;
        throw new Error(readyText(o));
      }),
    kind: <T extends SourceObject>(kind: string, ns: () => string): SourceKind<T> => ({
      get: (name) => get<T>(kind, ns(), name),
      patchSpec: (name, spec) => started(client).patch(ref(kind, ns(), name), 'merge', { spec }),
      requestReconcile: (name, token) =>
        started(client).patch(ref(kind, ns(), name), 'merge', {
          metadata: { annotations: { [Annotations.reconcileRequestedAt]: token } },
        }),
      waitReady: (name, also) => sc.waitReady<T>(kind, ns(), name, also),
      waitNotReady: (name, pattern) => sc.waitNotReady<T>(kind, ns(), name, pattern),
    }),
  };
  return sc;
}
