// An OCI registry: Debian's docker-registry (distribution v2) on loopback, storing on disk; the test
// bed's and the `make run` example's.
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, poll, stopGroup } from './proc.ts';

export interface Registry {
  pid: number;
  /** host:port, as image references use it. */
  host: string;
  url: string;
  close(): Promise<void>;
}

const binary = process.env.TIDE_REGISTRY_BIN ?? '/usr/bin/docker-registry';

/** Starts a registry storing under `dir`, on `port` (a free one by default). */
export async function startRegistry(dir: string, port?: number): Promise<Registry> {
  await mkdir(join(dir, 'data'), { recursive: true });
  port ??= await freePort();
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log: {level: warn}',
      `storage: {filesystem: {rootdirectory: ${join(dir, 'data')}}, delete: {enabled: true}}`,
      `http: {addr: 127.0.0.1:${port}}`,
    ].join('\n'),
  );
  const child = spawn(binary, ['serve', config], { detached: true, stdio: 'ignore' });
  const pid = child.pid;
  if (!pid) throw new Error(`could not start ${binary}`);
  const url = `http://127.0.0.1:${port}`;
  await poll(`registry on port ${port}`, 20_000, async () => {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode})`);
    return (await fetch(`${url}/v2/`)).ok ? true : undefined;
  });
  return { pid, host: `127.0.0.1:${port}`, url, close: () => stopGroup(pid, 5_000) };
}

/** Pushes an empty single-platform image manifest under each tag, with the registry's HTTP API. */
export async function pushImage(reg: Registry, repo: string, tags: string[]): Promise<string> {
  const config = Buffer.from(
    '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}',
  );
  const { createHash } = await import('node:crypto');
  const digest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
  const start = await fetch(`${reg.url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) throw new Error(`blob upload start: ${start.status}`);
  const loc = new URL(start.headers.get('location') ?? '', reg.url);
  loc.searchParams.set('digest', digest);
  const put = await fetch(loc, {
    method: 'PUT',
    body: config,
    headers: { 'content-type': 'application/octet-stream' },
  });
  if (put.status !== 201) throw new Error(`blob upload: ${put.status} ${await put.text()}`);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest, size: config.length },
    layers: [],
  });
  let manifestDigest = '';
  for (const tag of tags) {
    const res = await fetch(`${reg.url}/v2/${repo}/manifests/${tag}`, {
      method: 'PUT',
      body: manifest,
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    });
    if (res.status !== 201) throw new Error(`manifest ${tag}: ${res.status} ${await res.text()}`);
    manifestDigest = res.headers.get('docker-content-digest') ?? '';
  }
  return manifestDigest;
}
