{{/* Names and labels, in one place. */}}

{{- define "gantry.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's full name; every object's name starts with it. */}}
{{- define "gantry.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "gantry.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object; pass (dict "ctx" $ "component" "controller"). */}}
{{- define "gantry.labels" -}}
helm.sh/chart: {{ include "gantry.chart" .ctx }}
{{ include "gantry.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
{{- end -}}

{{- define "gantry.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gantry.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "gantry.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "gantry.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret the controller's environment comes from: ours, or the one the user manages. */}}
{{- define "gantry.secretName" -}}
{{- default (printf "%s-secrets" (include "gantry.fullname" .)) .Values.existingSecret -}}
{{- end -}}

{{- define "gantry.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "gantry.redisHost" -}}
{{- printf "%s-redis" (include "gantry.fullname" .) -}}
{{- end -}}

{{/* The URL links point at: config.api.publicUrl, else the Ingress host, else empty. */}}
{{- define "gantry.publicUrl" -}}
{{- $api := default (dict) .Values.config.api -}}
{{- if $api.publicUrl -}}
{{- $api.publicUrl -}}
{{- else if .Values.ingress.enabled -}}
{{- printf "%s://%s" (ternary "https" "http" .Values.ingress.tls.enabled) .Values.ingress.host -}}
{{- end -}}
{{- end -}}

{{/*
The controller's runtime: Kubernetes, in cluster, with the ServiceAccount's token. The first
target namespace is the default target; every target namespace has the runtime's Role.
*/}}
{{- define "gantry.runtimeConfig" -}}
runtime:
  kind: kubernetes
  inCluster: true
  namespace: {{ first .Values.targetNamespaces }}
{{- end -}}

{{/* The Secret holding the bundled Redis's generated password (redis.mode internal). */}}
{{- define "gantry.redisSecretName" -}}
{{- printf "%s-redis-auth" (include "gantry.fullname" .) -}}
{{- end -}}

{{/* Where the builder's Docker socket sits, in a volume shared by the controller's pod only. */}}
{{- define "gantry.builderSocket" -}}
/run/gantry-builder/docker.sock
{{- end -}}
