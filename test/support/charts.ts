// Helm charts for tests: podinfo's chart (a fixture hack/tools.sh unpacks into the tool cache), and
// publishing a chart directory with the pinned helm, to the test bed's chart server (`helm package`
// plus `helm repo index`) or to an OCI registry (`helm push`).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Artifact } from '../../controllers/api/meta.ts';
import { hackDir } from '../../hack/testbed/tools.ts';
import { download, helmCli, sha256 } from './sources.ts';
import { testbed } from './testbed.ts';

/** The podinfo chart's version, as pinned in hack/versions.env. */
export const PODINFO_CHART_VERSION = (() => {
  const m = /^PODINFO_CHART_VERSION=(.+)$/m.exec(readFileSync(join(hackDir, 'versions.env'), 'utf8'));
  if (!m?.[1]) throw new Error('hack/versions.env pins no PODINFO_CHART_VERSION');
  return m[1].trim();
})();

/**
 * The unpacked podinfo chart (pinned in hack/versions.env). Do not write into it: it is the
 * shared tool cache; copy it first. Throws naming the command that fetches it when it is missing.
 */
export function podinfoChartDir(): string {
  const out = execFileSync('bash', [join(hackDir, 'tools.sh'), '--print', 'podinfo-chart'], {
    encoding: 'utf8',
  });
  const dir = /^podinfo-chart=(.*)$/m.exec(out)?.[1];
  if (!dir || !existsSync(join(dir, 'Chart.yaml'))) {
    throw new Error(
      `the podinfo chart fixture is missing (${dir ?? 'no path'}): fetch it with 'bash hack/tools.sh podinfo-chart'`,
    );
  }
  return dir;
}

/** A chart package made by `helm package`. */
export interface PackagedChart {
  name: string;
  version: string;
  /** The .tgz file. */
  file: string;
  /** `sha256:<hex>` of the file. */
  digest: string;
}

let helmWork: Promise<(args: string[]) => Promise<string>> | undefined;

/** The pinned helm with its own cache, config and data in the test bed directory. */
function helm(args: string[]): Promise<string> {
  helmWork ??= mkdtemp(join(testbed().dir, 'charts-helm-')).then(helmCli);
  return helmWork.then((run) => run(args));
}

/** `helm package` of `dir` (as `version` when given) into `dest`. */
export async function packageChart(dir: string, dest: string, version?: string): Promise<PackagedChart> {
  await mkdir(dest, { recursive: true });
  const out = await helm(['package', dir, '-d', dest, ...(version ? ['--version', version] : [])]);
  const file = /saved it to: (.+\.tgz)\s*$/m.exec(out)?.[1];
  if (!file) throw new Error(`helm package printed no package path: ${out}`);
  const base = file.slice(file.lastIndexOf('/') + 1, -'.tgz'.length);
  const show = await helm(['show', 'chart', file]);
  const name = /^name: (.+)$/m.exec(show)?.[1] ?? '';
  const chartVersion = base.slice(name.length + 1);
  return { name, version: chartVersion, file, digest: sha256(await readFile(file)) };
}

/**
 * Publishes a chart directory to the test bed's chart server under `/<repo>/`: packaged with helm
 * (as `version` when given), the repository index rewritten. Returns the package and the repository URL.
 */
export async function publishChart(
  dir: string,
  opts: { repo: string; version?: string },
): Promise<PackagedChart & { repoUrl: string }> {
  const tb = testbed();
  const root = join(tb.chartsDir, opts.repo);
  const repoUrl = `${tb.charts.url}/${opts.repo}`;
  const pkg = await packageChart(dir, root, opts.version);
  await helm(['repo', 'index', root, '--url', repoUrl]);
  return { ...pkg, repoUrl };
}

/** Where `helm push` sends a chart: `oci://<host>/<repository>` and how to reach it. */
export interface OciChartTarget {
  /** Registry host:port; the test bed's (plain HTTP) registry when unset. */
  host?: string;
  /** Path under which charts go, e.g. `charts`: the chart lands at `<repository>/<name>`. */
  repository: string;
  /** The registry's CA certificate (HTTPS); plain HTTP without. */
  caCert?: Buffer;
  username?: string;
  password?: string;
}

export interface PushedChart extends PackagedChart {
  /** `oci://<host>/<repository>`: a HelmRepository URL of type oci. */
  repoUrl: string;
  /** Digest of the manifest helm pushed. */
  manifestDigest: string;
}

/** Packages a chart directory (as `version` when given) and pushes it with `helm push`. */
export async function pushChartOci(
  dir: string,
  target: OciChartTarget,
  version?: string,
): Promise<PushedChart> {
  const tb = testbed();
  const work = await mkdtemp(join(tb.dir, 'oci-chart-'));
  const pkg = await packageChart(dir, work, version);
  const repoUrl = `oci://${target.host ?? tb.registry.host}/${target.repository}`;
  const args = ['push', pkg.file, repoUrl];
  if (target.caCert) {
    const ca = join(work, 'ca.crt');
    await writeFile(ca, target.caCert);
    args.push('--ca-file', ca);
  } else args.push('--plain-http');
  if (target.username) args.push('--username', target.username, '--password', target.password ?? '');
  const out = await helm(args);
  const manifestDigest = /^Digest: (sha256:[0-9a-f]{64})$/m.exec(out)?.[1];
  if (!manifestDigest) throw new Error(`helm push printed no digest: ${out}`);
  return { ...pkg, repoUrl, manifestDigest };
}

/**
 * Downloads a chart artifact (as a HelmChart's status gives it) into a new directory under `dir`,
 * asserting that the served bytes match its digest; returns the file, named as in the storage.
 */
export async function downloadChartArtifact(artifact: Artifact, dir: string): Promise<string> {
  const bytes = await download(artifact.url);
  assert.equal(sha256(bytes), artifact.digest, 'the served bytes match status.artifact.digest');
  const file = join(await mkdtemp(join(dir, 'art-')), artifact.path.split('/').pop() ?? 'chart.tgz');
  await writeFile(file, bytes);
  return file;
}
