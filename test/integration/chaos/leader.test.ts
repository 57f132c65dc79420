// Two replicas of each controller with leader election (a 4 s lease): the leader is SIGKILLed and the
// other replica takes over once the lease expires and reconciles. For the kustomize-controller the
// leader is killed in the middle of applying a workload, on a control plane of its own whose audit log
// records each replica's requests (one user per replica): no write of the new leader starts before the
// last write of the old one ended, so no object is ever applied by two replicas at once.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type Client, createClient } from '../../../controllers/runtime/client.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { installCrds } from '../../../hack/crds.ts';
import { kubeconfigYaml } from '../../../hack/testbed/controlplane.ts';
import { clientCert } from '../../../hack/testbed/pki.ts';
import { poll } from '../../../hack/testbed/proc.ts';
import { toolPaths } from '../../../hack/testbed/tools.ts';
import { ensureCrds } from '../../support/crds.ts';
import { useSecondCluster } from '../../support/secondcluster.ts';
import { startTcpProxy, type TcpProxy } from '../../support/tcpproxy.ts';
import { testbed, useNamespace } from '../../support/testbed.ts';
import {
  at,
  type Controller,
  condition,
  controller,
  createWorkload,
  names,
  type Workload,
} from './support.ts';

const election = (ns: string) => [
  '--enable-leader-election=true',
  `--leader-election-namespace=${ns}`,
  '--leader-election-lease-duration=4s',
  '--leader-election-renew-deadline=3s',
  '--leader-election-retry-period=500ms',
  '--min-retry-delay=250ms',
  '--max-retry-delay=5s',
];
/** The replica's current process acquired the lease. */
const leads = (c: Controller) => c.process.logs().includes('leader election: acquired lease');

/** Waits until one of the replicas leads; returns [leader, standby]. */
async function leaderOf(a: Controller, b: Controller): Promise<[Controller, Controller]> {
  return poll('a replica leads', 60_000, async () => {
    if (leads(a)) return [a, b] as [Controller, Controller];
    if (leads(b)) return [b, a] as [Controller, Controller];
    return undefined;
  });
}

interface AuditEvent {
  stage?: string;
  verb?: string;
  requestURI?: string;
  user?: { username?: string };
  objectRef?: { resource?: string; namespace?: string; name?: string; subresource?: string };
  requestReceivedTimestamp?: string;
  stageTimestamp?: string;
}

describe('chaos: two replicas per controller, the leader killed', function () {
  this.timeout(600_000);

  describe('kustomize-controller, audited', () => {
    const users = { a: 'tide-replica-a', b: 'tide-replica-b' } as const;
    let auditLog = '';
    const relays: Partial<Record<'a' | 'b', TcpProxy>> = {};
    let replicas: Record<'a' | 'b', Controller>;
    let source: Controller;
    const kubeconfigs: Partial<Record<'a' | 'b', string>> = {};
    // Before useSecondCluster's: the controllers stop before their control plane does.
    after(async () => {
      for (const c of [replicas?.a, replicas?.b, source]) if (c?.running()) await c.process.stop();
      await Promise.all(Object.values(relays).map((r) => r.close()));
    });
    const second = useSecondCluster(async (dir) => {
      auditLog = join(dir, 'audit.log');
      const policy = join(dir, 'audit-policy.yaml');
      await writeFile(
        policy,
        `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  users: ["${users.a}", "${users.b}"]
  verbs: ["create", "update", "patch", "delete"]
- level: None
`,
      );
      return {
        extraArgs: {
          'kube-apiserver': [
            `--audit-policy-file=${policy}`,
            `--audit-log-path=${auditLog}`,
            '--audit-log-format=json',
          ],
        },
      };
    });
    const ns = 'chaos-leader';
    const items = names('item', 40);
    let client: Client;
    let work: Workload;
    const leaseRef = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      namespace: ns,
      name: 'kustomize-controller-leader-election',
    };

    /** A kubeconfig of the second cluster for `user` (group tide-replicas), through `port`. */
    async function userKubeconfig(user: string, port: number): Promise<string> {
      const st = second().state;
      const pki = dirname(st.pki.caCert);
      const cert = await clientCert(pki, user, `/O=tide-replicas/CN=${user}`);
      const [ca, crt, key] = await Promise.all([
        readFile(st.pki.caCert),
        readFile(cert.cert),
        readFile(cert.key),
      ]);
      const file = join(await mkdtemp(join(testbed().dir, `kc-${user}-`)), 'kubeconfig');
      await writeFile(file, kubeconfigYaml(`https://127.0.0.1:${port}`, ca, crt, key), { mode: 0o600 });
      return file;
    }

    /** Slows replica r's API traffic, commits `rev` and runs `fault` once r is in the middle of applying it. */
    async function midApply(r: 'a' | 'b', rev: string, fault: () => Promise<void>, delayMs = 40) {
      relays[r]?.setDelay(delayMs);
      const revision = await work.commit(at(items, rev));
      await poll(
        `replica ${r} in the middle of the apply`,
        120_000,
        async () => {
          const live = await work.live();
          const done = items.filter((n) => live.get(n)?.rev === rev).length;
          if (done === items.length) throw new Error('finished before the fault');
          return done > 0 ? true : undefined;
        },
        50,
      );
      await fault();
      relays[r]?.setDelay(0);
      return revision;
    }

    before(async function () {
      this.timeout(300_000);
      client = second().client;
      await installCrds(client, 120_000);
      await client.create({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'tide-replicas' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'tide-replicas' }],
      } as KubeObject);
      await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } as KubeObject);
      const tb = testbed();
      await client.create({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'git-auth', namespace: ns },
        stringData: { username: tb.git.username, password: tb.git.password },
      } as KubeObject);
      const server = new URL(second().state.server);
      const tools = await toolPaths(['kustomize', 'sops']);
      const storage = await mkdtemp(join(tb.dir, 'leader-storage-'));
      source = controller('source', () => [`--storage-path=${storage}`, '--storage-addr=127.0.0.1:0']);
      await source.start({ kubeconfig: second().state.kubeconfig });
      const kustomizeArgs = () => [
        `--kustomize-path=${tools.kustomize}`,
        `--sops-path=${tools.sops}`,
        '--concurrent=4',
        ...election(ns),
      ];
      replicas = { a: controller('kustomize', kustomizeArgs), b: controller('kustomize', kustomizeArgs) };
      // Each replica talks to the API server through a relay of its own, to slow it.
      for (const r of ['a', 'b'] as const) {
        relays[r] = await startTcpProxy(server.hostname, Number(server.port));
        kubeconfigs[r] = await userKubeconfig(users[r], relays[r].port);
      }
      await replicas.a.start({ kubeconfig: kubeconfigs.a });
      await poll('replica a leads', 60_000, async () => (leads(replicas.a) ? true : undefined));
      await replicas.b.start({ kubeconfig: kubeconfigs.b });
      work = await createWorkload({ ns: () => ns, client: () => client }, 'leader', at(items, 'v1'));
      assert.ok(!leads(replicas.b), 'the standby did not lead');
    });
    afterEach(function () {
      if (this.currentTest?.state !== 'failed') return;
      for (const [n, c] of Object.entries(replicas ?? {}))
        console.error(`--- replica ${n} ---\n${c.logs().split('\n').slice(-30).join('\n')}`);
    });

    it('a leader that loses its lease mid-apply exits at once; the standby takes over and converges', async () => {
      const before = await work.live();
      let exitCode: number | null = null;
      let applied = 0;
      const revision = await midApply(
        'a',
        'v2',
        async () => {
          // Another party takes the lease: replica a's renewals fail until its renew deadline passes.
          const lease = await client.get(leaseRef);
          const now = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
          await client.update({
            ...lease,
            spec: { ...lease.spec, holderIdentity: 'intruder', renewTime: now },
          });
          exitCode = await new Promise<number | null>((resolve) =>
            replicas.a.process.child.once('exit', resolve),
          );
          const live = await work.live();
          applied = items.filter((n) => live.get(n)?.rev === 'v2').length;
        },
        // Each chunk held 350 ms each way: the apply stage (40 objects, 4 at a time) outlasts the 3 s renew
        // deadline, while a renewal (a GET and an update) still fits in it before the fault.
        350,
      );
      assert.equal(exitCode, 1, 'lost leadership: exit code 1');
      assert.ok(applied < items.length, 'it exited without finishing its in-flight apply');
      await poll('replica b leads', 60_000, async () => (leads(replicas.b) ? true : undefined));
      const after = await work.converged(revision);
      assert.deepEqual(
        items.filter((n) => before.get(n)?.uid !== after.get(n)?.uid),
        [],
        'nothing recreated',
      );
    });

    it('a killed leader: the standby takes over within the lease and converges', async () => {
      await replicas.a.start({ kubeconfig: kubeconfigs.a });
      const before = await work.live();
      let killedAt = 0;
      const revision = await midApply('b', 'v3', async () => {
        killedAt = Date.now();
        await replicas.b.kill();
      });
      await poll('replica a leads again', 60_000, async () => (leads(replicas.a) ? true : undefined));
      console.log(
        `      takeover after the kill: ${((Date.now() - killedAt) / 1000).toFixed(1)} s (lease 4 s)`,
      );
      const after = await work.converged(revision);
      assert.deepEqual(
        items.filter((n) => before.get(n)?.uid !== after.get(n)?.uid),
        [],
        'nothing recreated',
      );
    });

    it('never had two replicas writing at once (audit log)', async () => {
      const writes = (await readFile(auditLog, 'utf8'))
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as AuditEvent)
        .filter(
          (e) =>
            e.stage === 'ResponseComplete' &&
            e.objectRef?.resource !== 'leases' &&
            e.objectRef?.resource !== 'events' &&
            !/[?&]dryRun=/.test(e.requestURI ?? ''),
        )
        .map((e) => ({
          user: e.user?.username ?? '',
          what: `${e.verb} ${e.objectRef?.resource}/${e.objectRef?.name}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''}`,
          from: Date.parse(e.requestReceivedTimestamp ?? ''),
          to: Date.parse(e.stageTimestamp ?? ''),
        }));
      const of = (user: string) => writes.filter((w) => w.user === user);
      for (const user of Object.values(users))
        assert.ok(
          of(user).some((w) => w.what.includes('configmaps/')),
          `${user} applied objects`,
        );
      const overlaps = of(users.a).flatMap((x) =>
        of(users.b)
          .filter((y) => x.from <= y.to && y.from <= x.to)
          .map((y) => `${x.what} (a) and ${y.what} (b)`),
      );
      assert.deepEqual(overlaps, [], 'writes of both replicas at the same time');
    });
  });

  describe('every controller: the standby takes over and reconciles', () => {
    const ns = useNamespace('chaos-replicas');
    let client: Client;
    before(async () => {
      await ensureCrds();
      client = createClient(testbed().kubeconfig, { fieldManager: 'tide-test' });
    });

    const objects: Record<string, (name: string) => KubeObject> = {
      source: (name) => ({
        apiVersion: 'source.toolkit.fluxcd.io/v1',
        kind: 'GitRepository',
        metadata: { name, namespace: ns() },
        spec: { url: 'http://127.0.0.1:1/nowhere.git', interval: '10m', timeout: '2s' },
      }),
      helm: (name) => ({
        apiVersion: 'helm.toolkit.fluxcd.io/v2',
        kind: 'HelmRelease',
        metadata: { name, namespace: ns() },
        spec: {
          interval: '10m',
          chart: { spec: { chart: 'demo', sourceRef: { kind: 'HelmRepository', name: 'missing' } } },
        },
      }),
      notification: (name) => ({
        apiVersion: 'notification.toolkit.fluxcd.io/v1',
        kind: 'Receiver',
        metadata: { name, namespace: ns() },
        spec: {
          type: 'generic',
          secretRef: { name: 'missing' },
          resources: [{ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', name: 'x' }],
        },
      }),
      'image-reflector': (name) => ({
        apiVersion: 'image.toolkit.fluxcd.io/v1',
        kind: 'ImagePolicy',
        metadata: { name, namespace: ns() },
        spec: { imageRepositoryRef: { name: 'missing' }, policy: { semver: { range: '>=1.0.0' } } },
      }),
      'image-automation': (name) => ({
        apiVersion: 'image.toolkit.fluxcd.io/v1',
        kind: 'ImageUpdateAutomation',
        metadata: { name, namespace: ns() },
        spec: {
          interval: '10m',
          sourceRef: { kind: 'GitRepository', name: 'missing' },
          git: { commit: { author: { name: 'tide', email: 'tide@example.invalid' } } },
          update: { path: './', strategy: 'Setters' },
        },
      }),
    };

    for (const [name, object] of Object.entries(objects)) {
      it(`${name}-controller`, async () => {
        const tb = testbed();
        const tools = await toolPaths(['helm', 'kustomize']);
        const own = async () => {
          switch (name) {
            case 'source':
              return [`--storage-path=${await mkdtemp(join(tb.dir, 'rep-'))}`, '--storage-addr=127.0.0.1:0'];
            case 'image-reflector':
              return [`--storage-path=${await mkdtemp(join(tb.dir, 'rep-'))}`];
            case 'helm':
              return [`--helm-path=${tools.helm}`, `--kustomize-path=${tools.kustomize}`];
            case 'notification':
              return ['--events-addr=127.0.0.1:0', '--receiverAddr=127.0.0.1:0'];
            default:
              return [];
          }
        };
        const argsA = [...(await own()), ...election(ns())];
        const argsB = [...(await own()), ...election(ns())];
        const a = controller(name, () => argsA);
        const b = controller(name, () => argsB);
        try {
          await Promise.all([a.start(), b.start()]);
          const [leader, standby] = await leaderOf(a, b);
          const ref = (n: string) => {
            const o = object(n);
            return { apiVersion: o.apiVersion ?? '', kind: o.kind ?? '', namespace: ns(), name: n };
          };
          const reconciled = (n: string) =>
            poll(`${name}: ${n} reconciled`, 60_000, async () =>
              condition(await client.get(ref(n)), 'Ready') ? true : undefined,
            );
          await client.create(object('before'));
          await reconciled('before');
          await leader.kill();
          await poll('the standby leads', 60_000, async () => (leads(standby) ? true : undefined));
          await client.create(object('after'));
          await reconciled('after');
          assert.ok(standby.running(), 'the new leader runs');
        } catch (err) {
          for (const [n, c] of [
            ['a', a],
            ['b', b],
          ] as const)
            console.error(`--- ${name} replica ${n} ---\n${c.logs().split('\n').slice(-20).join('\n')}`);
          throw err;
        } finally {
          for (const c of [a, b]) if (c.running()) await c.process.stop();
        }
      });
    }
  });
});
