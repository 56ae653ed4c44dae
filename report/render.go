package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/render"
)

// RenderHeader starts every file RenderDir writes (render --output-dir); only
// files starting with it are ever overwritten.
const RenderHeader = "# Rendered by fluxgate"

// unitHeader is the comment line that introduces a unit in YAML output.
func unitHeader(u *render.Unit) string {
	loc := u.File
	if u.Line > 0 {
		loc = fmt.Sprintf("%s:%d", u.File, u.Line)
	}
	return fmt.Sprintf("# %s %s (%s) path=%s", u.Cluster, u.ID, loc, u.Path)
}

// RenderYAML writes a render as YAML: each unit a comment line, then its
// objects as documents.
func RenderYAML(w io.Writer, res *render.Result) error {
	var buf bytes.Buffer
	for _, u := range res.Units {
		if err := encodeUnit(&buf, u); err != nil {
			return err
		}
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func encodeUnit(buf *bytes.Buffer, u *render.Unit) error {
	fmt.Fprintln(buf, unitHeader(u))
	for _, o := range u.Objects {
		b, err := yaml.Marshal(o.Object)
		if err != nil {
			return fmt.Errorf("encode %s: %w", o.Ref(), err)
		}
		buf.WriteString("---\n")
		buf.Write(b)
	}
	return nil
}

type jsonObject struct {
	File string `json:"file"`
	Line int    `json:"line"`
	// Template is the chart template of a HelmRelease's object.
	Template string         `json:"template,omitempty"`
	Object   map[string]any `json:"object"`
}

type jsonUnit struct {
	ID       string          `json:"id"`
	Kind     string          `json:"kind"`
	Cluster  string          `json:"cluster"`
	File     string          `json:"file"`
	Line     int             `json:"line"`
	Path     string          `json:"path"`
	Parent   string          `json:"parent,omitempty"`
	Hash     string          `json:"hash"`
	Failed   bool            `json:"failed,omitempty"`
	Objects  []jsonObject    `json:"objects"`
	Problems []fleet.Problem `json:"problems,omitempty"`
}

// RenderJSON writes a render as one JSON document: its clusters and units,
// each with its origin, hash, objects and problems.
func RenderJSON(w io.Writer, res *render.Result) error {
	out := struct {
		Clusters []string   `json:"clusters"`
		Units    []jsonUnit `json:"units"`
	}{Clusters: res.Clusters, Units: []jsonUnit{}}
	for _, u := range res.Units {
		ju := jsonUnit{ID: u.ID, Kind: u.Kind, Cluster: u.Cluster, File: u.File, Line: u.Line, Path: u.Path,
			Parent: u.Parent, Hash: u.Hash, Failed: u.Failed, Objects: []jsonObject{}, Problems: u.Problems}
		for _, o := range u.Objects {
			ju.Objects = append(ju.Objects, jsonObject{File: o.File, Line: o.Line, Template: o.Template, Object: o.Object})
		}
		out.Units = append(out.Units, ju)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// RenderDir writes one file per unit: OUT/<cluster>/<kind>-<namespace>-<name>.yaml
// (overlays: overlay-<path>.yaml; plain manifests: OUT/<dir>/manifests.yaml).
// A file that exists and was not written by fluxgate is never overwritten.
func RenderDir(out string, res *render.Result) error {
	for _, u := range res.Units {
		name := strings.ToLower(u.Kind)
		switch u.Kind {
		case render.KindManifests: // the cluster is the directory
		case render.KindOverlay:
			name += "-" + strings.ReplaceAll(u.Path, "/", "-")
		default:
			name += "-" + u.Namespace + "-" + u.Name
		}
		p := filepath.Join(out, filepath.FromSlash(u.Cluster), name+".yaml")
		if old, err := os.ReadFile(p); err == nil && !bytes.HasPrefix(old, []byte(RenderHeader)) {
			return fmt.Errorf("refusing to overwrite %s: not written by fluxgate", p)
		}
		var buf bytes.Buffer
		fmt.Fprintln(&buf, RenderHeader)
		if err := encodeUnit(&buf, u); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
