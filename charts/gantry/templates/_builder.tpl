{{- /*
The optional image builder: a Docker engine (docker:dind) as a second container of each
controller pod, serving the Docker API only on a Unix socket in a volume the two containers
share. Nothing listens on the network, so no other pod, an app's included, can reach it. It
runs privileged, as docker:dind must: the controller's namespace then needs the "privileged"
Pod Security level. The controller's ServiceAccount token is not mounted into it.
*/ -}}
{{- define "gantry.builderContainer" -}}
{{- $b := .Values.builder -}}
- name: builder
  image: {{ printf "%s:%s" $b.image.repository $b.image.tag | quote }}
  imagePullPolicy: {{ $b.image.pullPolicy }}
  args:
    - dockerd
    - --host=unix://{{ include "gantry.builderSocket" . }}
    # The controller runs as group 1000: the socket is its group's, nobody else's.
    - --group=1000
    {{- range $b.insecureRegistries }}
    - --insecure-registry={{ . }}
    {{- end }}
  env:
    # No TCP listener, so no certificates for the entrypoint to generate.
    - { name: DOCKER_TLS_CERTDIR, value: '' }
  readinessProbe:
    exec: { command: ['docker', '-H', 'unix://{{ include "gantry.builderSocket" . }}', 'version'] }
    periodSeconds: 10
  securityContext:
    privileged: true
    runAsNonRoot: false
    runAsUser: 0
  volumeMounts:
    - { name: builder-socket, mountPath: {{ dir (include "gantry.builderSocket" .) }} }
    - { name: builder-cache, mountPath: /var/lib/docker }
    # Shadows the ServiceAccount token the admission plugin would mount here: builds run user
    # code, and the builder needs no API access.
    - { name: builder-no-token, mountPath: /var/run/secrets/kubernetes.io/serviceaccount, readOnly: true }
  {{- with $b.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}

{{- define "gantry.builderVolumes" -}}
- { name: builder-socket, emptyDir: {} }
- name: builder-cache
  emptyDir:
    sizeLimit: {{ .Values.builder.cacheSize }}
- { name: builder-no-token, emptyDir: {} }
{{- end -}}
