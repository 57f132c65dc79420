{{/* Labels of every object; pass (dict "root" $ "component" "<name>") for a controller's objects. */}}
{{- define "tide.labels" -}}
app.kubernetes.io/part-of: tide
app.kubernetes.io/instance: {{ .root.Release.Namespace }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Values.managedBy }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end -}}

{{/* The controller image: repository@digest, else repository:tag (default appVersion). */}}
{{- define "tide.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}
