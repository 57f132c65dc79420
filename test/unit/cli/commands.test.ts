// The command table as users meet it without a cluster: help that lists every flag, flag syntax
// (--flag=false, repeated and comma-separated lists), refusals, create --export, completion.
import assert from 'node:assert/strict';
import { load } from 'js-yaml';
import { globalFlags } from '../../../controllers/cli/command.ts';
import { completionModel } from '../../../controllers/cli/commands/completion.ts';
import { creators } from '../../../controllers/cli/commands/create.ts';
import { commands } from '../../../controllers/cli/main.ts';
import { runCli } from './fake.ts';

describe('cli commands', () => {
  it('gives every command a help page with its usage and each of its flags', async () => {
    for (const c of commands) {
      const r = await runCli([c.name, '--help']);
      assert.equal(r.code, 0, c.name);
      assert.match(r.out, new RegExp(`\\btide ${c.name}\\b`), c.name);
      for (const flag of Object.keys(c.flags))
        assert.match(r.out, new RegExp(`--${flag}\\b`), `${c.name} --${flag}`);
    }
  });

  it('reads --flag=false, and list flags repeated or comma-separated', async () => {
    const r = await runCli([
      'create',
      'source',
      'git',
      'app',
      '--url',
      'https://git.example.com/app.git',
      '--branch',
      'main',
      '--ignore-paths',
      '/docs,/tests',
      '--ignore-paths',
      '*.md',
      '--recurse-submodules=false',
      '--label',
      'team=a',
      '--export',
    ]);
    assert.equal(r.code, 0, r.err);
    const obj = load(r.out.replace(/^---\n/, '')) as {
      metadata: { labels: object };
      spec: Record<string, unknown>;
    };
    assert.equal(obj.spec.ignore, '/docs\n/tests\n*.md');
    assert.equal(obj.spec.recurseSubmodules, undefined);
    const on = await runCli([
      'create',
      'source',
      'git',
      'a',
      '--url',
      'https://x/y.git',
      '--tag',
      'v1',
      '--recurse-submodules=true',
      '--export',
    ]);
    assert.equal((load(on.out.replace(/^---\n/, '')) as typeof obj).spec.recurseSubmodules, true);
    assert.deepEqual(obj.metadata.labels, { team: 'a' });
  });

  it('refuses a flag of another subcommand of create, and incomplete input', async () => {
    const chart = await runCli([
      'create',
      'source',
      'git',
      'app',
      '--url',
      'https://x/y.git',
      '--chart',
      'redis',
    ]);
    assert.equal(chart.err, '✗ unknown flag: --chart (tide create source git)\n');
    const ref = await runCli(['create', 'source', 'git', 'app', '--url', 'https://x/y.git']);
    assert.match(ref.err, /✗ a Git ref is required/);
    const what = await runCli(['create', 'thing', 'x']);
    assert.match(what.err, /✗ tide create needs what to create: source git, source helm/);
    const policy = await runCli([
      'create',
      'image',
      'policy',
      'p',
      '--image-ref',
      'r',
      '--select-semver',
      '1.x',
      '--select-alpha',
      'asc',
    ]);
    assert.match(policy.err, /✗ give exactly one of --select-semver/);
  });

  it('builds each kind of create --export from flags, without a cluster', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: exported manifests are free-form
    type Manifest = Record<string, any>;
    const cases: [string[], (o: Manifest) => void][] = [
      [
        [
          'create',
          'ks',
          'apps',
          '--source',
          'OCIRepository/manifests.flux-system',
          '--path',
          './apps',
          '--prune',
          '--depends-on',
          'infra',
          '--wait',
        ],
        (o) => {
          assert.deepEqual(o.spec, {
            interval: '1m0s',
            path: './apps',
            prune: true,
            sourceRef: { kind: 'OCIRepository', name: 'manifests', namespace: 'flux-system' },
            dependsOn: [{ name: 'infra' }],
            wait: true,
          });
        },
      ],
      [
        [
          'create',
          'hr',
          'redis',
          '--source',
          'HelmRepository/bitnami',
          '--chart',
          'redis',
          '--target-namespace',
          'data',
          '--create-target-namespace',
        ],
        (o) => {
          assert.deepEqual(o.spec.chart.spec, {
            chart: 'redis',
            sourceRef: { kind: 'HelmRepository', name: 'bitnami' },
          });
          assert.deepEqual([o.spec.targetNamespace, o.spec.install], ['data', { createNamespace: true }]);
        },
      ],
      [
        [
          'create',
          'image',
          'update',
          'app',
          '--git-repo-ref',
          'fleet',
          '--checkout-branch',
          'main',
          '--push-branch',
          'auto',
          '--author-email',
          'bot@x',
        ],
        (o) => {
          assert.deepEqual(o.spec.git, {
            checkout: { ref: { branch: 'main' } },
            commit: { author: { name: 'Tide', email: 'bot@x' } },
            push: { branch: 'auto' },
          });
        },
      ],
      [
        [
          'create',
          'alert-provider',
          'slack',
          '--type',
          'slack',
          '--channel',
          'ops',
          '--secret-ref',
          'slack-url',
        ],
        (o) => {
          assert.deepEqual(o.spec, { type: 'slack', channel: 'ops', secretRef: { name: 'slack-url' } });
        },
      ],
      [
        [
          'create',
          'receiver',
          'gh',
          '--type',
          'github',
          '--event',
          'push',
          '--resource',
          'GitRepository/app',
          '--secret-ref',
          'token',
        ],
        (o) => {
          assert.deepEqual(o.spec.resources, [{ kind: 'GitRepository', name: 'app' }]);
        },
      ],
    ];
    for (const [argv, check] of cases) {
      const r = await runCli([...argv, '--export']);
      assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
      check(load(r.out.replace(/^---\n/, '')) as Manifest);
    }
  });

  it('has one create row per kind, each named in the help', async () => {
    const help = (await runCli(['create', '--help'])).out;
    for (const c of creators)
      assert.ok(help.includes(`tide create ${c.words.join(' ')} <name>`), c.words.join(' '));
  });

  it('completes every command, its words, the words of kind groups and every flag', () => {
    const m = completionModel(commands, globalFlags);
    assert.deepEqual(
      m.commands.map((c) => c.name),
      commands.map((c) => c.name),
    );
    const get = m.commands.find((c) => c.name === 'get');
    assert.ok(get?.words.includes('sources') && get.flags.includes('--watch') && get.flags.includes('-w'));
    assert.deepEqual(get?.subwords.sources, ['all', 'oci', 'bucket', 'git', 'helm', 'chart']);
    assert.deepEqual(m.commands.find((c) => c.name === 'create')?.subwords.secret, [
      'git',
      'helm',
      'oci',
      'tls',
    ]);
    assert.ok(m.global.includes('--kubeconfig') && m.global.includes('-n'));
  });
});
