// A working copy of a repository on the test bed's Git server, for tests that make commits and tags.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { run } from '../../hack/testbed/proc.ts';
import { testbed } from './testbed.ts';

const env = {
  ...process.env,
  GIT_TERMINAL_PROMPT: '0',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

export interface WorkRepo {
  /** Clone URL without credentials. */
  url: string;
  /** Absolute path of the bare repository on the server (for ssh:// URLs). */
  barePath: string;
  git(...args: string[]): Promise<string>;
  /** Writes files (path → content; null deletes), commits and pushes; returns the commit sha. */
  commit(
    files: Record<string, string | Uint8Array | null>,
    message?: string,
    branch?: string,
  ): Promise<string>;
  tag(name: string, opts?: { annotated?: boolean; ref?: string }): Promise<void>;
}

export async function createWorkRepo(name: string): Promise<WorkRepo> {
  const tb = testbed();
  const url = await tb.git.createRepo(name);
  const dir = await mkdtemp(join(tb.dir, `work-${name}-`));
  const authed = url.replace('http://', `http://${tb.git.username}:${tb.git.password}@`);
  const git = (...args: string[]) =>
    run('git', ['-c', 'user.name=Tide Test', '-c', 'user.email=test@tide.invalid', '-C', dir, ...args], {
      env,
    });
  await git('init', '-q', '-b', 'main');
  await git('remote', 'add', 'origin', authed);
  let first = true;
  return {
    url,
    barePath: join(tb.git.root, `${name}.git`),
    git,
    async commit(files, message = 'update', branch = 'main') {
      if (first) first = false;
      else await git('checkout', '-q', '-B', branch, ...(await currentOr(git, branch)));
      for (const [path, content] of Object.entries(files)) {
        const abs = join(dir, path);
        if (content === null) await rm(abs, { force: true, recursive: true });
        else {
          await mkdir(dirname(abs), { recursive: true });
          await writeFile(abs, content);
        }
      }
      await git('add', '-A');
      await git('commit', '-q', '--allow-empty', '-m', message);
      await git('push', '-q', '-f', 'origin', `HEAD:refs/heads/${branch}`);
      return (await git('rev-parse', 'HEAD')).trim();
    },
    async tag(tagName, opts = {}) {
      const args = opts.annotated ? ['tag', '-a', '-m', tagName, tagName] : ['tag', tagName];
      await git(...args, ...(opts.ref ? [opts.ref] : []));
      await git('push', '-q', 'origin', `refs/tags/${tagName}`);
    },
  };
}

// Start a branch from the remote branch when it exists, else from the current HEAD.
async function currentOr(git: (...a: string[]) => Promise<string>, branch: string): Promise<string[]> {
  const remote = await git('ls-remote', '--heads', 'origin', branch);
  if (!remote.trim()) return [];
  await git('fetch', '-q', 'origin', branch);
  return ['FETCH_HEAD'];
}
