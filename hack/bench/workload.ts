// What the benchmark scenarios deploy: the flux-benchmark "app" (ServiceAccount, Service, Deployment
// with 0 replicas, Ingress), a tree of ConfigMaps for the commit scenario, a Helm chart of the same app,
// and the Flux objects (GitRepository, Kustomization, HelmRepository, HelmRelease) that point at them.
// Pure: every function returns objects or files, nothing touches a cluster.
import { dump } from 'js-yaml';
import {
  GitRepositoryKind,
  HelmReleaseKind,
  HelmRepositoryKind,
  KustomizationKind,
} from '../../controllers/api/index.ts';
import type { KubeObject } from '../../controllers/runtime/object.ts';

/** Namespace of the sources, Kustomizations and HelmReleases; the workloads go to their own. */
export const benchNamespace = 'bench';
/** Secret with the Git server's basic-auth credentials, in benchNamespace. */
export const gitSecretName = 'git-auth';
export const objectsPerApp = 4;

const appLabels = { 'app.kubernetes.io/name': 'app' };

/** The app's four objects, named `name`, without a namespace (the Kustomization sets targetNamespace). */
export function appObjects(name = 'app'): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, labels: appLabels } },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, labels: appLabels },
      spec: { type: 'ClusterIP', selector: appLabels, ports: [{ name: 'http', port: 80, targetPort: 9898 }] },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, labels: appLabels },
      spec: {
        replicas: 0,
        selector: { matchLabels: appLabels },
        template: {
          metadata: { labels: appLabels },
          spec: {
            serviceAccountName: name,
            containers: [
              {
                name: 'app',
                image: 'ghcr.io/stefanprodan/podinfo:6.7.1',
                ports: [{ name: 'http', containerPort: 9898 }],
                resources: { requests: { cpu: '10m', memory: '16Mi' } },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name, labels: appLabels },
      spec: {
        rules: [
          {
            host: `${name}.bench.invalid`,
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name, port: { name: 'http' } } },
                },
              ],
            },
          },
        ],
      },
    },
  ];
}

/** The objects of appObjects placed in namespace (what a bare apply loop sends). */
export function appObjectsIn(namespace: string, name = 'app'): KubeObject[] {
  return appObjects(name).map((o) => ({ ...o, metadata: { ...o.metadata, namespace } }));
}

const yaml = (obj: unknown) => dump(obj, { lineWidth: -1, noRefs: true });

const kustomizationYaml = (resources: string[]) =>
  yaml({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources });

/** The app as a kustomize directory: one file per object plus kustomization.yaml. */
export function appFiles(dir = 'app'): Record<string, string> {
  const files: Record<string, string> = {};
  const resources: string[] = [];
  for (const o of appObjects()) {
    const file = `${String(o.kind).toLowerCase()}.yaml`;
    resources.push(file);
    files[`${dir}/${file}`] = yaml(o);
  }
  files[`${dir}/kustomization.yaml`] = kustomizationYaml(resources);
  return files;
}

export const configMapName = (i: number) => `cm-${String(i).padStart(4, '0')}`;

/**
 * The commit scenario's tree: `count` ConfigMaps in dir, one file each, listed in kustomization.yaml.
 * `version(i)` goes into each ConfigMap's data (a change there is a change of that object); indexes in
 * `omit` are left out (their files deleted: the pruning case).
 */
export function configMapFiles(
  count: number,
  version: (i: number) => string,
  omit: (i: number) => boolean = () => false,
  dir = 'cms',
): Record<string, string | null> {
  const files: Record<string, string | null> = {};
  const resources: string[] = [];
  // About 0.5 KiB per object: a realistic small ConfigMap, not an empty one.
  const payload = 'x'.repeat(400);
  for (let i = 1; i <= count; i++) {
    const name = configMapName(i);
    if (omit(i)) {
      files[`${dir}/${name}.yaml`] = null;
      continue;
    }
    resources.push(`${name}.yaml`);
    files[`${dir}/${name}.yaml`] = yaml({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, labels: { 'bench.tide.dev/set': 'cms' } },
      data: { index: String(i), version: version(i), payload },
    });
  }
  files[`${dir}/kustomization.yaml`] = kustomizationYaml(resources);
  return files;
}

export const appNamespace = (i: number) => `app-${String(i).padStart(4, '0')}`;

export interface GitRepositoryOptions {
  name: string;
  url: string;
  interval: string;
}

export function gitRepository(o: GitRepositoryOptions): KubeObject {
  return {
    apiVersion: GitRepositoryKind.apiVersion,
    kind: GitRepositoryKind.kind,
    metadata: { name: o.name, namespace: benchNamespace },
    spec: {
      url: o.url,
      interval: o.interval,
      timeout: '60s',
      ref: { branch: 'main' },
      secretRef: { name: gitSecretName },
    },
  };
}

export interface KustomizationOptions {
  name: string;
  /** The GitRepository (in benchNamespace). */
  source: string;
  path: string;
  targetNamespace: string;
  interval: string;
  timeout?: string;
}

/** Prune and wait on, as in flux-benchmark: Ready means every applied object is healthy. */
export function kustomization(o: KustomizationOptions): KubeObject {
  return {
    apiVersion: KustomizationKind.apiVersion,
    kind: KustomizationKind.kind,
    metadata: { name: o.name, namespace: benchNamespace },
    spec: {
      interval: o.interval,
      path: o.path,
      prune: true,
      wait: true,
      timeout: o.timeout ?? '5m',
      targetNamespace: o.targetNamespace,
      sourceRef: { kind: GitRepositoryKind.kind, name: o.source },
    },
  };
}

export const chartName = 'bench-app';
export const chartVersion = '0.1.0';

/** A Helm chart of the same four objects, named after the release. */
export function chartFiles(dir = chartName): Record<string, string> {
  const files: Record<string, string> = {
    [`${dir}/Chart.yaml`]: yaml({
      apiVersion: 'v2',
      name: chartName,
      version: chartVersion,
      description: 'The Tide benchmark app: ServiceAccount, Service, Deployment (0 replicas), Ingress',
    }),
    [`${dir}/values.yaml`]: yaml({ replicas: 0 }),
  };
  for (const o of appObjects('RELEASE')) {
    const text = yaml(o)
      .replaceAll('RELEASE', '{{ .Release.Name }}')
      .replace('replicas: 0', 'replicas: {{ .Values.replicas }}');
    files[`${dir}/templates/${String(o.kind).toLowerCase()}.yaml`] = text;
  }
  return files;
}

export function helmRepository(name: string, url: string): KubeObject {
  return {
    apiVersion: HelmRepositoryKind.apiVersion,
    kind: HelmRepositoryKind.kind,
    metadata: { name, namespace: benchNamespace },
    spec: { url, interval: '60m' },
  };
}

export function helmRelease(name: string, repository: string, targetNamespace: string): KubeObject {
  return {
    apiVersion: HelmReleaseKind.apiVersion,
    kind: HelmReleaseKind.kind,
    metadata: { name, namespace: benchNamespace },
    spec: {
      interval: '60m',
      releaseName: name,
      targetNamespace,
      chart: {
        spec: {
          chart: chartName,
          version: chartVersion,
          interval: '60m',
          sourceRef: { kind: HelmRepositoryKind.kind, name: repository },
        },
      },
    },
  };
}
