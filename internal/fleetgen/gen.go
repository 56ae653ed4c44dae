package fleetgen

import (
	"fmt"
	"strings"
)

// Fixed values shared by every generated fleet.
const (
	gitURL        = "ssh://git@example.com/fleet/bench"
	gitBranch     = "main"
	fluxNamespace = "flux-system"
	settingsName  = "cluster-settings"
	registry      = "registry.example.com"
	baseTag       = "1.0.0"
)

// Word lists the seed picks from. Order matters: changing them changes
// every generated fleet.
var (
	regions = []string{
		"us-east-1", "us-west-2", "eu-west-1", "eu-central-1",
		"ap-southeast-1", "ap-northeast-1", "sa-east-1", "ca-central-1",
	}
	words = []string{
		"api", "web", "worker", "cache", "gateway", "auth", "billing", "search",
		"queue", "report", "ingest", "notify", "media", "ledger", "profile", "catalog",
	}
)

// Salts keep the hash streams of different choices independent.
const (
	saltRegion uint64 = iota + 1
	saltClusterReplicas
	saltWord
	saltPort
	saltOverlayReplicas
	saltTag
	saltHelmReplicas
	saltHelmPort
	saltCRSize
	saltCRTier
	saltSecret
)

// Object kinds of a base, in rotation order.
const (
	kindDeployment     = "Deployment"
	kindService        = "Service"
	kindConfigMap      = "ConfigMap"
	kindServiceAccount = "ServiceAccount"
)

var rotation = []string{kindDeployment, kindService, kindConfigMap, kindServiceAccount}

// gen holds the derived plan of a fleet.
type gen struct {
	c        Config
	clusters []cluster
	apps     []app
}

type cluster struct {
	name     string // cluster-NNN
	region   string
	replicas int
}

type app struct {
	name    string // app-KKK
	objects []object
}

// object is one base object. Objects of the same group (index/4) share a
// name, so the Service selects the Deployment's pods and the Deployment
// uses the group's ConfigMap and ServiceAccount when the base has them.
type object struct {
	kind  string
	name  string
	group int
	port  int
}

func newGen(c Config) *gen {
	g := &gen{c: c}
	for i := range c.Clusters {
		g.clusters = append(g.clusters, cluster{
			name:     clusterName(i),
			region:   regions[g.pick(len(regions), saltRegion, i)],
			replicas: 1 + g.pick(5, saltClusterReplicas, i),
		})
	}
	for k := range c.Kustomizations {
		a := app{name: appName(k)}
		for i := range c.Objects {
			grp := i / len(rotation)
			a.objects = append(a.objects, object{
				kind:  rotation[i%len(rotation)],
				name:  fmt.Sprintf("%s-%02d", words[g.pick(len(words), saltWord, k, grp)], grp),
				group: grp,
				port:  8080 + g.pick(20, saltPort, k, grp),
			})
		}
		g.apps = append(g.apps, a)
	}
	return g
}

func clusterName(i int) string { return fmt.Sprintf("cluster-%03d", i) }
func appName(k int) string     { return fmt.Sprintf("app-%03d", k) }

// pick returns a number in [0, n) derived from the seed, the salt and idx.
func (g *gen) pick(n int, salt uint64, idx ...int) int {
	return int(g.hash(salt, idx...) % uint64(n))
}

// hash returns a 64-bit value derived from the seed, the salt and idx.
func (g *gen) hash(salt uint64, idx ...int) uint64 {
	x := splitmix(uint64(g.c.Seed) ^ splitmix(salt))
	for _, i := range idx {
		x = splitmix(x ^ uint64(i))
	}
	return x
}

// splitmix is the SplitMix64 finalizer: a fixed, well-mixed hash that,
// unlike math/rand, can never change between Go releases.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// has reports whether the app's base holds an object of kind in group grp.
func (a app) has(kind string, grp int) bool {
	for _, o := range a.objects {
		if o.kind == kind && o.group == grp {
			return true
		}
	}
	return false
}

// fileName is the base file holding o.
func (o object) fileName() string {
	return strings.ToLower(o.kind) + "-" + o.name + ".yaml"
}

// emit writes every file of the fleet, in a fixed order.
func (g *gen) emit(w *writer) error {
	for _, cl := range g.clusters {
		dir := "clusters/" + cl.name
		files := []struct{ path, data string }{
			{dir + "/flux-system/kustomization.yaml", kustomization(nil, []string{"gotk-sync.yaml"})},
			{dir + "/flux-system/gotk-sync.yaml", g.gotkSync(cl)},
			{dir + "/cluster-settings.yaml", g.clusterSettings(cl)},
			{dir + "/apps.yaml", g.appKustomizations(cl)},
		}
		if g.c.CRDs > 0 {
			files = append(files, struct{ path, data string }{dir + "/infrastructure.yaml", crdsKustomization()})
		}
		for _, f := range files {
			if err := w.write(f.path, f.data); err != nil {
				return err
			}
		}
	}
	if g.c.HelmReleases > 0 {
		for _, f := range chartFiles() {
			if err := w.write(f.path, f.data); err != nil {
				return err
			}
		}
	}
	if g.c.Secrets > 0 {
		if err := w.write(sopsConfig, sopsRules()); err != nil {
			return err
		}
	}
	if g.c.CRDs > 0 {
		var res []string
		for _, kind := range crdKinds[:g.c.CRDs] {
			res = append(res, crdPlural(kind)+".yaml")
		}
		if err := w.write(crdDir+"/kustomization.yaml", kustomization(nil, res)); err != nil {
			return err
		}
		for i, kind := range crdKinds[:g.c.CRDs] {
			if err := w.write(crdDir+"/"+res[i], crd(kind)); err != nil {
				return err
			}
		}
	}
	for k, a := range g.apps {
		base := "apps/" + a.name + "/base"
		res := []string{"namespace.yaml"}
		for _, o := range a.objects {
			res = append(res, o.fileName())
		}
		extra := g.extraFiles(a, k)
		for _, f := range extra {
			res = append(res, f.path)
		}
		if err := w.write(base+"/kustomization.yaml", kustomization([]string{"namespace: " + a.name}, res)); err != nil {
			return err
		}
		if err := w.write(base+"/namespace.yaml", namespace(a)); err != nil {
			return err
		}
		for _, o := range a.objects {
			if err := w.write(base+"/"+o.fileName(), baseObject(a, o)); err != nil {
				return err
			}
		}
		for _, f := range extra {
			data := f.data
			if f.sops {
				var err error
				if data, err = sopsEncrypt(base+"/"+f.path, data); err != nil {
					return err
				}
			}
			if err := w.write(base+"/"+f.path, data); err != nil {
				return err
			}
		}
		for i, cl := range g.clusters {
			p := "apps/" + a.name + "/overlays/" + cl.name + "/kustomization.yaml"
			if err := w.write(p, g.overlay(a, k, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// baseFile is a file of an app base beyond its Objects.
type baseFile struct {
	path, data string
	sops       bool // data is the plaintext of a file to encrypt with SOPS
}

// extraFiles are app k's HelmReleases, SOPS Secrets and custom resources.
func (g *gen) extraFiles(a app, k int) []baseFile {
	var fs []baseFile
	for h := range g.c.HelmReleases {
		fs = append(fs, baseFile{path: "helmrelease-" + helmReleaseName(a, h) + ".yaml", data: g.helmRelease(a, k, h)})
	}
	for s := range g.c.Secrets {
		fs = append(fs, baseFile{path: secretFile(s), data: g.plainSecret(a, k, s), sops: true})
	}
	for i := range g.c.CRDs {
		fs = append(fs, baseFile{path: customResourceFile(crdKinds[i]), data: g.customResource(a, k, i)})
	}
	return fs
}

// y builds YAML text line by line.
type y struct{ strings.Builder }

// l writes one line indented by two spaces per level.
func (b *y) l(level int, format string, args ...any) {
	b.WriteString(strings.Repeat("  ", level))
	fmt.Fprintf(b, format, args...)
	b.WriteByte('\n')
}

// kustomization renders a kustomize Kustomization with optional extra
// top-level lines (written before resources) and resources.
func kustomization(extra, resources []string) string {
	var b y
	b.l(0, "apiVersion: kustomize.config.k8s.io/v1beta1")
	b.l(0, "kind: Kustomization")
	for _, e := range extra {
		b.l(0, "%s", e)
	}
	b.l(0, "resources:")
	for _, r := range resources {
		b.l(1, "- %s", r)
	}
	return b.String()
}

// meta writes a metadata block with name and optional namespace.
func (b *y) meta(name, ns string) {
	b.l(0, "metadata:")
	b.l(1, "name: %s", name)
	if ns != "" {
		b.l(1, "namespace: %s", ns)
	}
}

// sourceRef writes the flux-system GitRepository reference at level.
func (b *y) sourceRef(level int) {
	b.l(level, "sourceRef:")
	b.l(level+1, "kind: GitRepository")
	b.l(level+1, "name: flux-system")
}

func (g *gen) gotkSync(cl cluster) string {
	var b y
	b.l(0, "---")
	b.l(0, "apiVersion: source.toolkit.fluxcd.io/v1")
	b.l(0, "kind: GitRepository")
	b.meta("flux-system", fluxNamespace)
	b.l(0, "spec:")
	b.l(1, "interval: 1m0s")
	b.l(1, "ref:")
	b.l(2, "branch: %s", gitBranch)
	b.l(1, "secretRef:")
	b.l(2, "name: flux-system")
	b.l(1, "url: %s", gitURL)
	b.l(0, "---")
	b.l(0, "apiVersion: kustomize.toolkit.fluxcd.io/v1")
	b.l(0, "kind: Kustomization")
	b.meta("flux-system", fluxNamespace)
	b.l(0, "spec:")
	b.l(1, "interval: 10m")
	b.l(1, "path: ./clusters/%s", cl.name)
	b.l(1, "prune: true")
	b.sourceRef(1)
	return b.String()
}

func (g *gen) clusterSettings(cl cluster) string {
	var b y
	b.l(0, "apiVersion: v1")
	b.l(0, "kind: ConfigMap")
	b.meta(settingsName, fluxNamespace)
	b.l(0, "data:")
	b.l(1, "cluster_name: %s", cl.name)
	b.l(1, "region: %s", cl.region)
	b.l(1, "replicas: %q", fmt.Sprint(cl.replicas))
	return b.String()
}

// appKustomizations renders the cluster's Flux Kustomizations; every odd
// one depends on the one before it.
func (g *gen) appKustomizations(cl cluster) string {
	var b y
	for k, a := range g.apps {
		b.l(0, "---")
		b.l(0, "apiVersion: kustomize.toolkit.fluxcd.io/v1")
		b.l(0, "kind: Kustomization")
		b.meta(a.name, fluxNamespace)
		b.l(0, "spec:")
		if k%2 == 1 || g.c.CRDs > 0 {
			b.l(1, "dependsOn:")
		}
		if g.c.CRDs > 0 {
			b.l(2, "- name: %s", crdsName)
		}
		if k%2 == 1 {
			b.l(2, "- name: %s", g.apps[k-1].name)
		}
		if g.c.Secrets > 0 {
			b.l(1, "decryption:")
			b.l(2, "provider: sops")
			b.l(2, "secretRef:")
			b.l(3, "name: %s", sopsSecretRef)
		}
		b.l(1, "interval: 10m")
		b.l(1, "path: ./apps/%s/overlays/%s", a.name, cl.name)
		b.l(1, "postBuild:")
		b.l(2, "substitute:")
		b.l(3, "app_name: %s", a.name)
		b.l(2, "substituteFrom:")
		b.l(3, "- kind: ConfigMap")
		b.l(4, "name: %s", settingsName)
		b.l(1, "prune: true")
		b.sourceRef(1)
		b.l(1, "targetNamespace: %s", a.name)
	}
	return b.String()
}

func namespace(a app) string {
	var b y
	b.l(0, "apiVersion: v1")
	b.l(0, "kind: Namespace")
	b.l(0, "metadata:")
	b.l(1, "name: %s", a.name)
	b.l(1, "labels:")
	b.l(2, "fleet.example.com/cluster: ${cluster_name}")
	b.l(2, "fleet.example.com/region: ${region}")
	return b.String()
}

// selector writes the labels that tie a group's Deployment, pods and
// Service together.
func (b *y) selector(level int, a app, o object) {
	b.l(level, "app.kubernetes.io/instance: %s", a.name)
	b.l(level, "app.kubernetes.io/name: %s", o.name)
}

// objectMeta writes the metadata of a base object.
func (b *y) objectMeta(a app, o object) {
	b.l(0, "metadata:")
	b.l(1, "name: %s", o.name)
	b.l(1, "labels:")
	b.selector(2, a, o)
	b.l(2, "fleet.example.com/cluster: ${cluster_name}")
	b.l(1, "annotations:")
	b.l(2, "fleet.example.com/app: ${app_name}")
}

func baseObject(a app, o object) string {
	var b y
	switch o.kind {
	case kindDeployment:
		b.l(0, "apiVersion: apps/v1")
		b.l(0, "kind: Deployment")
		b.objectMeta(a, o)
		b.l(0, "spec:")
		b.l(1, "replicas: 1")
		b.l(1, "selector:")
		b.l(2, "matchLabels:")
		b.selector(3, a, o)
		b.l(1, "template:")
		b.l(2, "metadata:")
		b.l(3, "labels:")
		b.selector(4, a, o)
		b.l(4, "fleet.example.com/region: ${region}")
		b.l(2, "spec:")
		if a.has(kindServiceAccount, o.group) {
			b.l(3, "serviceAccountName: %s", o.name)
		}
		b.l(3, "containers:")
		b.l(4, "- name: app")
		b.l(5, "image: %s/%s:%s", registry, a.name, baseTag)
		b.l(5, "ports:")
		b.l(6, "- name: http")
		b.l(7, "containerPort: %d", o.port)
		b.l(7, "protocol: TCP")
		b.l(5, "env:")
		b.l(6, "- name: CLUSTER_NAME")
		b.l(7, "value: \"${cluster_name}\"")
		b.l(6, "- name: REGION")
		b.l(7, "value: \"${region}\"")
		b.l(6, "- name: REPLICAS")
		// Kustomize drops the quotes and Flux would substitute an integer:
		// keep the value a string after substitution.
		b.l(7, "value: \"replicas-${replicas:=1}\"")
		if a.has(kindConfigMap, o.group) {
			b.l(5, "envFrom:")
			b.l(6, "- configMapRef:")
			b.l(8, "name: %s", o.name)
		}
		b.l(5, "resources:")
		b.l(6, "requests:")
		b.l(7, "cpu: 10m")
		b.l(7, "memory: 32Mi")
		b.l(6, "limits:")
		b.l(7, "memory: 128Mi")
	case kindService:
		b.l(0, "apiVersion: v1")
		b.l(0, "kind: Service")
		b.objectMeta(a, o)
		b.l(0, "spec:")
		b.l(1, "type: ClusterIP")
		b.l(1, "selector:")
		b.selector(2, a, o)
		b.l(1, "ports:")
		b.l(2, "- name: http")
		b.l(3, "port: 80")
		b.l(3, "protocol: TCP")
		b.l(3, "targetPort: http")
	case kindConfigMap:
		b.l(0, "apiVersion: v1")
		b.l(0, "kind: ConfigMap")
		b.objectMeta(a, o)
		b.l(0, "data:")
		b.l(1, "APP_NAME: ${app_name}")
		b.l(1, "CLUSTER_NAME: ${cluster_name}")
		b.l(1, "LISTEN_PORT: %q", fmt.Sprint(o.port))
		b.l(1, "LOG_LEVEL: info")
		b.l(1, "REGION: ${region}")
	case kindServiceAccount:
		b.l(0, "apiVersion: v1")
		b.l(0, "kind: ServiceAccount")
		b.objectMeta(a, o)
		b.l(0, "automountServiceAccountToken: false")
	}
	return b.String()
}

// overlay renders the kustomization of app number k for cluster number i:
// the shared base, a replicas patch for its Deployments and a new image tag.
func (g *gen) overlay(a app, k, i int) string {
	var b y
	b.l(0, "apiVersion: kustomize.config.k8s.io/v1beta1")
	b.l(0, "kind: Kustomization")
	b.l(0, "resources:")
	b.l(1, "- ../../base")
	b.l(0, "patches:")
	b.l(1, "- target:")
	b.l(3, "group: apps")
	b.l(3, "version: v1")
	b.l(3, "kind: Deployment")
	b.l(2, "patch: |-")
	b.l(3, "- op: replace")
	b.l(3, "  path: /spec/replicas")
	b.l(3, "  value: %d", 1+g.pick(5, saltOverlayReplicas, k, i))
	b.l(0, "images:")
	b.l(1, "- name: %s/%s", registry, a.name)
	b.l(2, "newTag: 1.%d.%d", g.pick(10, saltTag, k, i), i)
	return b.String()
}
