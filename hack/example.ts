// The documented example for `make run` on the local control plane: docs/example/gitops-repo served
// from a local Git server (git http-backend on loopback, basic auth) and synced by a GitRepository
// and one Kustomization per environment in flux-system, as `flux bootstrap` would set them up.

import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '../controllers/runtime/client.ts';
import { type GitHttpServer, startGitHttpServer } from './testbed/gitserver.ts';
import { run } from './testbed/proc.ts';
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

/** Creates the example repository on first use; later runs keep what was pushed to it. */
async function seedRepo(git: GitHttpServer): Promise<string> {
  const bare = join(git.root, 'gitops-repo.git');
  const url = `${git.url}/gitops-repo.git`;
  if (existsSync(bare)) return url;
  await git.createRepo('gitops-repo');
  const work = await mkdtemp(join(git.root, '..', 'seed-'));
  try {
    await cp(exampleDir, work, { recursive: true });
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

/**
 * Starts the example's Git server (in this process) and applies flux-system/gitops-repo plus the
 * Kustomizations apps-dev, apps-staging and apps-prod. Returns the server so the caller can stop it.
 */
export async function startExample(client: Client, stateDir: string): Promise<GitHttpServer> {
  const git = await startGitHttpServer(join(stateDir, 'git'), 'tide', 'tide-example');
  const url = await seedRepo(git);
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
  return git;
}
