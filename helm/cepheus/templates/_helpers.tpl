{{/*
Chart name, truncated to the 63 characters a DNS label allows.
*/}}
{{- define "cepheus.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified name of the release's objects: <release>-<chart> unless the release name
already contains the chart name, or fullnameOverride.
*/}}
{{- define "cepheus.fullname" -}}
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

{{/*
Chart label value: <name>-<version>.
*/}}
{{- define "cepheus.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels: stable for the life of the release (Deployment selectors are immutable).
*/}}
{{- define "cepheus.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cepheus.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Common labels of every object.
*/}}
{{- define "cepheus.labels" -}}
helm.sh/chart: {{ include "cepheus.chart" . }}
{{ include "cepheus.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: cepheus
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Pod annotations: checksums that roll the pods when rules or the chart's Secret change,
Prometheus scrape annotations, then podAnnotations. Empty when there are none.
*/}}
{{- define "cepheus.podAnnotations" -}}
{{- if and .Values.rules.restartOnChange (not .Values.rules.existingConfigMap) }}
checksum/rules: {{ include "cepheus.rulesData" . | sha256sum }}
{{- end }}
{{- if include "cepheus.createSecret" . }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- if and .Values.metrics.enabled .Values.metrics.scrapeAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .Values.containerPort | int | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Name of the ServiceAccount the pods run as.
*/}}
{{- define "cepheus.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "cepheus.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Container image reference: repository@digest, or repository:tag (tag defaults to appVersion).
*/}}
{{- define "cepheus.image" -}}
{{- $_ := required "image.repository is required" .Values.image.repository }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
Name of the ConfigMap mounted at RULES_DIR.
*/}}
{{- define "cepheus.rulesConfigMapName" -}}
{{- default (printf "%s-rules" (include "cepheus.fullname" .)) .Values.rules.existingConfigMap }}
{{- end }}

{{/*
Rule files of the chart's ConfigMap as a YAML map (file name → content): the chart files
matching rules.files, then rules.inline. A name given twice fails the render.
*/}}
{{- define "cepheus.rulesData" -}}
{{- $data := dict }}
{{- range $pattern := .Values.rules.files }}
{{- range $path, $ignored := $.Files.Glob $pattern }}
{{- $key := base $path }}
{{- if hasKey $data $key }}
{{- fail (printf "rules: %s is matched twice by rules.files" $key) }}
{{- end }}
{{- $_ := set $data $key ($.Files.Get $path) }}
{{- end }}
{{- end }}
{{- range $name, $content := .Values.rules.inline }}
{{- if hasKey $data $name }}
{{- fail (printf "rules: %s is both a chart file and in rules.inline" $name) }}
{{- end }}
{{- $_ := set $data $name (required (printf "rules.inline.%s must not be empty" $name) $content) }}
{{- end }}
{{- toYaml $data }}
{{- end }}

{{/*
True (non-empty) when the chart creates its own Secret: an API token or a Redis URL given as a value.
*/}}
{{- define "cepheus.createSecret" -}}
{{- if or (and .Values.apiToken.value (not .Values.apiToken.existingSecret)) (and .Values.config.redis.url (not .Values.config.redis.existingSecret)) -}}
true
{{- end }}
{{- end }}

{{/*
Kafka consumer group: one per release, shared by all its replicas.
*/}}
{{- define "cepheus.kafkaGroupId" -}}
{{- default (include "cepheus.fullname" .) .Values.config.kafka.groupId }}
{{- end }}
