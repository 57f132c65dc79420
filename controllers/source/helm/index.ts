// A Helm repository index (index.yaml): parsing and validation as Flux does it, version selection,
// chart URL resolution and the chart download.
import { createHash } from 'node:crypto';
import { HelmError, HelmErrorCode } from '../../runtime/helm/errors.ts';
import { isMap, parseYaml, yamlErrorMessage } from '../../runtime/helm/yaml.ts';
import {
  compareVersions,
  parseConstraint,
  parseStrictVersion,
  parseVersion,
  type SemVer,
} from '../../runtime/semver.ts';
import { type HelmHttpOptions, httpGet, parseHttpUrl, redactUrl } from './http.ts';

/** One chart version of an index entry: the chart's metadata plus where to download it. */
export interface ChartVersion {
  name: string;
  version: string;
  apiVersion: string;
  urls: string[];
  /** Hex SHA-256 of the chart archive, as `helm repo index` writes it. */
  digest?: string;
  created?: string;
  appVersion?: string;
  description?: string;
  [field: string]: unknown;
}

export interface HelmIndex {
  apiVersion: string;
  generated?: string;
  /** Chart name → versions, highest first. */
  entries: Record<string, ChartVersion[]>;
  [field: string]: unknown;
}

/** Flux's limits (source-controller internal/helm): index 50 MiB, chart archive 10 MiB. */
export const MAX_INDEX_BYTES = 50 << 20;
export const MAX_CHART_BYTES = 10 << 20;

function invalidIndex(message: string, source: string): HelmError {
  return new HelmError(HelmErrorCode.InvalidIndex, `${message} (${source})`);
}

// The checks of Helm's chart.Metadata.Validate that matter for an index entry; failing entries are
// dropped, as Flux does, instead of failing the whole index.
function validEntry(raw: unknown): ChartVersion | undefined {
  if (!isMap(raw)) return undefined;
  const { name, version } = raw;
  if (typeof name !== 'string' || name === '' || /[/\\]/.test(name) || name === '.' || name === '..') {
    return undefined;
  }
  if (typeof version !== 'string' || !parseVersion(version)) return undefined;
  const urls = Array.isArray(raw.urls) ? raw.urls.filter((u): u is string => typeof u === 'string') : [];
  const apiVersion = typeof raw.apiVersion === 'string' && raw.apiVersion !== '' ? raw.apiVersion : 'v1';
  return { ...raw, name, version, apiVersion, urls };
}

// Helm's SortEntries: highest version first, unparsable versions last; stable for equal versions.
function sortVersions(versions: ChartVersion[]): ChartVersion[] {
  const keyed = versions.map((cv) => ({ cv, v: parseVersion(cv.version) }));
  keyed.sort((a, b) => {
    if (!a.v || !b.v) return a.v ? -1 : b.v ? 1 : 0;
    return compareVersions(b.v, a.v);
  });
  return keyed.map((k) => k.cv);
}

/**
 * Parses index.yaml (or its JSON form) as Flux's IndexFromBytes: the apiVersion must be set,
 * invalid chart versions are dropped and each entry is sorted highest version first.
 * `source` names the index in messages (its URL).
 */
export function parseIndex(data: Buffer | string, source = 'index.yaml'): HelmIndex {
  const text = typeof data === 'string' ? data : data.toString('utf8');
  if (text.trim() === '') throw invalidIndex('empty repository index', source);
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw invalidIndex(`repository index is not valid YAML: ${yamlErrorMessage(err)}`, source);
  }
  if (!isMap(doc)) throw invalidIndex('not a Helm repository index: not a YAML map', source);
  if (typeof doc.apiVersion !== 'string' || doc.apiVersion === '') {
    throw invalidIndex('not a Helm repository index: no apiVersion', source);
  }
  if (doc.entries !== undefined && doc.entries !== null && !isMap(doc.entries)) {
    throw invalidIndex('not a Helm repository index: entries is not a map', source);
  }
  // `entries: {}` (or empty) is an empty repository; no key at all is some other YAML document.
  if (!('entries' in doc)) throw invalidIndex('not a Helm repository index: no entries', source);
  const entries: Record<string, ChartVersion[]> = {};
  for (const [name, versions] of Object.entries(isMap(doc.entries) ? doc.entries : {})) {
    const valid = (Array.isArray(versions) ? versions : []).map(validEntry).filter((cv) => cv !== undefined);
    entries[name] = sortVersions(valid);
  }
  return { ...doc, apiVersion: doc.apiVersion, entries };
}

function sortKeysDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeysDeep);
  if (!isMap(v)) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeysDeep(v[k]);
  return out;
}

/**
 * The stored form of an index, as Flux stores the HelmRepository artifact: the parsed, validated
 * and sorted index as indented JSON (valid YAML). Keys are sorted, so equal indexes give equal bytes.
 */
export function serializeIndex(index: HelmIndex): Buffer {
  return Buffer.from(`${JSON.stringify(sortKeysDeep(index), null, 2)}\n`);
}

/**
 * Picks a chart version as Flux's HelmChart does: an exact version string first; otherwise the
 * highest version satisfying the range (`*` = latest stable). Only strict semver versions (with an
 * optional `v`) take part; equal versions differing by build metadata go to the newest `created`.
 */
export function selectChartVersion(index: HelmIndex, name: string, versionOrRange = '*'): ChartVersion {
  const versions = index.entries[name];
  if (!versions) {
    throw new HelmError(HelmErrorCode.ChartReference, `no chart name found '${name}'`);
  }
  if (versions.length === 0) {
    throw new HelmError(HelmErrorCode.ChartReference, `no chart version found for '${name}'`);
  }
  const wanted = versionOrRange.trim() === '' ? '*' : versionOrRange;
  const exact = versions.find((cv) => cv.version === wanted);
  if (exact) return exact;
  let constraint: ReturnType<typeof parseConstraint>;
  try {
    constraint = parseConstraint(wanted);
  } catch (err) {
    throw new HelmError(
      HelmErrorCode.ChartReference,
      `invalid version range '${wanted}' for chart '${name}': ${(err as Error).message}`,
    );
  }
  let best: { cv: ChartVersion; v: SemVer } | undefined;
  for (const cv of versions) {
    const v = parseStrictVersion(cv.version);
    if (!v || !constraint.check(v)) continue;
    const d = best ? compareVersions(v, best.v) : 1;
    if (d > 0 || (d === 0 && best && (cv.created ?? '') > (best.cv.created ?? ''))) best = { cv, v };
  }
  if (!best) {
    throw new HelmError(
      HelmErrorCode.ChartReference,
      `no '${name}' chart with version matching '${wanted}' found`,
    );
  }
  return best.cv;
}

/**
 * Resolves a chart URL of an index entry against the repository URL as Helm's ResolveReferenceURL:
 * absolute URLs stay, relative ones resolve under the repository path, and the repository URL's
 * query string is kept (signed URLs).
 */
export function resolveChartUrl(repoUrl: string, ref: string): string {
  const base = parseHttpUrl(repoUrl, 'repository');
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(ref)) return ref;
  const dir = new URL(base);
  dir.pathname = `${dir.pathname.replace(/\/+$/, '')}/`;
  dir.search = '';
  const resolved = new URL(ref, dir);
  resolved.search = base.search;
  return resolved.toString();
}

export interface DownloadOptions extends HelmHttpOptions {
  /** Size cap of the archive; MAX_CHART_BYTES when unset. */
  maxBytes?: number;
  /** Check the archive against the index digest when it has one; default true. */
  verifyDigest?: boolean;
}

export interface DownloadedChart {
  url: string;
  data: Buffer;
  /** `sha256:<hex>` of the archive. */
  digest: string;
}

/**
 * Downloads the archive of a chart version (its first URL) with the repository's credentials and
 * verifies it against the index digest. Use readChartMetadata (chart.ts) to validate the contents.
 */
export async function downloadChart(
  repoUrl: string,
  chart: ChartVersion,
  opts: DownloadOptions = {},
): Promise<DownloadedChart> {
  const ref = chart.urls[0];
  if (!ref) {
    throw new HelmError(HelmErrorCode.InvalidIndex, `chart '${chart.name}' has no downloadable URLs`);
  }
  const url = resolveChartUrl(repoUrl, ref);
  const data = await httpGet({
    ...opts,
    url,
    repoUrl,
    maxBytes: opts.maxBytes ?? MAX_CHART_BYTES,
    subject: `chart '${chart.name}' ${chart.version}`,
    notFound: `chart '${chart.name}' ${chart.version} not found at`,
  });
  const hex = createHash('sha256').update(data).digest('hex');
  const expected = typeof chart.digest === 'string' ? chart.digest.replace(/^sha256:/, '').toLowerCase() : '';
  if ((opts.verifyDigest ?? true) && expected !== '' && expected !== hex) {
    throw new HelmError(
      HelmErrorCode.DigestMismatch,
      `chart '${chart.name}' ${chart.version} from ${redactUrl(url)} has digest sha256:${hex}, ` +
        `but the repository index says sha256:${expected}`,
    );
  }
  return { url, data, digest: `sha256:${hex}` };
}
