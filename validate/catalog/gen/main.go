// Command gen builds the schema catalog that package catalog embeds
// (data/catalog.json.gz). Run it with go generate ./validate/catalog.
//
// Inputs, all from the Go module proxy:
//   - the OpenAPI v3 spec (api/openapi-spec/v3/*.json) of each Kubernetes
//     release in the k8s.io/kubernetes module;
//   - the Flux CRDs: generated with controller-gen from each controller's
//     api module, the way the Flux repositories generate them. Where the
//     proxy also serves the controller's root module (source-controller,
//     kustomize-controller), the CRD files it ships are used, after a
//     self-check that controller-gen reproduces their openAPIV3Schema.
//
// The same inputs always give the same bytes: JSON with sorted keys, no
// timestamps, gzip without name or time. With -check, gen compares
// instead of writing and exits 1 when the committed file is stale.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/fluxgate/fluxgate/validate/catalog/internal/convert"
)

// kubernetesVersions are the newest patch release the module proxy serves
// for k8s.io/kubernetes of every minor version from 1.27 (the oldest whose
// module ships the OpenAPI v3 spec for every group) to the newest.
var kubernetesVersions = []string{
	"v1.37.2", "v1.36.3", "v1.35.4", "v1.34.4", "v1.33.13", "v1.32.13",
	"v1.31.14", "v1.30.14", "v1.29.15", "v1.28.15", "v1.27.16",
}

// controllerGenVersion is the controller-tools release the Flux
// controllers' Makefiles use (CONTROLLER_GEN_VERSION).
const controllerGenVersion = "v0.21.0"

// fluxModule is one Flux API module and, when the proxy serves it, the
// controller module that ships the CRD files.
type fluxModule struct {
	API     string
	Version string
	Shipped string // root module with config/crd/bases, or ""
}

// fluxModules are the API modules fluxgate decodes Flux objects with
// (go.mod), plus source-watcher's.
var fluxModules = []fluxModule{
	{API: "github.com/fluxcd/source-controller/api", Version: "v1.10.1", Shipped: "github.com/fluxcd/source-controller"},
	{API: "github.com/fluxcd/kustomize-controller/api", Version: "v1.10.1", Shipped: "github.com/fluxcd/kustomize-controller"},
	{API: "github.com/fluxcd/helm-controller/api", Version: "v1.7.1"},
	{API: "github.com/fluxcd/image-reflector-controller/api", Version: "v1.3.0"},
	{API: "github.com/fluxcd/image-automation-controller/api", Version: "v1.3.0"},
	{API: "github.com/fluxcd/notification-controller/api", Version: "v1.10.0"},
	{API: "github.com/fluxcd/source-watcher/api/v2", Version: "v2.3.1"},
}

// wantFluxKinds must all be in the result.
var wantFluxKinds = []string{
	"source.toolkit.fluxcd.io/v1/GitRepository",
	"source.toolkit.fluxcd.io/v1/OCIRepository",
	"source.toolkit.fluxcd.io/v1/HelmRepository",
	"source.toolkit.fluxcd.io/v1/HelmChart",
	"source.toolkit.fluxcd.io/v1/Bucket",
	"source.toolkit.fluxcd.io/v1/ExternalArtifact",
	"kustomize.toolkit.fluxcd.io/v1/Kustomization",
	"helm.toolkit.fluxcd.io/v2/HelmRelease",
	"image.toolkit.fluxcd.io/v1/ImageRepository",
	"image.toolkit.fluxcd.io/v1/ImagePolicy",
	"image.toolkit.fluxcd.io/v1/ImageUpdateAutomation",
	"notification.toolkit.fluxcd.io/v1/Alert",
	"notification.toolkit.fluxcd.io/v1/Provider",
	"notification.toolkit.fluxcd.io/v1/Receiver",
	"source.extensions.fluxcd.io/v1beta1/ArtifactGenerator",
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		if errors.Is(err, errStale) {
			os.Exit(1)
		}
		os.Exit(2)
	}
}

var errStale = errors.New("committed catalog is stale: run go generate ./validate/catalog")

func run(ctx context.Context, args []string, log io.Writer) error {
	fl := flag.NewFlagSet("gen", flag.ContinueOnError)
	out := fl.String("out", filepath.Join("data", "catalog.json.gz"), "file to write")
	k8s := fl.String("kubernetes", strings.Join(kubernetesVersions, ","), "k8s.io/kubernetes versions, comma-separated")
	cgBin := fl.String("controller-gen", "", "controller-gen binary to use (default: go install controller-gen@"+controllerGenVersion+" into a temporary GOBIN)")
	check := fl.Bool("check", false, "compare with -out instead of writing it")
	eco := fl.Bool("ecosystem", false, "build the ecosystem catalog (-ecosystem-dir) from -pins instead")
	pins := fl.String("pins", filepath.Join("gen", "pins.yaml"), "the ecosystem catalog's pins")
	ecoDir := fl.String("ecosystem-dir", filepath.Join("data", "ecosystem"), "directory of the ecosystem catalog")
	if err := fl.Parse(args); err != nil {
		return err
	}

	tmp, err := os.MkdirTemp("", "fluxgate-catalog-gen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	g := &generator{ctx: ctx, tmp: tmp, log: log, controllerGen: *cgBin}
	if *eco {
		return g.ecosystem(*pins, *ecoDir, *check)
	}

	var f convert.File
	for _, v := range strings.Split(*k8s, ",") {
		if err := g.kubernetes(&f, strings.TrimSpace(v)); err != nil {
			return fmt.Errorf("kubernetes %s: %w", v, err)
		}
	}
	newest := f.Kubernetes[0]
	meta, err := convert.Expand("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", lookupIn(&f, &newest))
	if err != nil {
		return fmt.Errorf("ObjectMeta: %w", err)
	}
	if err := g.flux(&f, meta); err != nil {
		return err
	}

	data, err := f.Encode()
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "catalog: %d Kubernetes releases, %d Flux kinds, %d distinct schemas, %d bytes compressed\n",
		len(f.Kubernetes), len(f.Flux), len(f.Schemas), len(data))
	if *check {
		old, err := os.ReadFile(*out)
		if err != nil || !bytes.Equal(old, data) {
			return errStale
		}
		fmt.Fprintf(log, "catalog: %s is up to date\n", *out)
		return nil
	}
	if old, err := os.ReadFile(*out); err == nil && bytes.Equal(old, data) {
		fmt.Fprintf(log, "catalog: %s unchanged\n", *out)
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	return os.WriteFile(*out, data, 0o644)
}

type generator struct {
	ctx           context.Context
	tmp           string
	log           io.Writer
	controllerGen string
}

// kubernetes adds one release from the module's OpenAPI v3 spec, checked
// against the kinds of its OpenAPI v2 spec (swagger.json).
func (g *generator) kubernetes(f *convert.File, version string) error {
	dir, err := g.download("k8s.io/kubernetes@" + version)
	if err != nil {
		return err
	}
	specDir := filepath.Join(dir, "api", "openapi-spec", "v3")
	files, err := filepath.Glob(filepath.Join(specDir, "*.json"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	var docs [][]byte
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		docs = append(docs, b)
	}
	defs, kinds, err := convert.Kubernetes(docs)
	if err != nil {
		return err
	}
	if err := checkSwaggerKinds(filepath.Join(dir, "api", "openapi-spec", "swagger.json"), kinds); err != nil {
		return err
	}
	if err := f.AddRelease(version, defs, kinds); err != nil {
		return err
	}
	f.Sources = append(f.Sources, "k8s.io/kubernetes@"+version+" api/openapi-spec/v3")
	fmt.Fprintf(g.log, "kubernetes %s: %d definitions, %d kinds\n", version, len(defs), len(kinds))
	return nil
}

// checkSwaggerKinds compares the kinds found in the v3 spec with the v2
// spec's. The meta/v1 definitions (DeleteOptions, WatchEvent) are left
// out: each spec lists them under the groups it happens to serve.
func checkSwaggerKinds(path string, kinds map[string]string) error {
	const meta = "io.k8s.apimachinery.pkg.apis.meta.v1."
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var swagger struct {
		Definitions map[string]struct {
			GVK []struct{ Group, Version, Kind string } `json:"x-kubernetes-group-version-kind"`
		} `json:"definitions"`
	}
	if err := json.Unmarshal(b, &swagger); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	v2 := map[string]bool{}
	for name, d := range swagger.Definitions {
		if strings.HasPrefix(name, meta) {
			continue
		}
		for _, x := range d.GVK {
			v2[convert.GVK(x.Group, x.Version, x.Kind)] = true
		}
	}
	for gvk, name := range kinds {
		if strings.HasPrefix(name, meta) {
			continue
		}
		if !v2[gvk] {
			return fmt.Errorf("%s is in the v3 spec only", gvk)
		}
		delete(v2, gvk)
	}
	for gvk := range v2 {
		return fmt.Errorf("%s is in swagger.json only", gvk)
	}
	return nil
}

// flux adds the schemas of every served version of every Flux CRD.
func (g *generator) flux(f *convert.File, objectMeta map[string]any) error {
	if g.controllerGen == "" {
		bin := filepath.Join(g.tmp, "bin")
		fmt.Fprintf(g.log, "installing controller-gen %s\n", controllerGenVersion)
		if _, err := g.goCmd(g.tmp, []string{"GOBIN=" + bin}, "install", "sigs.k8s.io/controller-tools/cmd/controller-gen@"+controllerGenVersion); err != nil {
			return err
		}
		g.controllerGen = filepath.Join(bin, "controller-gen")
	}
	f.Flux = map[string]string{}
	for _, m := range fluxModules {
		crds, how, err := g.fluxCRDs(m)
		if err != nil {
			return fmt.Errorf("%s@%s: %w", m.API, m.Version, err)
		}
		f.Sources = append(f.Sources, how)
		for _, crd := range crds {
			schemas, err := convert.CRD(crd.doc, objectMeta)
			if err != nil {
				return fmt.Errorf("%s: %w", crd.file, err)
			}
			for gvk, data := range schemas {
				if _, dup := f.Flux[gvk]; dup {
					return fmt.Errorf("%s: %s is defined twice", crd.file, gvk)
				}
				v, err := convert.Decode(data)
				if err != nil {
					return err
				}
				if f.Flux[gvk], err = f.AddSchema(v); err != nil {
					return err
				}
			}
		}
	}
	for _, gvk := range wantFluxKinds {
		if _, ok := f.Flux[gvk]; !ok {
			return fmt.Errorf("no CRD served %s", gvk)
		}
	}
	fmt.Fprintf(g.log, "flux: %d kinds\n", len(f.Flux))
	return nil
}

type crdFile struct {
	file string
	doc  map[string]any
}

// fluxCRDs generates the CRDs of an API module with controller-gen and,
// when the controller ships them, returns the shipped ones after checking
// that they agree. how describes the source for File.Sources.
func (g *generator) fluxCRDs(m fluxModule) (crds []crdFile, how string, err error) {
	src, err := g.download(m.API + "@" + m.Version)
	if err != nil {
		return nil, "", err
	}
	work := filepath.Join(g.tmp, "src", strings.ReplaceAll(m.API, "/", "_"))
	if err := copyTree(src, work); err != nil {
		return nil, "", err
	}
	outDir := filepath.Join(g.tmp, "crd", strings.ReplaceAll(m.API, "/", "_"))
	cmd := exec.CommandContext(g.ctx, g.controllerGen, "crd:crdVersions=v1", "paths=./...", "output:crd:dir="+outDir)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, "", fmt.Errorf("controller-gen: %w\n%s", err, out)
	}
	generated, err := readCRDs(outDir)
	if err != nil {
		return nil, "", err
	}
	if len(generated) == 0 {
		return nil, "", errors.New("controller-gen made no CRD")
	}
	how = fmt.Sprintf("%s@%s CRDs generated by controller-gen %s", m.API, m.Version, controllerGenVersion)
	fmt.Fprintf(g.log, "%s@%s: controller-gen made %d CRDs\n", m.API, m.Version, len(generated))
	if m.Shipped == "" {
		return generated, how, nil
	}

	root, err := g.download(m.Shipped + "@" + m.Version)
	if err != nil {
		return nil, "", err
	}
	shipped, err := readCRDs(filepath.Join(root, "config", "crd", "bases"))
	if err != nil {
		return nil, "", err
	}
	if err := compareCRDs(shipped, generated); err != nil {
		return nil, "", fmt.Errorf("shipped CRDs of %s@%s and controller-gen's differ: %w", m.Shipped, m.Version, err)
	}
	identical := sameFiles(filepath.Join(root, "config", "crd", "bases"), outDir)
	fmt.Fprintf(g.log, "%s@%s: %d shipped CRDs; controller-gen's openAPIV3Schema match them (files byte-identical: %t)\n",
		m.Shipped, m.Version, len(shipped), identical)
	how = fmt.Sprintf("%s@%s config/crd/bases (checked against controller-gen %s on %s@%s)", m.Shipped, m.Version, controllerGenVersion, m.API, m.Version)
	return shipped, how, nil
}

// compareCRDs checks that two sets of CRDs have the same names, versions
// and openAPIV3Schema, ignoring descriptions and key order.
func compareCRDs(a, b []crdFile) error {
	index := func(list []crdFile) (map[string][]byte, error) {
		out := map[string][]byte{}
		for _, c := range list {
			name, _ := lookupPath(c.doc, "metadata", "name").(string)
			versions, _ := lookupPath(c.doc, "spec", "versions").([]any)
			for _, v := range versions {
				vm, _ := v.(map[string]any)
				s := stripDescriptions(lookupPath(vm, "schema", "openAPIV3Schema"))
				data, err := convert.Canonical(map[string]any{"served": vm["served"], "storage": vm["storage"], "schema": s})
				if err != nil {
					return nil, err
				}
				out[fmt.Sprintf("%s %v", name, vm["name"])] = data
			}
		}
		return out, nil
	}
	ia, err := index(a)
	if err != nil {
		return err
	}
	ib, err := index(b)
	if err != nil {
		return err
	}
	keys := map[string]bool{}
	for k := range ia {
		keys[k] = true
	}
	for k := range ib {
		keys[k] = true
	}
	var diffs []string
	for k := range keys {
		if !bytes.Equal(ia[k], ib[k]) {
			diffs = append(diffs, k)
		}
	}
	if len(diffs) > 0 {
		sort.Strings(diffs)
		return fmt.Errorf("openAPIV3Schema differs for %s", strings.Join(diffs, ", "))
	}
	return nil
}

// stripDescriptions drops every description (a string-valued
// "description" key; a property named description has a schema value).
func stripDescriptions(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range t {
			if _, isString := x.(string); k == "description" && isString {
				continue
			}
			out[k] = stripDescriptions(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = stripDescriptions(x)
		}
		return out
	default:
		return v
	}
}

func lookupPath(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// sameFiles reports whether two directories hold the same files with the
// same bytes.
func sameFiles(a, b string) bool {
	ea, err1 := os.ReadDir(a)
	eb, err2 := os.ReadDir(b)
	if err1 != nil || err2 != nil || len(ea) != len(eb) {
		return false
	}
	for i := range ea {
		if ea[i].Name() != eb[i].Name() {
			return false
		}
		x, err1 := os.ReadFile(filepath.Join(a, ea[i].Name()))
		y, err2 := os.ReadFile(filepath.Join(b, eb[i].Name()))
		if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
			return false
		}
	}
	return true
}

// readCRDs reads the CustomResourceDefinitions in the YAML files of dir,
// in file order.
func readCRDs(dir string) ([]crdFile, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []crdFile
	for _, p := range files {
		crds, err := readCRDFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, crds...)
	}
	return out, nil
}

// readCRDFile reads the CustomResourceDefinitions of one YAML file, in
// file order.
func readCRDFile(p string) ([]crdFile, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var out []crdFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var doc any
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if doc == nil {
			continue
		}
		n, err := convert.Normalize(doc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		m, _ := n.(map[string]any)
		if m["kind"] != "CustomResourceDefinition" {
			continue
		}
		out = append(out, crdFile{file: filepath.Base(p), doc: m})
	}
	return out, nil
}

// download fetches module@version into the module cache and returns its
// directory.
func (g *generator) download(mod string) (string, error) {
	out, err := g.goCmd(g.tmp, nil, "mod", "download", "-json", mod)
	if err != nil {
		return "", err
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil {
		return "", fmt.Errorf("go mod download %s: %w", mod, err)
	}
	if info.Error != "" || info.Dir == "" {
		return "", fmt.Errorf("go mod download %s: %s", mod, info.Error)
	}
	return info.Dir, nil
}

// goCmd runs the go command in dir, outside any module or workspace.
func (g *generator) goCmd(dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(g.ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod"), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out, nil
}

// copyTree copies a module directory (read-only in the module cache) to a
// writable place.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

// lookupIn reads definitions of a release from a File being built.
func lookupIn(f *convert.File, r *convert.Release) convert.Lookup {
	return func(name string) (map[string]any, bool) {
		h, ok := r.Definitions[name]
		if !ok {
			return nil, false
		}
		v, err := convert.Decode(f.Schemas[h])
		if err != nil {
			return nil, false
		}
		m, ok := v.(map[string]any)
		return m, ok
	}
}
