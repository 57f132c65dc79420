import assert from 'node:assert/strict';
import { nodeFlags } from '../../../../controllers/runtime/nodeflags.ts';
import { parseConfig } from '../../../../hack/bench/config.ts';
import {
  controllerFlags,
  describeControllers,
  parseEnvFile,
  suitesOf,
} from '../../../../hack/bench/suites.ts';

describe('bench suites', () => {
  const ports = { metrics: 1001, health: 1002, storage: 1003 };

  it("every controller gets Flux's flag names, on loopback, at the configured concurrency", () => {
    const cfg = parseConfig({ BENCH_CONCURRENT: '20' }, '/o');
    assert.deepEqual(controllerFlags('kustomize', cfg, ports, '/s'), [
      '--concurrent=20',
      '--metrics-addr=127.0.0.1:1001',
      '--health-addr=127.0.0.1:1002',
      '--enable-leader-election=false',
      '--log-level=info',
    ]);
    assert.deepEqual(controllerFlags('source', cfg, ports, '/s').slice(5), [
      '--storage-path=/s',
      '--storage-addr=127.0.0.1:1003',
      '--storage-adv-addr=127.0.0.1:1003',
    ]);
  });

  it("Tide and Flux run with the same flags, only the program and the memory cap's form differ", () => {
    const cfg = parseConfig({ FLUX_BIN_DIR: '/nowhere/bin', BENCH_MEMORY_LIMIT_MIB: '1024' }, '/o');
    const [tide, flux] = suitesOf(cfg).map(
      (s) => describeControllers(s, ['source'], cfg)['source-controller']!,
    );
    // Tide's node flags are part of the product (charts/tide runs the controllers with them).
    const program = ['node', ...nodeFlags, '--max-old-space-size=1024', 'dist/controllers/source/main.js'];
    assert.deepEqual(tide?.slice(0, program.length), program);
    assert.deepEqual(flux?.slice(0, 2), ['GOMEMLIMIT=1024MiB', 'source-controller']);
    assert.deepEqual(tide?.slice(program.length), flux?.slice(2));
    assert.ok(tide?.includes('--storage-addr=127.0.0.1:<port>'));
  });

  it('a suite says which controller is missing and how to get it', () => {
    const [tide, flux] = suitesOf(parseConfig({ FLUX_BIN_DIR: '/nowhere/bin' }, '/o'));
    assert.equal(tide?.missing('kustomize'), undefined);
    assert.equal(tide?.missing('helm'), undefined, 'controllers/helm/main.ts exists');
    assert.match(flux?.missing('source') ?? '', /build it with hack\/bench\/build-flux.sh source/);
  });

  it('reads KEY=value files', () => {
    assert.deepEqual(parseEnvFile('# c\nFLUX_VERSION=2.7.3\n\nGO_VERSION=go1.26.8\nnot a line\n'), {
      FLUX_VERSION: '2.7.3',
      GO_VERSION: 'go1.26.8',
    });
  });
});
