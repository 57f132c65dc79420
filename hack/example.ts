// The documented example for `make run` on the local control plane: docs/example/gitops-repo served
// from a local Git server (git http-backend on loopback, basic auth) and synced by a GitRepository
// and one Kustomization per environment in flux-system, as `flux bootstrap` would set them up; and an
// image automation: a local registry holding tags of example/backend, an ImagePolicy picking the
// newest 1.x, and an ImageUpdateAutomation committing it to the backend Deployment's marked image.

import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '../controllers/runtime/client.ts';
import { type GitHttpServer, startGitHttpServer } from './testbed/gitserver.ts';
import { freePort, run } from './testbed/proc.ts';
import { pushImage, type Registry, startRegistry } from './testbed/registry.ts';
import { hackDir } from './testbed/tools.ts';

export const exampleDir = join(hackDir, '..', 'docs', 'example', 'gitops-repo');
export const environments = ['dev', 'staging', 'prod'] as const;
const namespace = 'flux-system';

const gitEnv = {
  ...process.env,
  GIT_TERMINAL_PROMPT: '0',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

/** How the example's files name the registry; the seeded repository names the local one. */
const exampleRegistry = 'localhost:5000';
const backendTags = ['1.0.0', '1.1.0', '2.0.0-rc.1'];

/**
 * The example registry, on the port it got the first time (the seeded repository names it), with
 * the backend's tags. Undefined without docker-registry (`make deps` installs it).
 */
async function startExampleRegistry(stateDir: string): Promise<Registry | undefined> {
  const dir = join(stateDir, 'registry');
  const portFile = join(dir, 'port');
  const port = existsSync(portFile) ? Number(await readFile(portFile, 'utf8')) : await freePort();
  let registry: Registry;
  try {
    registry = await startRegistry(dir, port);
  } catch (err) {
    console.error(`tide: no image automation example: ${(err as Error).message}`);
    return undefined;
  }
  await writeFile(portFile, String(port));
  await pushImage(registry, 'example/backend', backendTags);
  return registry;
}

/** Creates the example repository on first use; later runs keep what was pushed to it. */
async function seedRepo(git: GitHttpServer, registryHost: string): Promise<string> {
  const bare = join(git.root, 'gitops-repo.git');
  const url = `${git.url}/gitops-repo.git`;
  if (existsSync(bare)) return url;
  await git.createRepo('gitops-repo');
  const work = await mkdtemp(join(git.root, '..', 'seed-'));
  try {
    await cp(exampleDir, work, { recursive: true });
    const deployment = join(work, 'apps', 'backend', 'base', 'deployment.yaml');
    await writeFile(deployment, (await readFile(deployment, 'utf8')).replace(exampleRegistry, registryHost));
    const g = (...args: string[]) =>
      run('git', ['-c', 'user.name=Tide', '-c', 'user.email=tide@localhost', '-C', work, ...args], {
        env: gitEnv,
      });
    await g('init', '-q', '-b', 'main');
    await g('add', '-A');
    await g('commit', '-q', '-m', 'Add the example apps and clusters');
    await g('push', '-q', url.replace('http://', `http://${git.username}:${git.password}@`), 'main');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return url;
}

export interface Example {
  gitUrl: string;
  /** The local registry (`host:port`), when docker-registry is installed. */
  registryHost?: string;
  close(): Promise<void>;
}

/**
 * Starts the example's Git server (in this process) and registry, and applies flux-system/gitops-repo,
 * the Kustomizations apps-dev, apps-staging and apps-prod, and the backend's image automation.
 */
export async function startExample(client: Client, stateDir: string): Promise<Example> {
  const git = await startGitHttpServer(join(stateDir, 'git'), 'tide', 'tide-example');
  const registry = await startExampleRegistry(stateDir);
  const url = await seedRepo(git, registry?.host ?? exampleRegistry);
  const apply = (obj: Record<string, unknown>) => client.apply(obj as never, { force: true });
  await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  await apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'gitops-repo-auth', namespace },
    stringData: { username: git.username, password: git.password },
  });
  await apply({
    apiVersion: 'source.toolkit.fluxcd.io/v1',
    kind: 'GitRepository',
    metadata: { name: 'gitops-repo', namespace },
    spec: { url, interval: '1m', ref: { branch: 'main' }, secretRef: { name: 'gitops-repo-auth' } },
  });
  for (const env of environments) {
    await apply({
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: { name: `apps-${env}`, namespace },
      spec: {
        interval: '10m',
        retryInterval: '30s',
        timeout: '2m',
        path: `./clusters/${env}`,
        prune: true,
        wait: true,
        sourceRef: { kind: 'GitRepository', name: 'gitops-repo' },
      },
    });
  }
  if (registry) await applyImageAutomation(apply, registry.host);
  return {
    gitUrl: url,
    registryHost: registry?.host,
    close: async () => {
      await Promise.all([git.close(), registry?.close()]);
    },
  };
}

/** The backend's ImageRepository, ImagePolicy (newest 1.x) and the automation that commits it. */
async function applyImageAutomation(apply: (obj: Record<string, unknown>) => Promise<unknown>, host: string) {
  const image = (kind: string, name: string, spec: Record<string, unknown>) =>
    apply({ apiVersion: 'image.toolkit.fluxcd.io/v1', kind, metadata: { name, namespace }, spec });
  await image('ImageRepository', 'backend', { image: `${host}/example/backend`, interval: '1m' });
  await image('ImagePolicy', 'backend', {
    imageRepositoryRef: { name: 'backend' },
    policy: { semver: { range: '1.x' } },
  });
  await image('ImageUpdateAutomation', 'gitops-repo', {
    sourceRef: { kind: 'GitRepository', name: 'gitops-repo' },
    interval: '10m',
    git: {
      checkout: { ref: { branch: 'main' } },
      commit: {
        author: { name: 'Tide', email: 'tide@localhost' },
        messageTemplate:
          'Update images\n\n{{ range .Changed.Changes }}- {{ .OldValue }} -> {{ .NewValue }}\n{{ end }}',
      },
      push: { branch: 'main' },
    },
    update: { strategy: 'Setters', path: './apps' },
  });
}
