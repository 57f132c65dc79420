// The helm-controller tests' chart, written out by demoChart(): a ConfigMap with the `message` value, a
// Deployment (never ready with `unschedulable`), a pre-install/pre-upgrade hook Pod that fails with
// `failingHook`, a test Pod ending in `testPhase` (the test bed's kwok stages finish bare Pods), and a CRD.
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { writeTree } from '../../support/sources.ts';
import { testbed } from '../../support/testbed.ts';

export const DEMO_CHART: Record<string, string> = {
  'Chart.yaml': `apiVersion: v2
name: demo
description: The helm-controller tests' chart
version: 0.1.0
appVersion: "1.0"
`,
  'values.yaml': `# What the ConfigMap says; changing it changes the release.
message: hello
replicas: 1
# A Deployment whose Pods never get a node (nodeSelector matching nothing): never ready.
unschedulable: false
# A pre-install/pre-upgrade hook Pod that fails.
failingHook: false
# The phase the test Pod ends in: Succeeded or Failed.
testPhase: Succeeded
`,
  'templates/configmap.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  message: {{ .Values.message | quote }}
`,
  'templates/deployment.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-app
  labels:
    app: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels:
      app: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app: {{ .Release.Name }}
    spec:
      {{- if .Values.unschedulable }}
      nodeSelector:
        testbed.tide.dev/no-such-node: "true"
      {{- end }}
      containers:
      - name: app
        image: registry.example/demo:{{ .Chart.AppVersion }}
`,
  'templates/hook.yaml': `{{- if .Values.failingHook }}
apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-pre-hook
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-delete-policy: before-hook-creation
    testbed.tide.dev/phase: Failed
spec:
  restartPolicy: Never
  containers:
  - name: hook
    image: registry.example/hook:1
{{- end }}
`,
  'templates/tests/test.yaml': `apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-test
  annotations:
    helm.sh/hook: test
    helm.sh/hook-delete-policy: before-hook-creation
    testbed.tide.dev/phase: {{ .Values.testPhase }}
spec:
  restartPolicy: Never
  containers:
  - name: test
    image: registry.example/test:1
`,
  'crds/widgets.yaml': `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.demo.tide.dev
spec:
  group: demo.tide.dev
  names:
    kind: Widget
    listKind: WidgetList
    plural: widgets
    singular: widget
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`,
};

/** The demo chart in a fresh directory, with `files` added or replaced. */
export async function demoChart(files: Record<string, string> = {}): Promise<string> {
  const dir = join(await mkdtemp(join(testbed().dir, 'demo-chart-')), 'demo');
  await writeTree(dir, { ...DEMO_CHART, ...files });
  return dir;
}
