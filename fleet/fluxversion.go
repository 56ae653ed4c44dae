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

// FluxInstall is a Flux version the repository says it installs.
type FluxInstall struct {
	// Version is the version as written ("v2.3.0", "2.3.x").
	Version string
	// Minor is the Flux 2 minor release it pins (3 for v2.3.0).
	Minor int
	// File and Line locate where the repository says so.
	File string
	Line int
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
	add := func(v, file string, line int) {
		if minor, ok := pinnedMinor(v); ok {
			out = append(out, FluxInstall{Version: v, Minor: minor, File: file, Line: line})
		}
	}
	for _, f := range r.Files {
		if path.Base(f) != "gotk-components.yaml" {
			continue
		}
		data, err := fs.ReadFile(r.FS, f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for line := 1; sc.Scan() && line <= 10; line++ {
			if m := gotkHeaderRE.FindStringSubmatch(sc.Text()); m != nil {
				add(m[1], f, line)
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
		switch v := nested(d.Object, field...).(type) {
		case string:
			add(v, d.File, r.FieldLine(d.File, d.Line, field))
		case float64: // version: 2.6 unquoted
			add(strconv.FormatFloat(v, 'f', -1, 64), d.File, r.FieldLine(d.File, d.Line, field))
		}
	}
	for _, k := range r.kustFiles {
		for _, u := range k.remote {
			m := installRefRE.FindStringSubmatch(u)
			if m == nil {
				continue
			}
			add(m[3], k.file, lineOf(r.FS, k.file, u))
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
