{{/*
Chart name, truncated to 63 characters (DNS label limit).
*/}}
{{- define "costwatch.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: <release>-<chart>, or <release> when it already contains the chart name.
*/}}
{{- define "costwatch.fullname" -}}
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
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "costwatch.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels.
*/}}
{{- define "costwatch.labels" -}}
helm.sh/chart: {{ include "costwatch.chart" . }}
{{ include "costwatch.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: costwatch
{{- end }}

{{/*
Selector labels (stable across upgrades).
*/}}
{{- define "costwatch.selectorLabels" -}}
app.kubernetes.io/name: {{ include "costwatch.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels of one component. Call with (dict "root" $ "component" "collector").
*/}}
{{- define "costwatch.componentLabels" -}}
{{ include "costwatch.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "costwatch.componentSelectorLabels" -}}
{{ include "costwatch.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
Name of the ServiceAccount the Deployments use.
*/}}
{{- define "costwatch.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "costwatch.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
ServiceAccount of the migrate hook (the chart's own one does not exist before pre-install).
*/}}
{{- define "costwatch.migrateServiceAccountName" -}}
{{- if .Values.migrate.serviceAccountName }}
{{- .Values.migrate.serviceAccountName }}
{{- else if and (not .Values.serviceAccount.create) .Values.serviceAccount.name }}
{{- .Values.serviceAccount.name }}
{{- else }}
{{- "default" }}
{{- end }}
{{- end }}

{{/*
Image reference.
*/}}
{{- define "costwatch.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}

{{/*
Port number of a listener setting ("0.0.0.0:8081" → 8081).
*/}}
{{- define "costwatch.port" -}}
{{- splitList ":" . | last | int }}
{{- end }}

{{/*
Mount points the chart owns.
*/}}
{{- define "costwatch.configDir" -}}/etc/costwatch{{- end }}
{{- define "costwatch.rateCardPath" -}}/etc/costwatch/rate-card/{{ .Values.rateCard.key }}{{- end }}
{{- define "costwatch.fxPath" -}}/etc/costwatch/fx/{{ .Values.fx.key }}{{- end }}
{{- define "costwatch.notifierPath" -}}/etc/costwatch/notifier/{{ .Values.notifier.secretKey }}{{- end }}
{{- define "costwatch.tlsCertPath" -}}/etc/costwatch/tls/{{ .Values.tls.certKey }}{{- end }}
{{- define "costwatch.tlsKeyPath" -}}/etc/costwatch/tls/{{ .Values.tls.keyKey }}{{- end }}

{{/*
"true" when the gateway and collector serve TLS (a mounted Secret, or both paths set), else "".
*/}}
{{- define "costwatch.tlsEnabled" -}}
{{- if or .Values.tls.existingSecret (and .Values.config.tls_cert_file .Values.config.tls_key_file) }}true{{- end }}
{{- end }}

{{/*
costwatch.toml. Call with (dict "root" $ "migrate" false). The migrate hook's copy leaves out the
file settings (rate_card, fx, notifier): migrate does not use them, and the binary checks that
they name readable files, which are not mounted in the Job.
*/}}
{{- define "costwatch.toml" -}}
{{- $v := .root.Values }}
{{- $c := $v.config -}}
# Rendered by the costwatch Helm chart from .Values.config; COSTWATCH_<SETTING> env vars override.
kafka_brokers = {{ $c.kafka_brokers | toString | toJson }}
usage_topic = {{ $c.usage_topic | toString | toJson }}
updates_topic = {{ $c.updates_topic | toString | toJson }}
alerts_topic = {{ $c.alerts_topic | toString | toJson }}
dead_letter_topic = {{ $c.dead_letter_topic | toString | toJson }}
anomalies_topic = {{ $c.anomalies_topic | toString | toJson }}
topic_partitions = {{ $c.topic_partitions | int64 }}
topic_replication = {{ $c.topic_replication | int64 }}
cql_nodes = {{ $c.cql_nodes | toString | toJson }}
keyspace = {{ $c.keyspace | toString | toJson }}
cql_replication = {{ $c.cql_replication | toString | toJson }}
consumer = {{ $c.consumer | toString | toJson }}
collector_http = {{ $c.collector_http | toString | toJson }}
collector_grpc = {{ $c.collector_grpc | toString | toJson }}
gateway_http = {{ $c.gateway_http | toString | toJson }}
{{- if not .migrate }}
{{- if $v.rateCard.existingConfigMap }}
rate_card = {{ include "costwatch.rateCardPath" .root | toJson }}
{{- else if $c.rate_card }}
rate_card = {{ $c.rate_card | toString | toJson }}
{{- end }}
{{- if $v.fx.existingConfigMap }}
fx = {{ include "costwatch.fxPath" .root | toJson }}
{{- else if $c.fx }}
fx = {{ $c.fx | toString | toJson }}
{{- end }}
{{- end }}
default_currency = {{ $c.default_currency | toString | toJson }}
max_body_bytes = {{ $c.max_body_bytes | int64 }}
max_batch_events = {{ $c.max_batch_events | int64 }}
web_dir = {{ $c.web_dir | toString | toJson }}
{{- if not .migrate }}
{{- if $v.notifier.existingSecret }}
notifier = {{ include "costwatch.notifierPath" .root | toJson }}
{{- else if $c.notifier }}
notifier = {{ $c.notifier | toString | toJson }}
{{- end }}
{{- end }}
data_dir = {{ $c.data_dir | toString | toJson }}
alert_sweep_secs = {{ $c.alert_sweep_secs | int64 }}
production = {{ $c.production }}
sensitive_labels = {{ $c.sensitive_labels | default list | toJson }}
rate_limit_per_minute = {{ $c.rate_limit_per_minute | int64 }}
rate_limit_burst = {{ $c.rate_limit_burst | int64 }}
request_timeout_secs = {{ $c.request_timeout_secs | int64 }}
dashboard_url = {{ $c.dashboard_url | toString | toJson }}
auth_mode = {{ $c.auth_mode | toString | toJson }}
{{- if not .migrate }}
{{- range $key := list "auth_issuer" "auth_audience" "auth_jwks_url" }}
{{- with (index $c $key) }}
{{ $key }} = {{ . | toString | toJson }}
{{- end }}
{{- end }}
{{- end }}
auth_role_claim = {{ $c.auth_role_claim | toString | toJson }}
auth_tenants_claim = {{ $c.auth_tenants_claim | toString | toJson }}
{{- if not .migrate }}
{{- if and (not $v.tls.existingSecret) (ne (empty $c.tls_cert_file) (empty $c.tls_key_file)) }}
{{- fail "config.tls_cert_file and config.tls_key_file: set both or neither (or tls.existingSecret)" }}
{{- end }}
{{- if $v.tls.existingSecret }}
tls_cert_file = {{ include "costwatch.tlsCertPath" .root | toJson }}
tls_key_file = {{ include "costwatch.tlsKeyPath" .root | toJson }}
{{- else }}
{{- range $key := list "tls_cert_file" "tls_key_file" }}
{{- with (index $c $key) }}
{{ $key }} = {{ . | toString | toJson }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- /* Inline tables: one line, so every setting stays a `key = value` line. */}}
pollers = [
{{- range $i, $p := $c.pollers }}{{ if $i }},{{ end }} {
{{- $first := true }}
{{- range $k, $val := $p }}{{ if not $first }},{{ end }} {{ $k }} = {{ if kindIs "string" $val }}{{ $val | toJson }}{{ else }}{{ $val | int64 }}{{ end }}{{ $first = false }}{{ end }} }
{{- end }} ]
{{- end }}

{{/*
Pod-level fields shared by every Deployment. Call with (dict "root" $ "svc" $svcValues).
*/}}
{{- define "costwatch.podScheduling" -}}
{{- $v := .root.Values }}
{{- with (default $v.nodeSelector .svc.nodeSelector) }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (default $v.affinity .svc.affinity) }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (default $v.tolerations .svc.tolerations) }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
One service Deployment. Call with (dict "root" $ "component" "collector" "svc" .Values.collector).
*/}}
{{- define "costwatch.deployment" -}}
{{- $root := .root }}
{{- $v := $root.Values }}
{{- $svc := .svc }}
{{- $component := .component }}
{{- $ctx := dict "root" $root "component" $component }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "costwatch.fullname" $root }}-{{ $component }}
  labels:
    {{- include "costwatch.componentLabels" $ctx | nindent 4 }}
spec:
  {{- if not (and $svc.autoscaling $svc.autoscaling.enabled) }}
  replicas: {{ $svc.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  {{- if has $component (list "aggregator" "notifier" "anomaly-detector") }}
  # One instance at a time: stop the old pod before starting the new one.
  strategy:
    type: Recreate
  {{- end }}
  selector:
    matchLabels:
      {{- include "costwatch.componentSelectorLabels" $ctx | nindent 6 }}
  template:
    metadata:
      annotations:
        checksum/config: {{ include "costwatch.toml" (dict "root" $root "migrate" false) | sha256sum }}
        {{- with (merge (dict) ($svc.podAnnotations | default dict) ($v.podAnnotations | default dict)) }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      labels:
        {{- include "costwatch.componentLabels" $ctx | nindent 8 }}
        {{- with (merge (dict) ($svc.podLabels | default dict) ($v.podLabels | default dict)) }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- with $v.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      serviceAccountName: {{ include "costwatch.serviceAccountName" $root }}
      automountServiceAccountToken: {{ $v.serviceAccount.automount }}
      # No Service env vars: a Service named <release>-… would inject variables such as
      # COSTWATCH_GATEWAY_PORT when the release is "costwatch", in the COSTWATCH_<SETTING>
      # namespace the binary reads its overrides from.
      enableServiceLinks: false
      securityContext:
        {{- toYaml $v.podSecurityContext | nindent 8 }}
      terminationGracePeriodSeconds: {{ $svc.terminationGracePeriodSeconds | default 30 }}
      containers:
        - name: {{ $component }}
          image: {{ include "costwatch.image" $root | quote }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          {{- with $v.command }}
          command:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          args:
            - {{ $component }}
            - --config
            - {{ include "costwatch.configDir" $root }}/costwatch.toml
          {{- with (concat ($v.extraEnv | default list) ($svc.env | default list)) }}
          env:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- if eq $component "collector" }}
          ports:
            - name: http
              containerPort: {{ include "costwatch.port" $v.config.collector_http }}
              protocol: TCP
            - name: grpc
              containerPort: {{ include "costwatch.port" $v.config.collector_grpc }}
              protocol: TCP
          {{- else if eq $component "gateway" }}
          ports:
            - name: http
              containerPort: {{ include "costwatch.port" $v.config.gateway_http }}
              protocol: TCP
          {{- end }}
          {{- $tlsOn := and (has $component (list "collector" "gateway")) (include "costwatch.tlsEnabled" $root) }}
          {{- range $probeName := list "livenessProbe" "readinessProbe" }}
          {{- with (index $svc $probeName) }}
          {{- $probe := deepCopy . }}
          {{- /* The listener speaks TLS only: an HTTP probe must too (kubelet skips verification). */}}
          {{- if and $tlsOn $probe.httpGet }}
          {{- if not $probe.httpGet.scheme }}
          {{- $_ := set $probe.httpGet "scheme" "HTTPS" }}
          {{- end }}
          {{- end }}
          {{ $probeName }}:
            {{- toYaml $probe | nindent 12 }}
          {{- end }}
          {{- end }}
          {{- with $svc.resources }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          securityContext:
            {{- toYaml $v.securityContext | nindent 12 }}
          volumeMounts:
            - name: config
              mountPath: {{ include "costwatch.configDir" $root }}/costwatch.toml
              subPath: costwatch.toml
              readOnly: true
            - name: tmp
              mountPath: /tmp
            {{- if $v.rateCard.existingConfigMap }}
            - name: rate-card
              mountPath: /etc/costwatch/rate-card
              readOnly: true
            {{- end }}
            {{- if $v.fx.existingConfigMap }}
            - name: fx
              mountPath: /etc/costwatch/fx
              readOnly: true
            {{- end }}
            {{- if and $v.tls.existingSecret (has $component (list "collector" "gateway")) }}
            - name: tls
              mountPath: /etc/costwatch/tls
              readOnly: true
            {{- end }}
            {{- if eq $component "notifier" }}
            - name: data
              mountPath: {{ $v.config.data_dir }}
            {{- if $v.notifier.existingSecret }}
            - name: notifier-channels
              mountPath: /etc/costwatch/notifier
              readOnly: true
            {{- end }}
            {{- end }}
            {{- with $v.extraVolumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
      volumes:
        - name: config
          configMap:
            name: {{ include "costwatch.fullname" $root }}
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
        {{- if $v.rateCard.existingConfigMap }}
        - name: rate-card
          configMap:
            name: {{ $v.rateCard.existingConfigMap }}
            items:
              - key: {{ $v.rateCard.key }}
                path: {{ $v.rateCard.key }}
        {{- end }}
        {{- if $v.fx.existingConfigMap }}
        - name: fx
          configMap:
            name: {{ $v.fx.existingConfigMap }}
            items:
              - key: {{ $v.fx.key }}
                path: {{ $v.fx.key }}
        {{- end }}
        {{- if and $v.tls.existingSecret (has $component (list "collector" "gateway")) }}
        - name: tls
          secret:
            secretName: {{ $v.tls.existingSecret }}
            defaultMode: 0440
            items:
              - key: {{ $v.tls.certKey }}
                path: {{ $v.tls.certKey }}
              - key: {{ $v.tls.keyKey }}
                path: {{ $v.tls.keyKey }}
        {{- end }}
        {{- if eq $component "notifier" }}
        - name: data
          {{- if $v.notifier.persistence.enabled }}
          persistentVolumeClaim:
            claimName: {{ $v.notifier.persistence.existingClaim | default (printf "%s-notifier" (include "costwatch.fullname" $root)) }}
          {{- else }}
          emptyDir: {}
          {{- end }}
        {{- if $v.notifier.existingSecret }}
        - name: notifier-channels
          secret:
            secretName: {{ $v.notifier.existingSecret }}
            defaultMode: 0440
            items:
              - key: {{ $v.notifier.secretKey }}
                path: {{ $v.notifier.secretKey }}
        {{- end }}
        {{- end }}
        {{- with $v.extraVolumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- include "costwatch.podScheduling" (dict "root" $root "svc" $svc) | nindent 6 }}
{{- end }}
