{{/* Labels on every object. */}}
{{- define "baton.labels" -}}
{{ include "baton.selector" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{/* The labels that select this release's pods (a component label is added per workload). */}}
{{- define "baton.selector" -}}
app.kubernetes.io/name: baton
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "baton.image" -}}
{{ printf "%s:%s" .Values.image.repository .Values.image.tag }}
{{- end }}

{{/* The database URL from the Secret (PostgreSQL mode; SQLite mode uses the default, in BATON_HOME). */}}
{{- define "baton.databaseUrl" -}}
{{- if ne .Values.mode "sqlite" -}}
- name: BATON_API_DATABASE_CONNECTION_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.existingSecret }}
      key: database-url
{{- end }}
{{- end }}

{{- define "baton.containerSecurityContext" -}}
allowPrivilegeEscalation: false
capabilities:
  drop: ["ALL"]
{{- end }}

{{/* The image's baton user (uid 10001, see the Dockerfile). */}}
{{- define "baton.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
{{- end }}

{{/* A probe of the API; the kubelet would address it to the pod's IP, a host name Baton does not answer to. */}}
{{- define "baton.httpProbe" -}}
httpGet:
  path: {{ . }}
  port: http
  httpHeaders:
    - name: Host
      value: localhost
{{- end }}
