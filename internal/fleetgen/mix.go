package fleetgen

import (
	"fmt"
	"strings"
)

// Paths and names of the optional parts of a fleet (Config.HelmReleases,
// Config.Secrets, Config.CRDs).
const (
	chartDir      = "charts/app"
	crdDir        = "infrastructure/crds"
	crdsName      = "crds" // the Flux Kustomization applying the CRDs
	crdGroup      = "fleet.example.com"
	sopsConfig    = ".sops.yaml"
	sopsSecretRef = "sops-age"
)

// crdKinds are the kinds of the generated CustomResourceDefinitions, in
// order; Config.CRDs takes the first ones.
var crdKinds = []string{"Widget", "Gadget", "Sprocket", "Gizmo", "Doohickey", "Contraption", "Apparatus", "Mechanism"}

// MaxCRDs is the largest Config.CRDs.
const MaxCRDs = 8

// chartFiles is the local chart every generated HelmRelease installs, from
// the flux-system GitRepository (the repository root). Its objects are
// valid for any release name of at most 53 characters.
func chartFiles() []struct{ path, data string } {
	return []struct{ path, data string }{
		{chartDir + "/Chart.yaml", `apiVersion: v2
name: app
description: A web service, for fleetgen's HelmReleases.
type: application
version: 0.1.0
appVersion: "1.0.0"
`},
		{chartDir + "/values.yaml", `replicaCount: 1
image:
  repository: registry.example.com/app
  tag: "1.0.0"
port: 8080
cluster: unknown
logLevel: info
resources:
  requests:
    cpu: 10m
    memory: 32Mi
  limits:
    memory: 128Mi
`},
		{chartDir + "/templates/_helpers.tpl", `{{- define "app.fullname" -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "app.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "app.labels" -}}
{{ include "app.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
fleet.example.com/cluster: {{ .Values.cluster | quote }}
{{- end -}}
`},
		{chartDir + "/templates/configmap.yaml", `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "app.fullname" . }}
  labels:
    {{- include "app.labels" . | nindent 4 }}
data:
  CLUSTER: {{ .Values.cluster | quote }}
  LOG_LEVEL: {{ .Values.logLevel | quote }}
  PORT: {{ .Values.port | quote }}
`},
		{chartDir + "/templates/deployment.yaml", `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "app.fullname" . }}
  labels:
    {{- include "app.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      {{- include "app.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "app.selectorLabels" . | nindent 8 }}
    spec:
      containers:
        - name: app
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          ports:
            - name: http
              containerPort: {{ .Values.port }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ include "app.fullname" . }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
`},
		{chartDir + "/templates/service.yaml", `apiVersion: v1
kind: Service
metadata:
  name: {{ include "app.fullname" . }}
  labels:
    {{- include "app.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "app.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: 80
      protocol: TCP
      targetPort: http
`},
	}
}

// chartObjects is the number of objects the chart renders.
const chartObjects = 3

// helmReleaseName is the name of HelmRelease h of app a.
func helmReleaseName(a app, h int) string { return fmt.Sprintf("%s-rel-%02d", a.name, h) }

// helmRelease renders HelmRelease h of app k: the local chart from the
// flux-system GitRepository, with values that Flux's post-build
// substitution completes.
func (g *gen) helmRelease(a app, k, h int) string {
	var b y
	b.l(0, "apiVersion: helm.toolkit.fluxcd.io/v2")
	b.l(0, "kind: HelmRelease")
	b.meta(helmReleaseName(a, h), "")
	b.l(0, "spec:")
	b.l(1, "interval: 10m")
	b.l(1, "chart:")
	b.l(2, "spec:")
	b.l(3, "chart: ./%s", chartDir)
	b.l(3, "reconcileStrategy: Revision")
	b.l(3, "sourceRef:")
	b.l(4, "kind: GitRepository")
	b.l(4, "name: flux-system")
	b.l(4, "namespace: %s", fluxNamespace)
	b.l(1, "install:")
	b.l(2, "remediation:")
	b.l(3, "retries: 3")
	b.l(1, "values:")
	b.l(2, "replicaCount: %d", 1+g.pick(3, saltHelmReplicas, k, h))
	b.l(2, "image:")
	b.l(3, "repository: %s/%s", registry, a.name)
	b.l(3, "tag: \"%s\"", baseTag)
	b.l(2, "port: %d", 8080+g.pick(20, saltHelmPort, k, h))
	b.l(2, "cluster: ${cluster_name}")
	b.l(2, "logLevel: ${log_level:=info}")
	return b.String()
}

// crdPlural is the plural resource name of a generated CRD kind.
func crdPlural(kind string) string { return strings.ToLower(kind) + "s" }

// crd renders the CustomResourceDefinition of kind: a namespaced resource
// with a structural schema that checks its custom resources.
func crd(kind string) string {
	var b y
	b.l(0, "apiVersion: apiextensions.k8s.io/v1")
	b.l(0, "kind: CustomResourceDefinition")
	b.l(0, "metadata:")
	b.l(1, "name: %s.%s", crdPlural(kind), crdGroup)
	b.l(0, "spec:")
	b.l(1, "group: %s", crdGroup)
	b.l(1, "names:")
	b.l(2, "kind: %s", kind)
	b.l(2, "listKind: %sList", kind)
	b.l(2, "plural: %s", crdPlural(kind))
	b.l(2, "singular: %s", strings.ToLower(kind))
	b.l(1, "scope: Namespaced")
	b.l(1, "versions:")
	b.l(2, "- name: v1alpha1")
	b.l(3, "served: true")
	b.l(3, "storage: true")
	b.l(3, "schema:")
	b.l(4, "openAPIV3Schema:")
	b.l(5, "type: object")
	b.l(5, "properties:")
	b.l(6, "apiVersion:")
	b.l(7, "type: string")
	b.l(6, "kind:")
	b.l(7, "type: string")
	b.l(6, "metadata:")
	b.l(7, "type: object")
	b.l(6, "spec:")
	b.l(7, "type: object")
	b.l(7, "required:")
	b.l(8, "- size")
	b.l(8, "- cluster")
	b.l(7, "properties:")
	b.l(8, "size:")
	b.l(9, "type: integer")
	b.l(9, "minimum: 1")
	b.l(9, "maximum: 10")
	b.l(8, "cluster:")
	b.l(9, "type: string")
	b.l(8, "tier:")
	b.l(9, "type: string")
	b.l(9, "enum:")
	b.l(10, "- bronze")
	b.l(10, "- silver")
	b.l(10, "- gold")
	b.l(6, "status:")
	b.l(7, "type: object")
	b.l(7, "x-kubernetes-preserve-unknown-fields: true")
	return b.String()
}

// customResourceFile is the base file holding app a's resource of kind.
func customResourceFile(kind string) string { return strings.ToLower(kind) + ".yaml" }

var tiers = []string{"bronze", "silver", "gold"}

// customResource renders app k's custom resource of CRD number i.
func (g *gen) customResource(a app, k, i int) string {
	kind := crdKinds[i]
	var b y
	b.l(0, "apiVersion: %s/v1alpha1", crdGroup)
	b.l(0, "kind: %s", kind)
	b.l(0, "metadata:")
	b.l(1, "name: %s", a.name)
	b.l(1, "labels:")
	b.l(2, "fleet.example.com/cluster: ${cluster_name}")
	b.l(0, "spec:")
	b.l(1, "size: %d", 1+g.pick(10, saltCRSize, k, i))
	b.l(1, "cluster: ${cluster_name}")
	b.l(1, "tier: %s", tiers[g.pick(len(tiers), saltCRTier, k, i)])
	return b.String()
}

// crdsKustomization renders the cluster's Flux Kustomization applying
// the CRDs.
func crdsKustomization() string {
	var b y
	b.l(0, "apiVersion: kustomize.toolkit.fluxcd.io/v1")
	b.l(0, "kind: Kustomization")
	b.meta(crdsName, fluxNamespace)
	b.l(0, "spec:")
	b.l(1, "interval: 1h")
	b.l(1, "path: ./%s", crdDir)
	b.l(1, "prune: false")
	b.sourceRef(1)
	return b.String()
}

// secretFile is the base file holding app a's SOPS Secret number s.
func secretFile(s int) string { return fmt.Sprintf("secret-%02d.sops.yaml", s) }

// plainSecret is SOPS Secret number s of app k before encryption.
func (g *gen) plainSecret(a app, k, s int) string {
	var b y
	b.l(0, "apiVersion: v1")
	b.l(0, "kind: Secret")
	b.l(0, "metadata:")
	b.l(1, "name: %s-credentials-%02d", a.name, s)
	b.l(0, "type: Opaque")
	b.l(0, "stringData:")
	b.l(1, "DATABASE_URL: postgres://%s:%016x@db.%s.svc:5432/%s", a.name, g.hash(saltSecret, k, s, 0), a.name, a.name)
	b.l(1, "API_TOKEN: %016x%016x", g.hash(saltSecret, k, s, 1), g.hash(saltSecret, k, s, 2))
	return b.String()
}

// sopsRules renders the repository's .sops.yaml: SOPS files are
// encrypted for the bench age recipient, data and stringData only.
func sopsRules() string {
	var b y
	b.l(0, "# SOPS rules of a generated fleet. The age recipient is the public half of")
	b.l(0, "# fleetgen.AgeIdentity, a published benchmark key: never use it for real secrets.")
	b.l(0, "creation_rules:")
	b.l(1, "- path_regex: .*\\.sops\\.ya?ml$")
	b.l(2, "encrypted_regex: ^(data|stringData)$")
	b.l(2, "age: %s", AgeRecipient)
	return b.String()
}
