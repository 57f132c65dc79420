// The manager as a process: Flux-style flags, and a controller binary (fixtures/widget-main.ts) that on
// SIGTERM lets its in-flight reconcile finish, releases its lease and exits 0.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseFlags } from '../../../controllers/runtime/manager.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { poll } from '../../../hack/testbed/proc.ts';
import { testbed, useNamespace } from '../../support/testbed.ts';
import { adminClient, installWidgetCrd, waitWidget, widget } from './widget.ts';

describe('runtime/manager flags', () => {
  it('has Flux defaults, with leader election on only inside a cluster', () => {
    const local = parseFlags([], { env: {} }).flags;
    assert.deepEqual(local, {
      concurrent: 4,
      metricsAddr: ':8080',
      healthAddr: ':9440',
      enableLeaderElection: false,
      leaderElectionNamespace: undefined,
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      watchAllNamespaces: true,
      eventsAddr: '',
      logLevel: 'info',
      jitterFraction: 0.05,
      minRetryDelayMs: 750,
      maxRetryDelayMs: 900_000,
    });
    assert.equal(
      parseFlags([], { env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' } }).flags.enableLeaderElection,
      true,
    );
  });

  it('parses Go-style flags, booleans with =true/=false, and a controller’s own flags', () => {
    const { flags, values } = parseFlags(
      [
        '--concurrent=8',
        '--metrics-addr=:9090',
        '--enable-leader-election=false',
        '--watch-all-namespaces=false',
        '--events-addr=http://notification-controller.flux-system.svc.cluster.local./',
        '--log-level=debug',
        '--interval-jitter-percentage=10',
        '--min-retry-delay=1s',
        '--max-retry-delay=2m',
        '--storage-path=/data',
        '--no-cross-namespace-refs=true',
      ],
      {
        env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' },
        extra: { 'storage-path': { type: 'string' }, 'no-cross-namespace-refs': { type: 'boolean' } },
      },
    );
    assert.equal(flags.concurrent, 8);
    assert.equal(flags.metricsAddr, ':9090');
    assert.equal(flags.enableLeaderElection, false);
    assert.equal(flags.watchAllNamespaces, false);
    assert.equal(flags.eventsAddr, 'http://notification-controller.flux-system.svc.cluster.local./');
    assert.equal(flags.logLevel, 'debug');
    assert.equal(flags.jitterFraction, 0.1);
    assert.equal(flags.minRetryDelayMs, 1_000);
    assert.equal(flags.maxRetryDelayMs, 120_000);
    assert.equal(values['storage-path'], '/data');
    assert.equal(values['no-cross-namespace-refs'], true);
  });

  it('rejects bad values and unknown flags', () => {
    assert.throws(() => parseFlags(['--concurrent=0']), /--concurrent/);
    assert.throws(() => parseFlags(['--log-level=loud']), /--log-level/);
    assert.throws(() => parseFlags(['--leader-election-lease-duration=soon']), /invalid duration/);
    assert.throws(() => parseFlags(['--bogus']), /Unknown option/);
  });
});

describe('runtime/manager process', function () {
  this.timeout(120_000);
  const ns = useNamespace('rt-mgr');
  let child: ChildProcess | undefined;
  before(installWidgetCrd);
  after(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('on SIGTERM finishes the in-flight reconcile, releases the lease and exits 0', async () => {
    const c = adminClient();
    let out = '';
    child = spawn(
      process.execPath,
      [
        join(import.meta.dirname, 'fixtures', 'widget-main.ts'),
        '--enable-leader-election',
        '--leader-election-retry-period=250ms',
        '--watch-all-namespaces=false',
        '--metrics-addr=0',
        '--health-addr=0',
      ],
      {
        env: {
          ...process.env,
          KUBECONFIG: testbed().controlPlane.kubeconfig,
          RUNTIME_NAMESPACE: ns(),
          SLOW_MS: '3000',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout?.on('data', (d) => {
      out += d;
    });
    child.stderr?.on('data', (d) => {
      out += d;
    });
    const exited = new Promise<number | null>((r) => child?.on('exit', (code) => r(code)));

    await poll('workers started', 30_000, async () => (out.includes('"workers started"') ? true : undefined));
    await c.create(widget(ns(), 'slow', { value: 'slow' }));
    await poll('slow reconcile started', 30_000, async () =>
      out.includes('slow reconcile started') ? true : undefined,
    );
    child.kill('SIGTERM');
    const code = await exited;
    assert.equal(code, 0, out);

    // The reconcile that was running when the signal came finished and wrote its status.
    const w = await waitWidget(c, ns(), 'slow', 'observed slow', (x) => x.status?.observed === 'slow', 2_000);
    assert.equal(w.status?.reconciledBy, `pid-${child.pid}`);
    const lease = await c.get<KubeObject>({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      name: 'widget-controller-leader-election',
      namespace: ns(),
    });
    assert.equal(lease.spec.holderIdentity, '', 'the lease was released');
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; signal?: string; name?: string });
    const at = (pred: (l: (typeof lines)[number]) => boolean) => lines.findIndex(pred);
    const signalled = at((l) => l.msg === 'received signal, shutting down' && l.signal === 'SIGTERM');
    const finished = at((l) => l.name === 'slow' && l.msg.startsWith('Reconciliation finished'));
    const stopped = at((l) => l.msg === 'stopped');
    assert.ok(signalled >= 0 && signalled < finished && finished < stopped, out);
  });
});
