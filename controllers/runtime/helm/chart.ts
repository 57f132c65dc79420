// A Helm chart in memory, loaded from a directory or a .tgz and written back as a .tgz the way
// Helm's loader and chartutil.Save do: `<name>/Chart.yaml` (re-marshalled, sorted keys), Chart.lock,
// values.yaml, values.schema.json, templates, other files, then each subchart expanded under
// `<name>/charts/<subchart>/`. Unlike Helm the output is deterministic: subcharts sorted by name,
// zero times, fixed modes and owners.
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Header, Parser, Pax, type ReadEntry } from 'tar';
import { parseVersion } from '../semver.ts';
import { HelmError, HelmErrorCode } from './errors.ts';
import { parseHelmignore } from './helmignore.ts';
import { dumpYaml, isMap, parseYaml, yamlErrorMessage } from './yaml.ts';

export interface ChartFile {
  /** Path relative to the chart root, `/`-separated. */
  name: string;
  data: Buffer;
}

export interface ChartDependency {
  name: string;
  version?: string;
  repository?: string;
  alias?: string;
  [field: string]: unknown;
}

export interface ChartMetadata {
  apiVersion: string;
  name: string;
  version: string;
  dependencies?: ChartDependency[];
  [field: string]: unknown;
}

export interface Chart {
  metadata: ChartMetadata;
  /** Chart.lock (or requirements.lock); its dependencies take precedence over Chart.yaml's. */
  lock?: Record<string, unknown>;
  /** values.yaml as written in the chart; absent when the chart has none. */
  values?: Buffer;
  /** values.schema.json, when present. */
  schema?: Buffer;
  templates: ChartFile[];
  /** Every other file: README, .helmignore, NOTES, files read by templates… */
  files: ChartFile[];
  /** Subcharts from charts/ (directories or archives), sorted by name. */
  dependencies: Chart[];
}

/** Helm's limits: 100 MiB expanded per archive, 5 MiB per file. */
export const MAX_EXPANDED_CHART_BYTES = 100 << 20;
export const MAX_CHART_FILE_BYTES = 5 << 20;

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const trimBom = (b: Buffer) => (b.subarray(0, 3).equals(BOM) ? b.subarray(3) : b);

const invalid = (message: string, cause?: unknown) =>
  new HelmError(HelmErrorCode.InvalidChart, message, cause === undefined ? {} : { cause });

function parseYamlFile(file: ChartFile, where: string): unknown {
  try {
    return parseYaml(file.data.toString('utf8'));
  } catch (err) {
    throw invalid(`cannot load ${file.name} of ${where}: ${yamlErrorMessage(err)}`, err);
  }
}

function readMap(file: ChartFile, where: string): Record<string, unknown> {
  const doc = parseYamlFile(file, where);
  if (doc === null) return {};
  if (!isMap(doc)) throw invalid(`cannot load ${file.name} of ${where}: not a YAML map`);
  return doc;
}

function validateMetadata(md: Record<string, unknown>, where: string): ChartMetadata {
  const fail = (msg: string) => invalid(`validation of ${where}: chart.metadata.${msg}`);
  for (const k of ['apiVersion', 'name', 'version', 'type']) {
    if (md[k] !== undefined && md[k] !== null && typeof md[k] !== 'string') {
      throw fail(`${k} must be a string, got ${JSON.stringify(md[k])}`);
    }
  }
  const { apiVersion, name, version, type } = md as Record<string, string | undefined>;
  if (!apiVersion) throw fail('apiVersion is required');
  if (!name) throw fail('name is required');
  if (/[/\\]/.test(name) || name === '.' || name === '..') throw fail(`name "${name}" is invalid`);
  if (!version) throw fail('version is required');
  if (!parseVersion(version)) throw fail(`version "${version}" is invalid`);
  if (type && type !== 'application' && type !== 'library') {
    throw fail('type must be application or library');
  }
  const deps = md.dependencies ?? [];
  if (!Array.isArray(deps) || deps.some((d) => !isMap(d) || typeof d.name !== 'string' || d.name === '')) {
    throw fail('dependencies must be a list of maps with a name');
  }
  const seen = new Set<string>();
  for (const d of deps as ChartDependency[]) {
    const key = d.alias || d.name;
    if (seen.has(key)) throw fail(`dependencies: more than one dependency with name or alias "${key}"`);
    seen.add(key);
  }
  return md as ChartMetadata;
}

interface Parts {
  metadata?: Record<string, unknown>;
  requirements?: ChartDependency[];
  lock?: Record<string, unknown>;
  values?: Buffer;
  schema?: Buffer;
  templates: ChartFile[];
  files: ChartFile[];
  subcharts: Map<string, ChartFile[]>;
}

// Sorts one file into its place, as Helm's loader.LoadFiles.
function place(p: Parts, f: ChartFile, where: string): void {
  if (f.name === 'Chart.yaml') p.metadata = readMap(f, where);
  else if (f.name === 'Chart.lock') p.lock = readMap(f, where);
  else if (f.name === 'values.yaml') {
    readMap(f, where); // reject broken values early, as Helm does
    p.values = f.data;
  } else if (f.name === 'values.schema.json') p.schema = f.data;
  else if (f.name === 'requirements.yaml') {
    const deps = readMap(f, where).dependencies;
    if (deps !== undefined) p.requirements = Array.isArray(deps) ? (deps as ChartDependency[]) : [];
    p.files.push(f); // kept for apiVersion v1 charts, dropped below for v2
  } else if (f.name === 'requirements.lock') {
    p.lock = readMap(f, where);
    p.files.push(f);
  } else if (f.name.startsWith('templates/')) p.templates.push(f);
  else if (f.name.startsWith('charts/') && !f.name.endsWith('.prov')) {
    const rest = f.name.slice('charts/'.length);
    const sub = rest.split('/')[0] ?? rest;
    p.subcharts.set(sub, [...(p.subcharts.get(sub) ?? []), { name: rest, data: f.data }]);
  } else p.files.push(f);
}

async function loadSubchart(key: string, files: ChartFile[], where: string): Promise<Chart | undefined> {
  // Helm skips charts/_foo and charts/.foo.
  if (key.startsWith('_') || key.startsWith('.')) return undefined;
  if (key.endsWith('.tgz')) {
    const f = files[0] as ChartFile;
    return loadChartArchive(f.data, `charts/${key} of ${where}`);
  }
  const inner = files
    .filter((f) => f.name.includes('/'))
    .map((f) => ({ name: f.name.slice(key.length + 1), data: f.data }));
  return loadChartFiles(inner, `charts/${key} of ${where}`);
}

/** Builds a chart from its files (names relative to the chart root), as Helm's loader.LoadFiles. */
export async function loadChartFiles(files: ChartFile[], where = 'chart'): Promise<Chart> {
  const p: Parts = { templates: [], files: [], subcharts: new Map() };
  for (const f of files) place(p, f, where);
  if (!p.metadata) throw invalid(`Chart.yaml file is missing in ${where}`);
  if (!p.metadata.apiVersion) p.metadata.apiVersion = 'v1';
  // Helm reads requirements.yaml into the metadata whatever the apiVersion (with a warning for v2).
  if (p.requirements) p.metadata.dependencies = p.requirements;
  const metadata = validateMetadata(p.metadata, where);
  const v1 = metadata.apiVersion === 'v1';
  const keep = (f: ChartFile) => v1 || (f.name !== 'requirements.yaml' && f.name !== 'requirements.lock');
  const dependencies: Chart[] = [];
  for (const key of [...p.subcharts.keys()].sort()) {
    const sub = await loadSubchart(key, p.subcharts.get(key) ?? [], where);
    if (sub) dependencies.push(sub);
  }
  dependencies.sort((a, b) =>
    a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0,
  );
  const chart: Chart = { metadata, templates: p.templates, files: p.files.filter(keep), dependencies };
  if (p.lock) chart.lock = p.lock;
  if (p.values) chart.values = p.values;
  if (p.schema) chart.schema = p.schema;
  return chart;
}

// ---- directories -----------------------------------------------------------------------------

interface Walk {
  root: string;
  files: ChartFile[];
  /** Real paths of the directories being walked, to stop symlink loops. */
  ancestors: Set<string>;
  ignores: (path: string, isDir: boolean) => boolean;
}

// Follows a symlink, refusing targets outside the root (as Flux's secure loader).
async function followLink(w: Walk, abs: string, rel: string): Promise<string> {
  const target = await realpath(abs).catch((err) => {
    throw invalid(`cannot follow symlink '${rel}' in the chart: ${(err as Error).message}`, err);
  });
  if (target !== w.root && !target.startsWith(w.root + sep)) {
    throw invalid(`symlink '${rel}' in the chart points outside the source`);
  }
  return target;
}

// Walks `dir` (a real path) whose chart-relative path is `relDir`, in Helm's order (sorted names,
// depth first); files in symlinked directories keep the path of the link.
async function walkDir(w: Walk, dir: string, relDir: string): Promise<void> {
  if (w.ancestors.has(dir)) throw invalid(`symlink loop at '${relDir}' in the chart`);
  w.ancestors.add(dir);
  for (const name of (await readdir(dir)).sort()) {
    const abs = join(dir, name);
    const rel = relDir ? `${relDir}/${name}` : name;
    let st = await lstat(abs);
    const target = st.isSymbolicLink() ? await followLink(w, abs, rel) : abs;
    if (target !== abs) st = await stat(target);
    if (st.isDirectory()) {
      if (!w.ignores(rel, true)) await walkDir(w, target, rel);
      continue;
    }
    if (w.ignores(rel, false)) continue;
    if (!st.isFile()) throw invalid(`cannot load irregular file '${rel}' in the chart`);
    if (st.size > MAX_CHART_FILE_BYTES) {
      throw invalid(`file '${rel}' in the chart is larger than ${MAX_CHART_FILE_BYTES} bytes`);
    }
    w.files.push({ name: rel, data: trimBom(await readFile(target)) });
  }
  w.ancestors.delete(dir);
}

/**
 * Loads a chart directory honouring its .helmignore. Symlinks are followed while they stay inside
 * `rootDir` (the source the chart comes from; the chart directory itself by default).
 */
export async function loadChartDir(chartDir: string, rootDir = chartDir): Promise<Chart> {
  const root = await realpath(rootDir);
  const dir = await realpath(chartDir).catch((err) => {
    throw invalid(`no chart directory at '${chartDir}'`, err);
  });
  if (dir !== root && !dir.startsWith(root + sep)) throw invalid('the chart directory is outside the source');
  if (!(await stat(dir)).isDirectory()) throw invalid(`'${chartDir}' is not a directory`);
  const ignoreText = await readFile(join(dir, '.helmignore'), 'utf8').catch(() => '');
  let rules: ReturnType<typeof parseHelmignore>;
  try {
    rules = parseHelmignore(ignoreText);
  } catch (err) {
    throw invalid(`invalid .helmignore: ${(err as Error).message}`, err);
  }
  const w: Walk = { root, files: [], ancestors: new Set(), ignores: rules.ignores };
  await walkDir(w, dir, '');
  return loadChartFiles(w.files, `chart '${relative(root, dir) || '.'}'`);
}

// ---- archives --------------------------------------------------------------------------------

function untar(tar: Buffer): Promise<{ path: string; data: Buffer }[]> {
  const out: { path: string; data: Buffer }[] = [];
  return new Promise((resolve, reject) => {
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') {
          entry.resume();
          return;
        }
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => out.push({ path: entry.path, data: Buffer.concat(chunks) }));
      },
    });
    parser.on('error', reject);
    parser.on('end', () => resolve(out));
    parser.end(tar);
  });
}

/** The files of a chart archive with their full paths (`<name>/…`), in archive order. */
export async function readArchiveFiles(archive: Buffer, where = 'chart archive'): Promise<ChartFile[]> {
  let tar: Buffer;
  try {
    tar = gunzipSync(archive, { maxOutputLength: MAX_EXPANDED_CHART_BYTES });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new HelmError(
        HelmErrorCode.TooLarge,
        `${where} expands beyond ${MAX_EXPANDED_CHART_BYTES} bytes`,
      );
    }
    throw invalid(`${where} is not a gzip-compressed chart: ${(err as Error).message}`, err);
  }
  const entries = await untar(tar).catch((err) => {
    throw invalid(`${where} is not a valid tar archive: ${(err as Error).message}`, err);
  });
  return entries.map((e) => ({ name: e.path, data: e.data }));
}

/** Loads a packaged chart (.tgz), as Helm's loader.LoadArchive. */
export async function loadChartArchive(archive: Buffer, where = 'chart archive'): Promise<Chart> {
  const files: ChartFile[] = [];
  for (const f of await readArchiveFiles(archive, where)) {
    const parts = f.name.replace(/\\/g, '/').split('/');
    if (parts.length === 1 && parts[0] === 'Chart.yaml')
      throw invalid(`${where}: Chart.yaml not in base directory`);
    const name = parts.slice(1).join('/');
    const segments = name.split('/').filter((s) => s !== '' && s !== '.');
    if (segments.length === 0) continue;
    if (name.startsWith('/') || segments.includes('..')) {
      throw invalid(`${where} illegally references a path outside the chart: '${f.name}'`);
    }
    if (f.data.length > MAX_CHART_FILE_BYTES) {
      throw invalid(`file '${f.name}' in ${where} is larger than ${MAX_CHART_FILE_BYTES} bytes`);
    }
    files.push({ name: segments.join('/'), data: trimBom(f.data) });
  }
  if (files.length === 0) throw invalid(`no files in ${where}`);
  return loadChartFiles(files, where);
}

// ---- writing ---------------------------------------------------------------------------------

// Helm's chart.Metadata fields; Chart.yaml is re-marshalled from them, so unknown keys drop out.
const METADATA_FIELDS = [
  'name',
  'home',
  'sources',
  'version',
  'description',
  'keywords',
  'maintainers',
  'icon',
  'apiVersion',
  'condition',
  'tags',
  'appVersion',
  'deprecated',
  'annotations',
  'kubeVersion',
  'dependencies',
  'type',
];
const DEPENDENCY_FIELDS = [
  'name',
  'version',
  'repository',
  'condition',
  'tags',
  'enabled',
  'import-values',
  'alias',
];

const isEmpty = (v: unknown) =>
  v === undefined ||
  v === null ||
  v === '' ||
  v === false ||
  (Array.isArray(v) && v.length === 0) ||
  (isMap(v) && Object.keys(v).length === 0);

function pick(
  src: Record<string, unknown>,
  fields: string[],
  always: string[] = [],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (always.includes(f)) out[f] = src[f] ?? '';
    else if (!isEmpty(src[f])) out[f] = src[f];
  }
  return out;
}

/** Chart.yaml as Helm writes it into a package. */
function chartYaml(metadata: ChartMetadata): string {
  const md = pick(metadata, METADATA_FIELDS);
  // Dependencies of a v1 chart live in requirements.yaml, which is kept as a file.
  if (metadata.apiVersion === 'v1') delete md.dependencies;
  else if (Array.isArray(md.dependencies)) {
    md.dependencies = (md.dependencies as Record<string, unknown>[]).map((d) =>
      pick(d, DEPENDENCY_FIELDS, ['name', 'repository']),
    );
  }
  return dumpYaml(md);
}

function tarEntry(path: string, data: Buffer): Buffer[] {
  const fields = {
    path,
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: data.length,
    mtime: new Date(0),
    type: 'File' as const,
  };
  const header = new Header(fields);
  const block = Buffer.alloc(512);
  header.encode(block, 0);
  // Names longer than ustar allows go in a PAX header first.
  const pax = header.needPax ? [new Pax(fields).encode()] : [];
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return [...pax, block, data, pad];
}

function chartEntries(chart: Chart, prefix: string): Buffer[] {
  const base = `${prefix}${chart.metadata.name}/`;
  const out: Buffer[] = [...tarEntry(`${base}Chart.yaml`, Buffer.from(chartYaml(chart.metadata)))];
  if (chart.lock && chart.metadata.apiVersion !== 'v1') {
    const lock = pick(chart.lock, ['dependencies', 'digest', 'generated'], ['digest', 'generated']);
    out.push(...tarEntry(`${base}Chart.lock`, Buffer.from(dumpYaml(lock))));
  }
  if (chart.values) out.push(...tarEntry(`${base}values.yaml`, chart.values));
  if (chart.schema) {
    try {
      JSON.parse(chart.schema.toString('utf8'));
    } catch {
      throw invalid(`invalid JSON in values.schema.json of chart '${chart.metadata.name}'`);
    }
    out.push(...tarEntry(`${base}values.schema.json`, chart.schema));
  }
  for (const f of [...chart.templates, ...chart.files]) out.push(...tarEntry(`${base}${f.name}`, f.data));
  for (const dep of chart.dependencies) out.push(...chartEntries(dep, `${base}charts/`));
  return out;
}

/** Writes a chart as a gzipped tar laid out like `helm package`; same chart, same bytes. */
export function writeChartArchive(chart: Chart): Buffer {
  const tar = Buffer.concat([...chartEntries(chart, ''), Buffer.alloc(1024)]);
  return gzipSync(tar, { level: 9 });
}

/** Reads and validates Chart.yaml of a packaged chart without keeping the rest. */
export async function readChartMetadata(archive: Buffer, where = 'chart archive'): Promise<ChartMetadata> {
  return (await loadChartArchive(archive, where)).metadata;
}
