// podinfo's chart installed by helm-controller from each kind of chart source, with source-controller
// as a process against the test bed's chart server and OCI registry: a HelmRepository (spec.chart), an
// `oci://` HelmRepository (spec.chart), and chartRef to an OCIRepository (the chart version carries the
// artifact digest, as Flux) and to a HelmChart. The pinned helm list/history show each release.

import assert from 'node:assert/strict';
import type { HelmRelease } from '../../../controllers/api/helm.ts';
import { ConditionTypes } from '../../../controllers/api/names.ts';
import { PODINFO_CHART_VERSION } from '../../support/charts.ts';
import { useNamespace } from '../../support/testbed.ts';
import {
  assertHistory,
  type ChartRepos,
  chartRepos,
  cond,
  helmCli,
  helmHistory,
  helmList,
  hrApiVersion,
  podinfoDir,
  sourceApiVersion,
  useHelmController,
  waitReady,
} from './support.ts';

describe('helm-controller: podinfo from every chart source', function () {
  this.timeout(240_000);
  const ns = useNamespace('hr-src');
  const hc = useHelmController();
  let helm: (a: string[]) => Promise<string>;
  let repos: ChartRepos;

  before(async () => {
    helm = await helmCli();
    repos = await chartRepos('src');
    // kwok makes podinfo's Pods ready; its probes and tests are not run.
    await repos.publish(podinfoDir());
  });

  const create = (name: string, spec: Partial<HelmRelease['spec']>) =>
    hc.client.create({
      apiVersion: hrApiVersion,
      kind: 'HelmRelease',
      metadata: { name, namespace: ns() },
      spec: { interval: '10m', timeout: '60s', values: { replicaCount: 1 }, ...spec },
    });
  const source = (kind: string, name: string, spec: Record<string, unknown>) =>
    hc.client.create({ apiVersion: sourceApiVersion, kind, metadata: { name, namespace: ns() }, spec });

  /** helm list and history show one deployed revision of `release` with podinfo's chart. */
  async function assertReleased(release: string, chartVersion: string) {
    const listed = (await helmList(helm, ns())).find((r) => r.name === release);
    assert.deepEqual([listed?.status, listed?.chart], ['deployed', `podinfo-${chartVersion}`]);
    assertHistory(await helmHistory(helm, ns(), release), [[1, 'deployed']]);
    const deploy = await hc.client.get({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: ns(),
      name: `${release}-podinfo`,
    });
    assert.equal(deploy.metadata.labels?.['app.kubernetes.io/managed-by'], 'Helm');
  }

  it('installs from a HelmRepository', async () => {
    await source('HelmRepository', 'http', { url: repos.httpUrl, interval: '10m' });
    await create('from-http', {
      chart: {
        spec: { chart: 'podinfo', version: '6.x', sourceRef: { kind: 'HelmRepository', name: 'http' } },
      },
    });
    const hr = await waitReady(hc.client, ns(), 'from-http');
    assert.equal(cond(hr, ConditionTypes.Ready)?.reason, 'InstallSucceeded');
    assert.equal(hr.status?.lastAttemptedRevision, PODINFO_CHART_VERSION);
    assert.equal(hr.status?.history?.[0]?.appVersion, PODINFO_CHART_VERSION);
    await assertReleased('from-http', PODINFO_CHART_VERSION);
  });

  it('installs through chartRef to an OCIRepository, with the artifact digest in the chart version', async () => {
    await source('OCIRepository', 'oci-chart', {
      url: `${repos.ociUrl}/podinfo`,
      ref: { tag: PODINFO_CHART_VERSION },
      insecure: true,
      interval: '10m',
      layerSelector: { mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', operation: 'copy' },
    });
    await create('from-ocirepo', { chartRef: { kind: 'OCIRepository', name: 'oci-chart' } });
    const hr = await waitReady(hc.client, ns(), 'from-ocirepo');
    const digest = hr.status?.lastAttemptedRevisionDigest ?? '';
    assert.match(digest, /^sha256:[0-9a-f]{64}$/);
    const version = `${PODINFO_CHART_VERSION}+${digest.slice('sha256:'.length, 'sha256:'.length + 12)}`;
    assert.equal(hr.status?.lastAttemptedRevision, version);
    assert.equal(hr.status?.history?.[0]?.ociDigest, digest);
    assert.equal(hr.status?.helmChart, undefined, 'no HelmChart for chartRef');
    await assertReleased('from-ocirepo', version);
  });

  it('installs through chartRef to a HelmChart', async () => {
    await source('HelmRepository', 'http-shared', { url: repos.httpUrl, interval: '10m' });
    await source('HelmChart', 'shared', {
      chart: 'podinfo',
      sourceRef: { kind: 'HelmRepository', name: 'http-shared' },
      interval: '10m',
    });
    await create('from-helmchart', { chartRef: { kind: 'HelmChart', name: 'shared' } });
    await waitReady(hc.client, ns(), 'from-helmchart');
    await assertReleased('from-helmchart', PODINFO_CHART_VERSION);
  });

  it('installs from an oci:// HelmRepository', async () => {
    await source('HelmRepository', 'oci', {
      type: 'oci',
      url: repos.ociUrl,
      insecure: true,
      interval: '10m',
    });
    await create('from-oci', {
      chart: {
        spec: {
          chart: 'podinfo',
          version: PODINFO_CHART_VERSION,
          sourceRef: { kind: 'HelmRepository', name: 'oci' },
        },
      },
    });
    const hr = await waitReady(hc.client, ns(), 'from-oci');
    assert.equal(hr.status?.helmChart, `${ns()}/${ns()}-from-oci`);
    await assertReleased('from-oci', PODINFO_CHART_VERSION);
  });
});
