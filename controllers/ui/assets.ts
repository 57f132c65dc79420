// The dashboard's front-end: index.html, app.js and app.css, bundled by esbuild from controllers/ui/web
// at build time (`npm run build` writes dist/controllers/ui/assets) and served from the package; nothing
// loads from elsewhere. Run from sources (`npm run tide -- ui`), the sources are bundled in memory.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

export interface Assets {
  get(name: string): Asset | undefined;
}

const types: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  map: 'application/json',
};

const webDir = join(import.meta.dirname, 'web');
/** Where `npm run build` puts the bundle, beside the compiled server. */
const builtDir = join(import.meta.dirname, 'assets');

function fromFiles(files: Map<string, Buffer>): Assets {
  const assets = new Map<string, Asset>();
  for (const [name, body] of files) {
    const ext = name.slice(name.lastIndexOf('.') + 1);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    assets.set(name, { body, type: types[ext] ?? 'application/octet-stream', etag });
  }
  return { get: (name) => assets.get(name) };
}

/** Bundles the front-end with esbuild (a devDependency, so only at build time or from sources). */
export async function bundleUi(opts: { minify?: boolean } = {}): Promise<Map<string, Buffer>> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: { app: join(webDir, 'main.tsx') },
    bundle: true,
    write: false,
    outdir: '/out',
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    minify: opts.minify ?? true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'linked',
    logLevel: 'silent',
  });
  const files = new Map<string, Buffer>();
  for (const f of result.outputFiles) files.set(f.path.replace(/^\/out\//, ''), Buffer.from(f.contents));
  files.set('index.html', await readFile(join(webDir, 'index.html')));
  return files;
}

/** Writes the bundle into `dir` (the build step). */
export async function writeUi(dir: string = builtDir): Promise<string[]> {
  const files = await bundleUi();
  await mkdir(dir, { recursive: true });
  for (const [name, body] of files) await writeFile(join(dir, name), body);
  return [...files.keys()];
}

async function readDir(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const name of await readdir(dir)) files.set(name, await readFile(join(dir, name)));
  return files;
}

/** Run from sources, a fresh bundle of the sources; compiled, the bundle the build wrote beside it. */
export async function loadAssets(): Promise<Assets> {
  if (import.meta.filename.endsWith('.ts') && existsSync(join(webDir, 'main.tsx')))
    return fromFiles(await bundleUi());
  if (existsSync(join(builtDir, 'app.js'))) return fromFiles(await readDir(builtDir));
  throw new Error(`the dashboard bundle is missing (${builtDir}); run npm run build`);
}
