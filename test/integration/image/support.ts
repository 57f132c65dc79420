// What the image controller suites share: a client of the test bed, polling an object until a
// condition holds, reading conditions and events as a user would with kubectl.
import { Annotations, ConditionTypes } from '../../../controllers/api/names.ts';
import type { Client } from '../../../controllers/runtime/client.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { poll } from '../../../hack/testbed/proc.ts';

export const imageApiVersion = 'image.toolkit.fluxcd.io/v1';

export interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
}

export type Conditioned = KubeObject & { status?: { conditions?: Cond[]; observedGeneration?: number } };

export const cond = (o: Conditioned, type: string): Cond | undefined =>
  (o.status?.conditions as Cond[] | undefined)?.find((c) => c.type === type);

const describeReady = (o: Conditioned) => {
  const r = cond(o, ConditionTypes.Ready);
  return `Ready=${r?.status} ${r?.reason}: ${r?.message}`;
};

export function imageKinds(client: () => Client, ns: () => string) {
  const ref = (kind: string, name: string) => ({ apiVersion: imageApiVersion, kind, namespace: ns(), name });
  const get = <T extends Conditioned>(kind: string, name: string) => client().get<T>(ref(kind, name));
  return {
    ref,
    get,
    create: (kind: string, name: string, spec: Record<string, unknown>, labels?: Record<string, string>) =>
      client().create({
        apiVersion: imageApiVersion,
        kind,
        metadata: { name, namespace: ns(), ...(labels ? { labels } : {}) },
        spec,
      } as KubeObject),
    patchSpec: (kind: string, name: string, spec: Record<string, unknown>) =>
      client().patch(ref(kind, name), 'merge', { spec }),
    request: (kind: string, name: string, token: string) =>
      client().patch(ref(kind, name), 'merge', {
        metadata: { annotations: { [Annotations.reconcileRequestedAt]: token } },
      }),
    /** Ready=True at the current generation, and `also`. */
    waitReady: <T extends Conditioned>(kind: string, name: string, also: (o: T) => boolean = () => true) =>
      poll(
        `${kind} ${name} Ready`,
        90_000,
        async () => {
          const o = await get<T>(kind, name);
          if (
            cond(o, ConditionTypes.Ready)?.status === 'True' &&
            o.status?.observedGeneration === o.metadata.generation &&
            also(o)
          )
            return o;
          throw new Error(describeReady(o));
        },
        500,
      ),
    /** Ready=False with a message matching `pattern`. */
    waitNotReady: <T extends Conditioned>(kind: string, name: string, pattern: RegExp) =>
      poll(
        `${kind} ${name} Ready=False`,
        90_000,
        async () => {
          const o = await get<T>(kind, name);
          const r = cond(o, ConditionTypes.Ready);
          if (r?.status === 'False' && pattern.test(r.message)) return o;
          throw new Error(describeReady(o));
        },
        500,
      ),
  };
}

/** The Kubernetes Events recorded on an object, oldest first. */
export async function eventsOf(client: Client, namespace: string, kind: string, name: string) {
  const list = await client.list(
    { group: '', version: 'v1', kind: 'Event' },
    { namespace, fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}` },
  );
  return (list.items as (KubeObject & { reason?: string; message?: string; type?: string })[]).map((e) => ({
    type: e.type ?? '',
    reason: e.reason ?? '',
    message: e.message ?? '',
  }));
}

/** A kubernetes.io/dockerconfigjson Secret's data for one registry. */
export const dockerConfigSecret = (namespace: string, name: string, json: string) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  type: 'kubernetes.io/dockerconfigjson',
  metadata: { name, namespace },
  data: { '.dockerconfigjson': Buffer.from(json).toString('base64') },
});
