// The image definition (Dockerfile at the root) cannot be built here (no container engine); what can
// be checked is checked: the pinned versions equal hack/versions.env and the Node the project runs on,
// it runs as the non-root user the chart's pods run as, and what it starts exists.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chartComponents } from '../../../controllers/cli/install/components.ts';
import { parseYaml } from '../../../controllers/runtime/helm/yaml.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
const arg = (name: string) => new RegExp(`^ARG ${name}=(\\S+)$`, 'm').exec(dockerfile)?.[1];

describe('the image (Dockerfile)', () => {
  it("pins helm, kustomize and sops at the versions of hack/versions.env, and the project's Node", () => {
    const env = readFileSync(join(root, 'hack', 'versions.env'), 'utf8');
    for (const tool of ['HELM', 'KUSTOMIZE', 'SOPS'])
      assert.equal(arg(`${tool}_VERSION`), new RegExp(`^${tool}_VERSION=(\\S+)$`, 'm').exec(env)?.[1], tool);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    assert.equal(arg('NODE_VERSION'), pkg.devDependencies.node);
    assert.match(dockerfile, /FROM node:\$\{NODE_VERSION\}-bookworm-slim\n/);
    assert.match(dockerfile, /apt-get install -y --no-install-recommends git openssh-client ca-certificates/);
    assert.match(
      dockerfile,
      /COPY --from=tools \/out\/helm \/out\/kustomize \/out\/sops \/usr\/local\/bin\//,
    );
  });

  it('runs as the non-root user the chart runs its pods as', () => {
    const users = [...dockerfile.matchAll(/^USER (\S+)$/gm)].map((m) => m[1]);
    assert.equal(users.at(-1), '65532:65532');
    const deployments = readFileSync(join(root, 'charts', 'tide', 'templates', 'deployments.yaml'), 'utf8');
    assert.match(deployments, /runAsUser: 65532\n\s+runAsGroup: 65532/);
  });

  it('has the tool paths the chart passes to the controllers', () => {
    const values = parseYaml(readFileSync(join(root, 'charts', 'tide', 'values.yaml'), 'utf8')) as {
      tools: Record<string, string>;
    };
    for (const [tool, path] of Object.entries(values.tools))
      assert.equal(path, `/usr/local/bin/${tool}`, tool);
  });

  it('compiles every controller it starts: dist/controllers/<key>/main.js comes from controllers/<key>/main.ts', () => {
    const build = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8'));
    assert.ok(build.include.includes('controllers'));
    assert.match(dockerfile, /COPY --from=build \/app\/dist dist\n/);
    const cmd = /^CMD \["(dist\/[^"]+)"/m.exec(dockerfile)?.[1];
    assert.equal(cmd, 'dist/controllers/cli/main.js');
    assert.ok(existsSync(join(root, 'controllers', 'cli', 'main.ts')));
    const available = chartComponents().filter((c) => c.available);
    assert.ok(available.length >= 3, 'source, kustomize and notification at least');
    for (const c of available) assert.ok(existsSync(join(root, 'controllers', c.key, 'main.ts')), c.key);
  });
});
