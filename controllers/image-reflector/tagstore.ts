// The tags of each ImageRepository on disk (Flux's filesystem tag storage): one file per repository,
// `imagerepository/<namespace>/<name>/tags.txt`, one tag per line, gzipped as `tags.txt.gz` once it
// passes a size threshold. ImagePolicies read what the last scan stored, and a restarted controller
// finds the tags again instead of rescanning every repository at once. Writes are atomic (temporary
// file, rename), so a reader sees the old list or the new one, never a part.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

export interface TagStore {
  /** The stored tags in the order they were stored; [] when there are none. */
  tags(namespace: string, name: string): Promise<string[]>;
  /** Replaces the tags and returns their revision: `sha256:<hex>` of the `tag\n` lines. */
  setTags(namespace: string, name: string, tags: readonly string[]): Promise<string>;
  delete(namespace: string, name: string): Promise<void>;
}

export interface TagStoreOptions {
  /** The controller's --storage-path. */
  root: string;
  /** Lists of at least this many bytes are gzipped (Flux's --storage-compression-threshold, 64 KiB). */
  compressionThreshold?: number;
}

const plain = 'tags.txt';
const gzipped = 'tags.txt.gz';

/** The revision of a tag list, as Flux computes it (stable for the same tags in the same order). */
export function tagsRevision(tags: readonly string[]): string {
  return `sha256:${createHash('sha256').update(serialize(tags)).digest('hex')}`;
}

const serialize = (tags: readonly string[]) => Buffer.from(tags.map((t) => `${t}\n`).join(''));

// Kubernetes names never hold `/`; checked so that no name can reach outside the store.
function segment(what: string, value: string): string {
  if (value === '' || value === '.' || value === '..' || /[/\\\0]/.test(value))
    throw new Error(`invalid ${what} '${value}' for the tag store`);
  return value;
}

const mtime = async (path: string) => (await stat(path).catch(() => undefined))?.mtimeMs;

export function createTagStore(opts: TagStoreOptions): TagStore {
  const threshold = opts.compressionThreshold ?? 64 * 1024;
  const dirOf = (namespace: string, name: string) =>
    join(opts.root, 'imagerepository', segment('namespace', namespace), segment('name', name));

  async function read(path: string, compressed: boolean): Promise<string[] | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const text = (compressed ? gunzipSync(bytes) : bytes).toString('utf8');
    return text.split('\n').filter((line) => line !== '');
  }

  return {
    async tags(namespace, name) {
      const dir = dirOf(namespace, name);
      const [p, g] = [join(dir, plain), join(dir, gzipped)];
      // Both exist only while a write that switched format is finishing: the newer one is current.
      const [pt, gt] = await Promise.all([mtime(p), mtime(g)]);
      const first = gt !== undefined && (pt === undefined || gt > pt);
      const order: [string, boolean][] = first
        ? [
            [g, true],
            [p, false],
          ]
        : [
            [p, false],
            [g, true],
          ];
      for (const [path, compressed] of order) {
        const tags = await read(path, compressed);
        if (tags) return tags;
      }
      return [];
    },

    async setTags(namespace, name, tags) {
      const dir = dirOf(namespace, name);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const data = serialize(tags);
      const compress = data.length >= threshold;
      const file = compress ? gzipped : plain;
      const tmp = join(dir, `.${file}.${randomBytes(6).toString('hex')}.tmp`);
      try {
        await writeFile(tmp, compress ? gzipSync(data, { level: 9 }) : data, { mode: 0o600 });
        await rename(tmp, join(dir, file));
      } finally {
        await rm(tmp, { force: true });
      }
      await rm(join(dir, compress ? plain : gzipped), { force: true });
      return tagsRevision(tags);
    },

    async delete(namespace, name) {
      await rm(dirOf(namespace, name), { recursive: true, force: true });
    },
  };
}
