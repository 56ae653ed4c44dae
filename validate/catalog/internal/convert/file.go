package convert

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// FormatVersion is the version of the File layout.
const FormatVersion = 1

// File is the catalog as it is committed: gzip-compressed canonical JSON.
// Schemas are stored once, under the hash of their canonical JSON, and
// referred to by hash; Kubernetes definitions keep their references to
// each other by name, so that a definition unchanged between releases is
// stored once even when something it refers to has changed.
type File struct {
	Format int `json:"format"`
	// Sources names the inputs: module@version of the Kubernetes OpenAPI
	// specs and of the Flux CRDs, and how the CRDs were obtained.
	Sources []string `json:"sources"`
	// Kubernetes lists the releases, newest first.
	Kubernetes []Release `json:"kubernetes"`
	// Flux maps "group/version/Kind" to the hash of a standalone schema.
	Flux map[string]string `json:"flux"`
	// Schemas maps a hash to a schema.
	Schemas map[string]json.RawMessage `json:"schemas"`
}

// Release is one Kubernetes release.
type Release struct {
	// Version is "1.37.2".
	Version string `json:"version"`
	// Definitions maps a definition name to the hash of its schema.
	Definitions map[string]string `json:"definitions"`
	// Kinds maps "group/version/Kind" to a definition name.
	Kinds map[string]string `json:"kinds"`
}

// AddSchema stores a schema (already converted) and returns its hash.
func (f *File) AddSchema(s any) (string, error) {
	data, err := Canonical(s)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:8])
	if f.Schemas == nil {
		f.Schemas = map[string]json.RawMessage{}
	}
	if prev, ok := f.Schemas[h]; ok && !bytes.Equal(prev, data) {
		return "", fmt.Errorf("hash collision on %s", h)
	}
	f.Schemas[h] = data
	return h, nil
}

// AddRelease stores a Kubernetes release's definitions and kinds, keeping
// the releases sorted newest first.
func (f *File) AddRelease(version string, defs map[string]any, kinds map[string]string) error {
	r := Release{Version: strings.TrimPrefix(version, "v"), Definitions: map[string]string{}, Kinds: kinds}
	for name, d := range defs {
		h, err := f.AddSchema(d)
		if err != nil {
			return err
		}
		r.Definitions[name] = h
	}
	for gvk, name := range kinds {
		if _, ok := defs[name]; !ok {
			return fmt.Errorf("kind %s refers to unknown definition %s", gvk, name)
		}
	}
	f.Kubernetes = append(f.Kubernetes, r)
	sort.SliceStable(f.Kubernetes, func(i, j int) bool {
		return CompareVersions(f.Kubernetes[i].Version, f.Kubernetes[j].Version) > 0
	})
	return nil
}

// Encode returns the file as gzip-compressed canonical JSON. The output
// depends only on the content: no name, time or OS in the gzip header.
func (f *File) Encode() ([]byte, error) {
	f.Format = FormatVersion
	data, err := Canonical(f)
	if err != nil {
		return nil, err
	}
	return Gzip(data)
}

// Gzip compresses data at the best level, with no name, time or OS in
// the header, so that the output depends only on data.
func Gzip(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	zw.OS = 255 // unknown, whatever builds it
	if _, err := zw.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// DecodeFile reads what Encode wrote.
func DecodeFile(gz []byte) (*File, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, err
	}
	if f.Format != FormatVersion {
		return nil, fmt.Errorf("catalog format %d, want %d", f.Format, FormatVersion)
	}
	return &f, nil
}

// CompareVersions compares dotted numeric versions ("1.36.3", "1.36"),
// returning -1, 0 or 1. Missing parts count as 0.
func CompareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	return 0
}
