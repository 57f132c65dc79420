// An SSH Git server: the real OpenSSH sshd on loopback with key auth only, serving the same bare
// repositories as the HTTP server (clone URL ssh://USER@127.0.0.1:PORT/<absolute path>).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, poll, run, stopGroup } from '../../hack/testbed/proc.ts';

export interface SshGitServer {
  pid: number;
  port: number;
  user: string;
  /** Client private key that sshd accepts. */
  clientKey: string;
  /** A known_hosts line for the server's host key. */
  knownHosts: string;
  /** ssh:// clone URL of a bare repository at an absolute path. */
  urlFor(repoPath: string): string;
  close(): Promise<void>;
}

const sshd = process.env.TIDE_SSHD_BIN ?? '/usr/sbin/sshd';

export async function startSshGitServer(dir: string): Promise<SshGitServer> {
  await mkdir(dir, { recursive: true });
  const hostKey = join(dir, 'hostkey');
  const clientKey = join(dir, 'client');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey]);
  await writeFile(join(dir, 'authorized_keys'), await readFile(`${clientKey}.pub`), { mode: 0o600 });
  const port = await freePort();
  const user = userInfo().username;
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKey}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'StrictModes no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'PermitRootLogin prohibit-password',
    `AllowUsers ${user}`,
    'Subsystem sftp internal-sftp',
  ].join('\n');
  await writeFile(join(dir, 'sshd_config'), `${config}\n`);
  // sshd refuses to start without its privilege-separation directory.
  await mkdir('/run/sshd', { recursive: true }).catch(() => {});
  const child: ChildProcess = spawn(
    sshd,
    ['-D', '-f', join(dir, 'sshd_config'), '-E', join(dir, 'sshd.log')],
    {
      detached: true,
      stdio: 'ignore',
    },
  );
  const pid = child.pid;
  if (!pid) throw new Error(`could not start ${sshd}`);
  const hostPub = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(' ').slice(0, 2).join(' ');
  const knownHosts = `[127.0.0.1]:${port} ${hostPub}\n`;
  await poll(`sshd on port ${port}`, 20_000, async () => {
    if (child.exitCode !== null)
      throw new Error(`sshd exited (${child.exitCode}); see ${join(dir, 'sshd.log')}`);
    const out = await run('ssh-keyscan', ['-p', String(port), '-T', '2', '127.0.0.1']).catch(() => '');
    return out.includes('ssh-ed25519') ? true : undefined;
  });
  return {
    pid,
    port,
    user,
    clientKey,
    knownHosts,
    urlFor: (repoPath) => `ssh://${user}@127.0.0.1:${port}${repoPath}`,
    close: () => stopGroup(pid, 5_000),
  };
}
