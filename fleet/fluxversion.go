package fleet

import (
	"bufio"
	"bytes"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// removedIn gives, per Flux group/version, the Flux 2 minor release whose
// CRDs stopped serving it. Sources: Flux 2.7 removed the beta1 APIs
// (fluxcd/flux2#5474, fluxcd/website#2316, the Flux v2.7.0 announcement);
// Flux 2.8 removed source v1beta2, kustomize v1beta2 and helm v2beta2
// (fluxcd/flux2#5711); Flux 2.9 removed image v1beta2 and notification
// v1beta2 (fluxcd/flux2#5942, image-reflector-controller v1.2.0,
// notification-controller#1327). Versions missing here are still served.
var removedIn = map[string]int{
	GroupSource + "/v1beta1":       7,
	GroupKustomize + "/v1beta1":    7,
	GroupHelm + "/v2beta1":         7,
	GroupImage + "/v1beta1":        7,
	GroupNotification + "/v1beta1": 7,
	GroupSource + "/v1beta2":       8,
	GroupKustomize + "/v1beta2":    8,
	GroupHelm + "/v2beta2":         8,
	GroupImage + "/v1beta2":        9,
	GroupNotification + "/v1beta2": 9,
}

// FluxRemovedIn returns the Flux 2 minor release that stopped serving a Flux
// apiVersion (group/version), and false when no release has removed it.
func FluxRemovedIn(apiVersion string) (minor int, ok bool) {
	minor, ok = removedIn[apiVersion]
	return minor, ok
}

// introducedIn gives, per Flux apiVersion/kind, the Flux 2 minor release
// that first served it, for the kinds whose current version arrived after
// Flux 2.0. Sources: Flux 2.3 promoted HelmRelease v2 and HelmRepository
// and HelmChart v1 (Flux v2.3.0 release notes); Flux 2.6 promoted
// OCIRepository and Bucket v1 (fluxcd/flux2#5363, fluxcd/website#2261);
// Flux 2.7 promoted the image APIs to v1 and added ExternalArtifact and
// ArtifactGenerator (the Flux v2.7.0 announcement).
var introducedIn = map[string]int{
	GroupHelm + "/v2/HelmRelease":                        3,
	GroupSource + "/v1/HelmRepository":                   3,
	GroupSource + "/v1/HelmChart":                        3,
	GroupSource + "/v1/OCIRepository":                    6,
	GroupSource + "/v1/Bucket":                           6,
	GroupImage + "/v1/ImageRepository":                   7,
	GroupImage + "/v1/ImagePolicy":                       7,
	GroupImage + "/v1/ImageUpdateAutomation":             7,
	GroupSource + "/v1/ExternalArtifact":                 7,
	GroupSourceExtensions + "/v1beta1/ArtifactGenerator": 7,
}

// FluxIntroducedIn returns the Flux 2 minor release that first served a
// Flux apiVersion and kind, and false when Flux 2.0 already served it (or
// the table does not know it).
func FluxIntroducedIn(apiVersion, kind string) (minor int, ok bool) {
	minor, ok = introducedIn[apiVersion+"/"+kind]
	return minor, ok
}

// FluxInstall is a Flux version the repository says it installs.
type FluxInstall struct {
	// Version is the version as written ("v2.3.0", "2.3.x").
	Version string
	// Minor is the Flux 2 minor release it pins (3 for v2.3.0).
	Minor int
	// File and Line locate where the repository says so.
	File string
	Line int
	// DocFile and DocLine locate the document a cluster applies with that
	// release (the OCIRepository, FluxInstance or HelmRelease; the first
	// document of gotk-components.yaml); empty when no Flux unit applies
	// it (install manifests as a remote base are applied by hand).
	DocFile string
	DocLine int
}

// fluxVersionRE matches a version that pins a Flux 2 minor release:
// v2.3.0, 2.3.x, 2.3, ~2.3.0, =2.3.1. Ranges wider than a minor (2.x,
// ^2.3, >=2.3) say nothing about which APIs the cluster serves.
var fluxVersionRE = regexp.MustCompile(`^[=~]?v?2\.(\d+)(\.(\d+|x|\*)([-+][0-9A-Za-z.-]+)?)?$`)

// gotkHeaderRE matches the header flux bootstrap writes into
// gotk-components.yaml.
var gotkHeaderRE = regexp.MustCompile(`^#\s*Flux Version:\s*(\S+)`)

// installRefRE matches a kustomize remote base of Flux's install manifests
// pinned to a release (github.com/fluxcd/flux2/manifests/install?ref=v2.3.0).
var installRefRE = regexp.MustCompile(`github\.com[/:]fluxcd/flux2(\.git)?/+manifests/install\?(.*&)?ref=([^&\s]+)`)

func pinnedMinor(v string) (int, bool) {
	m := fluxVersionRE.FindStringSubmatch(strings.TrimSpace(v))
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

// FluxInstalls lists the Flux versions the repository says it installs:
// the "# Flux Version:" header of a gotk-components.yaml, the tag of a
// flux-manifests OCIRepository, a FluxInstance's spec.distribution.version,
// a HelmRelease's values.instance.distribution.version (the flux-instance
// chart), and Flux's install manifests used as a pinned kustomize remote
// base. Versions that do not pin a minor release are left out. The list is
// sorted by file and line.
func (r *Repo) FluxInstalls() []FluxInstall {
	var out []FluxInstall
	add := func(v, file string, line int, doc *Document) {
		if minor, ok := pinnedMinor(v); ok {
			in := FluxInstall{Version: v, Minor: minor, File: file, Line: line}
			if doc != nil {
				in.DocFile, in.DocLine = doc.File, doc.Line
			}
			out = append(out, in)
		}
	}
	// addValue adds a version read from a YAML value; line locates it and
	// is called only when there is one (it reads the file again). An
	// unquoted number is left out: 2.10 reads as 2.1.
	addValue := func(v any, file string, line func() int, doc *Document) {
		if s, ok := v.(string); ok {
			if _, ok := pinnedMinor(s); ok {
				add(s, file, line(), doc)
			}
		}
	}
	for _, f := range r.Files {
		if path.Base(f) != "gotk-components.yaml" {
			continue
		}
		data, err := r.ReadFile(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for line := 1; sc.Scan() && line <= 10; line++ {
			if m := gotkHeaderRE.FindStringSubmatch(sc.Text()); m != nil {
				var doc *Document
				if docs := r.byFile[f]; len(docs) > 0 {
					doc = docs[0]
				}
				add(m[1], f, line, doc)
				break
			}
		}
	}
	for _, d := range r.Docs {
		var field []string
		switch {
		case d.Group() == GroupSource && d.Kind == "OCIRepository":
			url, _ := nested(d.Object, "spec", "url").(string)
			if !strings.HasSuffix(strings.TrimSuffix(url, "/"), "/flux-manifests") {
				continue
			}
			field = []string{"spec", "ref", "tag"}
		case d.Group() == "fluxcd.controlplane.io" && d.Kind == "FluxInstance":
			field = []string{"spec", "distribution", "version"}
		case d.Group() == GroupHelm && d.Kind == "HelmRelease":
			field = []string{"spec", "values", "instance", "distribution", "version"}
		default:
			continue
		}
		addValue(nested(d.Object, field...), d.File, func() int { return r.FieldLine(d.File, d.Line, field) }, d)
		if d.Kind == "HelmRelease" {
			// The flux-instance values kept in a file the HelmRelease's
			// kustomization generates a ConfigMap from (valuesFrom).
			for _, f := range r.generatedValuesFiles(d) {
				data, err := r.ReadFile(f)
				if err != nil || !bytes.Contains(data, []byte("distribution")) {
					continue
				}
				var n yaml.Node
				if yaml.Unmarshal(data, &n) != nil || len(n.Content) == 0 {
					continue
				}
				var values map[string]any
				if yaml.Unmarshal(data, &values) != nil {
					continue
				}
				vpath := []string{"instance", "distribution", "version"}
				addValue(nested(values, vpath...), f, func() int { return r.FieldLine(f, n.Content[0].Line, vpath) }, d)
			}
		}
	}
	for _, k := range r.kustFiles {
		for _, u := range k.remote {
			m := installRefRE.FindStringSubmatch(u)
			if m == nil {
				continue
			}
			add(m[3], k.file, lineOf(r.FS, k.file, u), nil)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		return out[i].Line < out[j].Line
	})
	return out
}

// generatedValuesFiles lists the files a HelmRelease reads its values from
// through valuesFrom ConfigMaps that the kustomization file of its own
// directory generates (configMapGenerator files under the values key).
func (r *Repo) generatedValuesFiles(d *Document) []string {
	refs, _ := nested(d.Object, "spec", "valuesFrom").([]any)
	if len(refs) == 0 {
		return nil
	}
	dir := path.Dir(d.File)
	k, ok := r.kustFiles[dir]
	if !ok {
		return nil
	}
	data, err := r.ReadFile(k.file)
	if err != nil {
		return nil
	}
	var kust struct {
		ConfigMapGenerator []struct {
			Name  string   `yaml:"name"`
			Files []string `yaml:"files"`
		} `yaml:"configMapGenerator"`
	}
	if yaml.Unmarshal(data, &kust) != nil {
		return nil
	}
	var out []string
	for _, ref := range refs {
		m, _ := ref.(map[string]any)
		if kind, _ := m["kind"].(string); kind != "ConfigMap" {
			continue
		}
		name, _ := m["name"].(string)
		key, _ := m["valuesKey"].(string)
		if key == "" {
			key = "values.yaml"
		}
		for _, g := range kust.ConfigMapGenerator {
			if g.Name != name {
				continue
			}
			for _, f := range g.Files {
				k, file, found := strings.Cut(f, "=")
				if !found {
					file, k = f, path.Base(f)
				}
				if k == key {
					out = append(out, path.Join(dir, file))
				}
			}
		}
	}
	return out
}

// lineOf returns the first line of file holding s, or 1.
func lineOf(fsys fs.FS, file, s string) int {
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		return 1
	}
	for i, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	return 1
}
