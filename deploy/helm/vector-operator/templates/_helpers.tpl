{{/* The chart name: nameOverride, else the chart's own name. */}}
{{- define "vector-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name: fullnameOverride, else the release name when it already contains the chart name, else
`<release>-<chart name>`. 63 characters at most (a DNS label). The same rule as kaasops' chart, so an upgrade from
it keeps every object's name.
*/}}
{{- define "vector-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "vector-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The Deployment's selector. Immutable once created: never add to it. */}}
{{- define "vector-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vector-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "vector-operator.labels" -}}
helm.sh/chart: {{ include "vector-operator.chart" . }}
{{ include "vector-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "vector-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "vector-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Where the PodMonitor, the ServiceMonitor and the scrape identity live. */}}
{{- define "vector-operator.monitorNamespace" -}}
{{- default .Release.Namespace .Values.metrics.podMonitor.namespace }}
{{- end }}

{{/* The metrics port: 8443 (HTTPS) when secure, else 8080. */}}
{{- define "vector-operator.metricsPort" -}}
{{- if .Values.metrics.secure }}8443{{ else }}8080{{ end }}
{{- end }}

{{/*
The Secret holding the scrape token in secure mode. Rendering fails when a monitor is enabled in secure mode without
one, rather than install a monitor that can only get 401.
*/}}
{{- define "vector-operator.scrapeTokenSecret" -}}
{{- $pm := .Values.metrics.podMonitor }}
{{- if $pm.bearerTokenSecret.name }}
{{- $pm.bearerTokenSecret.name }}
{{- else if $pm.createScrapeIdentity }}
{{- include "vector-operator.fullname" . }}-metrics-reader-token
{{- else }}
{{- fail "metrics.secure=true: the PodMonitor (or ServiceMonitor) needs a bearer token allowed to GET /metrics; set metrics.podMonitor.bearerTokenSecret.name to a Secret holding one, or metrics.podMonitor.createScrapeIdentity=true" }}
{{- end }}
{{- end }}

{{/* One scrape endpoint, for the PodMonitor and the ServiceMonitor alike. */}}
{{- define "vector-operator.scrapeEndpoint" -}}
port: metrics
path: /metrics
interval: {{ .Values.metrics.podMonitor.interval }}
{{- if .Values.metrics.secure }}
scheme: https
# The operator's certificate is self-signed, made at each start.
tlsConfig:
  insecureSkipVerify: true
authorization:
  type: Bearer
  credentials:
    name: {{ include "vector-operator.scrapeTokenSecret" . }}
    key: {{ .Values.metrics.podMonitor.bearerTokenSecret.key }}
{{- else }}
scheme: http
{{- end }}
{{- end }}

{{- define "vector-operator.openshift" -}}
{{- and .Values.vector.enable (or .Values.openshift.enabled .Values.openshift.enable) }}
{{- end }}
