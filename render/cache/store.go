package cache

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/internal/atomicfile"
	"github.com/fluxgate/fluxgate/internal/valuecodec"
)

// The unit cache keeps rendered units on disk across runs
// (render.Options.UnitCacheDir), so that a run over an unchanged repository, with
// the cache restored (actions/cache), builds nothing.
//
// Layout: <dir>/<slot>/<entry>. A slot names one unit of one cluster by
// what is known before its build: the cache format and the fluxgate build,
// the render options that change output, the cluster, the unit's ID and
// position, its spec as decoded, and for a kustomize build the
// kustomization file Flux generates for it (render's buildKey); for a HelmRelease,
// the Kubernetes version. An entry is named by the slot and the unit's
// input hash (render.Unit.Hash: the spec, the content digests of every file the
// build read, the substitution variables; for a HelmRelease the chart
// archive digest and the merged values). Each entry records the files the
// build read with their digests: a lookup verifies them against the tree,
// resolves the substitution variables again (ConfigMaps from the
// repository and from ancestors), recomputes the input hash and only then
// takes the entry whose name it gives. A slot keeps at most SlotEntries
// entries (base and head of a diff both stay); the whole cache is trimmed
// to its bound, least recently used first.
//
// Never cached: a unit whose build decrypted a SOPS file, that uses
// values from Secrets (substituteFrom, valuesFrom), or whose output holds
// a Secret with any value other than render.EncryptedPlaceholder; a failed unit
// (its failure may come from a file that does not exist, which no digest
// records); a build that read files outside the repository (remote
// bases). Entries are written to a temporary file and renamed; an entry
// that cannot be read or decoded is ignored and the unit is rendered
// again.

// format changes whenever the entry encoding or the meaning of a slot
// changes.
const format = "fluxgate-unit-cache-1"

// DefaultMaxBytes bounds a unit cache opened with a bound of zero.
const DefaultMaxBytes = 512 << 20

// SlotEntries is the number of entries kept per slot.
const SlotEntries = 4

// Dir is the on-disk unit cache of one render. Its methods are safe for
// concurrent use, also by several processes sharing the directory.
type Dir struct {
	dir   string
	max   int64
	wrote atomic.Bool
}

// Open returns the unit cache in dir, bounded to maxBytes (DefaultMaxBytes
// when zero or less). Nothing is read or written until it is used.
func Open(dir string, maxBytes int64) *Dir {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	return &Dir{dir: dir, max: maxBytes}
}

// Entry is one cached unit.
type Entry struct {
	// Reads are the files the build read, relative to the render's root;
	// Overlay is the generated kustomization file among them (the slot
	// covers it).
	Reads   []string
	Overlay string
	// Own answers the lookups of substituteFrom objects in the unit's own
	// build output.
	Own []OwnRecord
	// Problems are the unit's problems found after its variables were
	// resolved (those are found again on every lookup).
	Problems []fleet.Problem
	Objects  []Object
}

// Object is one rendered object of an entry, with the fields of
// render.Object a cached unit keeps.
type Object struct {
	Object   map[string]any
	File     string
	Line     int
	Template string
}

// OwnRecord is one lookup in a unit's own output; Object is nil when the
// output does not hold it.
type OwnRecord struct {
	Ref    string
	Object map[string]any
}

// BuildStamp identifies the fluxgate build: its module version, VCS
// revision and dependencies; for a development build also the executable's
// size and modification time. What a build caches on disk is read back
// only by the same build.
func BuildStamp() string { return buildStamp() }

var buildStamp = sync.OnceValue(func() string {
	h := sha256.New()
	fmt.Fprintln(h, format)
	devel := true
	if bi, ok := debug.ReadBuildInfo(); ok {
		fmt.Fprintln(h, bi.GoVersion, bi.Main.Path, bi.Main.Version, bi.Main.Sum)
		devel = bi.Main.Version == "" || bi.Main.Version == "(devel)"
		for _, s := range bi.Settings {
			if strings.HasPrefix(s.Key, "vcs.") {
				fmt.Fprintln(h, s.Key, s.Value)
				if s.Key == "vcs.modified" && s.Value == "true" {
					devel = true
				}
			}
		}
		for _, d := range bi.Deps {
			fmt.Fprintln(h, d.Path, d.Version, d.Sum)
			if d.Replace != nil {
				fmt.Fprintln(h, "=>", d.Replace.Path, d.Replace.Version, d.Replace.Sum)
			}
		}
	}
	if devel {
		if exe, err := os.Executable(); err == nil {
			if fi, err := os.Stat(exe); err == nil {
				fmt.Fprintln(h, exe, fi.Size(), fi.ModTime().UnixNano())
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))
})

// EntryName names the entry of a slot for a unit's input hash.
func EntryName(slot, hash string) string {
	h := sha256.Sum256([]byte(slot + "\x00" + hash))
	return hex.EncodeToString(h[:])
}

// Candidates lists the entries of a slot, most recently used first.
func (c *Dir) Candidates(slot string) []string {
	des, err := os.ReadDir(filepath.Join(c.dir, slot))
	if err != nil {
		return nil
	}
	type cand struct {
		name string
		t    time.Time
	}
	var out []cand
	for _, de := range des {
		if strings.HasPrefix(de.Name(), ".") || !de.Type().IsRegular() {
			continue
		}
		fi, err := de.Info()
		if err != nil {
			continue
		}
		out = append(out, cand{de.Name(), fi.ModTime()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].t.After(out[j].t) })
	names := make([]string, len(out))
	for i, c := range out {
		names[i] = c.name
	}
	return names
}

// Get reads an entry; any error (missing, partial, corrupt) is a miss.
func (c *Dir) Get(slot, name string) (*Entry, error) {
	f, err := os.Open(filepath.Join(c.dir, slot, name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	e, err := decodeEntry(f, slot, name)
	if err != nil {
		return nil, err
	}
	// The entry was used: it is the last one a trim removes.
	now := time.Now()
	_ = os.Chtimes(f.Name(), now, now)
	return e, nil
}

// Put writes an entry atomically and drops the slot's oldest entries past
// SlotEntries. A cache that cannot be written only costs a build next
// time.
func (c *Dir) Put(slot, name string, e *Entry) {
	data, err := encodeEntry(e, slot, name)
	if err != nil {
		return
	}
	if atomicfile.Write(filepath.Join(c.dir, slot), name, data) != nil {
		return
	}
	c.wrote.Store(true)
	names := c.Candidates(slot)
	for _, n := range names[min(len(names), SlotEntries):] {
		_ = os.Remove(filepath.Join(c.dir, slot, n))
	}
}

// Trim removes the least recently used entries until the cache holds at
// most max bytes, and temporary files left by interrupted writes.
func (c *Dir) Trim() {
	if !c.wrote.Load() {
		return
	}
	type file struct {
		path string
		size int64
		t    time.Time
	}
	var files []file
	var total int64
	stale := time.Now().Add(-time.Hour)
	_ = filepath.WalkDir(c.dir, func(p string, de fs.DirEntry, err error) error {
		if err != nil || !de.Type().IsRegular() {
			return nil
		}
		fi, err := de.Info()
		if err != nil {
			return nil
		}
		if strings.HasPrefix(de.Name(), ".") {
			if fi.ModTime().Before(stale) {
				_ = os.Remove(p)
			}
			return nil
		}
		files = append(files, file{p, fi.Size(), fi.ModTime()})
		total += fi.Size()
		return nil
	})
	if total <= c.max {
		return
	}
	sort.Slice(files, func(i, j int) bool { return files[i].t.Before(files[j].t) })
	for _, f := range files {
		if total <= c.max {
			break
		}
		if os.Remove(f.path) == nil {
			total -= f.size
			_ = os.Remove(filepath.Dir(f.path)) // only when empty
		}
	}
}

// The entry encoding: gzip of a magic line, the slot and entry names, then
// the fields in order. Values of decoded objects are written with their Go
// type (int64 and float64 stay apart, an empty list is not nil) so that a
// cached unit is the very value a build gives.

const entryMagic = "fluxgate unit\n"

func encodeEntry(e *Entry, slot, name string) ([]byte, error) {
	var out strings.Builder
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	w := valuecodec.NewWriter(zw)
	w.Raw(entryMagic)
	w.String(slot)
	w.String(name)
	w.Uvarint(uint64(len(e.Reads)))
	for _, r := range e.Reads {
		w.String(r)
	}
	w.String(e.Overlay)
	w.Uvarint(uint64(len(e.Own)))
	for _, o := range e.Own {
		w.String(o.Ref)
		w.Value(o.Object)
	}
	w.Uvarint(uint64(len(e.Problems)))
	for _, p := range e.Problems {
		for _, s := range []string{p.Rule, string(p.Severity), p.File, p.Object, p.Message} {
			w.String(s)
		}
		w.Varint(int64(p.Line))
	}
	w.Uvarint(uint64(len(e.Objects)))
	for _, o := range e.Objects {
		w.String(o.File)
		w.Varint(int64(o.Line))
		w.String(o.Template)
		w.Value(o.Object)
	}
	w.String(entryMagic)
	if err := w.Flush(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return []byte(out.String()), nil
}

var errCorruptEntry = errors.New("corrupt unit cache entry")

func decodeEntry(in io.Reader, slot, name string) (*Entry, error) {
	zr, err := gzip.NewReader(in)
	if err != nil {
		return nil, err
	}
	r := valuecodec.NewReader(zr)
	if !r.Raw(entryMagic) || r.String() != slot || r.String() != name {
		return nil, errCorruptEntry
	}
	e := &Entry{}
	for range r.Count() {
		e.Reads = append(e.Reads, r.String())
	}
	e.Overlay = r.String()
	for range r.Count() {
		e.Own = append(e.Own, OwnRecord{Ref: r.String(), Object: r.Object()})
	}
	for range r.Count() {
		var p fleet.Problem
		p.Rule, p.Severity, p.File, p.Object, p.Message = r.String(), fleet.Severity(r.String()), r.String(), r.String(), r.String()
		p.Line = int(r.Varint())
		e.Problems = append(e.Problems, p)
	}
	for range r.Count() {
		o := Object{File: r.String(), Line: int(r.Varint()), Template: r.String()}
		o.Object = r.Object()
		e.Objects = append(e.Objects, o)
	}
	if r.String() != entryMagic || r.Err() != nil {
		return nil, errCorruptEntry
	}
	// Read to the end: gzip checks the content's CRC there.
	if err := r.Rest(); err != nil {
		return nil, err
	}
	return e, nil
}
