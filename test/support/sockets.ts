// Which TCP/UDP addresses a set of processes listens on, read from /proc (Linux).
import { readdir, readFile, readlink } from 'node:fs/promises';

/** The pids given plus all their descendants. */
export async function withDescendants(pids: number[]): Promise<number[]> {
  const parent = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Field 4 (ppid) follows the command name, which is in parentheses and may hold spaces.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid) parent.set(Number(entry), ppid);
  }
  const all = new Set(pids);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parent) {
      if (all.has(ppid) && !all.has(pid)) {
        all.add(pid);
        grew = true;
      }
    }
  }
  return [...all];
}

function decodeAddress(hex: string): string {
  const [ip = '', port = ''] = hex.split(':');
  const p = Number.parseInt(port, 16);
  if (ip.length === 8) {
    const bytes = ip
      .match(/../g)!
      .map((b) => Number.parseInt(b, 16))
      .reverse();
    return `${bytes.join('.')}:${p}`;
  }
  // IPv6: four little-endian 32-bit words.
  const words = ip.match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().join(''));
  const groups = words
    .join('')
    .match(/.{4}/g)!
    .map((g) => g.replace(/^0+(?=.)/, ''));
  return `[${groups.join(':')}]:${p}`;
}

export interface Listener {
  pid: number;
  proto: string;
  address: string;
}

/** Listening TCP sockets and bound UDP sockets held by the given processes. */
export async function listeners(pids: number[]): Promise<Listener[]> {
  const table = new Map<string, { proto: string; address: string }>();
  for (const proto of ['tcp', 'tcp6', 'udp', 'udp6']) {
    const text = await readFile(`/proc/net/${proto}`, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const state = f[3];
      // TCP: only LISTEN (0A). UDP: any bound socket (07 = unconnected).
      if (proto.startsWith('tcp') ? state !== '0A' : state !== '07') continue;
      table.set(f[9]!, { proto, address: decodeAddress(f[1]!) });
    }
  }
  const out: Listener[] = [];
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      const hit = inode && table.get(inode);
      if (hit) out.push({ pid, ...hit });
    }
  }
  return out;
}

export const isLoopback = (address: string) =>
  address.startsWith('127.') || address.startsWith('[0:0:0:0:0:0:0:1]');
