// An in-memory stand-in for the runtime client, enough for the CLI's reads and merge patches, and a
// runner that captures what the CLI prints. Kinds listed in notServed answer like a missing CRD.
import { run } from '../../../controllers/cli/main.ts';
import { ApiError, type Client, type ListOptions } from '../../../controllers/runtime/client.ts';
import type { GVK, KubeObject, ObjectRef } from '../../../controllers/runtime/object.ts';

export interface FakeCluster {
  client: Client;
  objects: KubeObject[];
  /** Every merge patch, in order: the object and body. */
  patches: { ref: ObjectRef; body: unknown }[];
  /** Called after each patch, e.g. to play the controller. */
  onPatch?: (obj: KubeObject) => void;
}

const noMatch = (kind: string) => new ApiError(404, `no resource is served for ${kind}`, 'NoKindMatch');
const notFound = (ref: ObjectRef) =>
  new ApiError(404, `GET /x/${ref.name}: 404 ${ref.kind.toLowerCase()}s "${ref.name}" not found`, 'NotFound');

function merge(target: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(patch)) {
    const cur = target[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object')
      merge(cur as Record<string, unknown>, v as Record<string, unknown>);
    else if (v === null) delete target[k];
    else target[k] = structuredClone(v);
  }
}

export function fakeCluster(objects: KubeObject[], notServed: string[] = []): FakeCluster {
  const fake: FakeCluster = { objects, patches: [], client: undefined as unknown as Client };
  const served = (kind: string) => {
    if (notServed.includes(kind)) throw noMatch(kind);
  };
  const find = (ref: ObjectRef) => {
    served(ref.kind);
    const obj = objects.find(
      (o) => o.kind === ref.kind && o.metadata.name === ref.name && o.metadata.namespace === ref.namespace,
    );
    if (!obj) throw notFound(ref);
    return obj;
  };
  const listAll = async (gvk: GVK, opts: ListOptions = {}) => {
    served(gvk.kind);
    const name = opts.fieldSelector?.replace(/^metadata\.name=/, '');
    const items = objects.filter(
      (o) =>
        o.kind === gvk.kind &&
        (!opts.namespace || o.metadata.namespace === opts.namespace) &&
        (!name || o.metadata.name === name),
    );
    return { metadata: {}, items: structuredClone(items) };
  };
  fake.client = {
    server: 'https://fake',
    fieldManager: 'tide',
    get: async (ref: ObjectRef) => structuredClone(find(ref)),
    listAll,
    list: listAll,
    patch: async (ref: ObjectRef, _type: string, body: unknown) => {
      const obj = find(ref);
      fake.patches.push({ ref, body: structuredClone(body) });
      merge(obj as unknown as Record<string, unknown>, body as Record<string, unknown>);
      if ((body as KubeObject).spec) obj.metadata.generation = (obj.metadata.generation ?? 1) + 1;
      fake.onPatch?.(obj);
      return structuredClone(obj);
    },
  } as unknown as Client;
  return fake;
}

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI in-process against the fake cluster (none given: connecting fails the test). */
export async function runCli(argv: string[], cluster?: FakeCluster): Promise<CliResult> {
  let out = '';
  let err = '';
  const code = await run(argv, {
    io: { out: (t) => (out += t), err: (t) => (err += t) },
    connect: async () => {
      if (!cluster) throw new Error('the command tried to connect to a cluster');
      return cluster.client;
    },
    nowNs: () => 1_735_725_600_123_456_789n,
  });
  return { code, out, err };
}

/** A Flux-style object of kind `kind` with a Ready condition unless ready is undefined. */
export function object(
  kind: string,
  namespace: string,
  name: string,
  opts: {
    ready?: [status: string, message: string];
    suspend?: boolean;
    status?: Record<string, unknown>;
  } = {},
): KubeObject {
  const conditions = opts.ready
    ? [
        {
          type: 'Ready',
          status: opts.ready[0],
          reason: 'Test',
          message: opts.ready[1],
          lastTransitionTime: '2025-01-01T00:00:00Z',
          observedGeneration: 1,
        },
      ]
    : [];
  return {
    apiVersion: 'test/v1',
    kind,
    metadata: { name, namespace, generation: 1 },
    spec: { suspend: opts.suspend ?? false },
    status: { observedGeneration: 1, conditions, ...opts.status },
  };
}
