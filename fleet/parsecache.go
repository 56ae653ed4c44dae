package fleet

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/fluxgate/fluxgate/internal/atomicfile"
	"github.com/fluxgate/fluxgate/internal/valuecodec"
)

// ContentKeyFS is a file system that names a file's content without
// reading it, as ContentKey would (a Git tree: the blob's hash). Loads with
// a ParseCache use it to skip reading the files the cache holds.
type ContentKeyFS interface {
	fs.FS
	ContentKey(name string) (string, error)
}

// ContentKey names content by its Git blob hash, so that a file read from
// a work tree and the same file in a Git tree share parse cache entries.
func ContentKey(data []byte) string {
	h := sha1.New()
	h.Write([]byte("blob " + strconv.Itoa(len(data)) + "\x00"))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// ParseCache holds the files parsed by the loads sharing it
// (Options.Parsed), by path and content. It is safe for concurrent use.
//
// One opened with OpenParseCache also reads what an earlier run saved to
// its file, and Save writes back the entries this run's loads used, so
// that a run over a mostly unchanged repository parses only what changed.
// Files with a Secret are kept in memory only, never written: no Secret
// value is at rest under the cache directory.
type ParseCache struct {
	mu sync.Mutex
	m  map[parseKey]parsed

	file, stamp string
	// stored are the entries of file, still encoded; used are the keys
	// this run's loads looked up or parsed, for Save.
	stored  map[parseKey]string
	used    map[parseKey]bool
	changed bool
}

type parseKey struct {
	path    string
	content string // ContentKey of the file's content
}

// NewParseCache returns an empty ParseCache.
func NewParseCache() *ParseCache { return &ParseCache{m: map[parseKey]parsed{}} }

// OpenParseCache returns a ParseCache that starts with the entries saved
// to file by a build with the same stamp (a build identity: entries hold
// what this code parsed). A missing, foreign or corrupt file is an empty
// start.
func OpenParseCache(file, stamp string) *ParseCache {
	c := NewParseCache()
	c.file, c.stamp = file, stamp
	c.used = map[parseKey]bool{}
	if data, err := os.ReadFile(file); err == nil {
		c.stored, _ = readParsePack(data, stamp)
	}
	return c
}

func (c *ParseCache) get(k parseKey) (parsed, bool) {
	if c == nil {
		return parsed{}, false
	}
	c.mu.Lock()
	p, ok := c.m[k]
	enc, stored := c.stored[k]
	if (ok || stored) && c.used != nil && !(ok && p.holdsSecret()) {
		c.used[k] = true
	}
	c.mu.Unlock()
	if ok {
		return p.clone(), true
	}
	if stored {
		// Decoding gives a copy of its own: nothing to clone.
		p, ok := decodeParsed(k.path, enc)
		if ok && p.holdsSecret() {
			// Written by a build that cached Secrets: dropped at Save.
			c.mu.Lock()
			delete(c.used, k)
			c.changed = true
			c.mu.Unlock()
		}
		return p, ok
	}
	return parsed{}, false
}

// holdsSecret reports whether p has a Secret document, or a kustomization
// whose secretGenerator has literals: their values are plaintext (or
// base64) in the parsed form, so Save never writes it.
func (p parsed) holdsSecret() bool {
	if p.kust != nil && p.kust.secrets {
		return true
	}
	for _, d := range p.docs {
		if d.Kind == "Secret" && (d.APIVersion == "v1" || d.APIVersion == "") {
			return true
		}
		if HasSecretLiterals(d.Object) {
			return true
		}
	}
	return false
}

// HasSecretLiterals reports whether a kustomization (or component) has a
// secretGenerator entry with literals: Secret values written in the
// kustomization file itself.
func HasSecretLiterals(obj map[string]any) bool {
	gens, _ := obj["secretGenerator"].([]any)
	for _, g := range gens {
		if m, ok := g.(map[string]any); ok {
			if l, ok := m["literals"].([]any); ok && len(l) > 0 {
				return true
			}
		}
	}
	return false
}

func (c *ParseCache) put(k parseKey, p parsed) {
	if c == nil {
		return
	}
	p = p.clone()
	c.mu.Lock()
	c.m[k] = p
	if c.used != nil && !p.holdsSecret() {
		c.used[k], c.changed = true, true
	}
	c.mu.Unlock()
}

// Save writes the entries the loads used to the file OpenParseCache
// named, replacing it, when they differ from what it held. It does
// nothing for a cache that NewParseCache made.
func (c *ParseCache) Save() error {
	if c == nil || c.file == "" {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.changed && len(c.used) == len(c.stored) {
		return nil
	}
	var body bytes.Buffer
	w := valuecodec.NewWriter(&body)
	w.Raw(parsePackMagic)
	w.String(c.stamp)
	w.Uvarint(uint64(len(c.used)))
	for k := range c.used {
		enc, ok := c.stored[k]
		if p, parsedHere := c.m[k]; parsedHere || !ok {
			var entry bytes.Buffer
			ew := valuecodec.NewWriter(&entry)
			encodeParsed(ew, p)
			if err := ew.Flush(); err != nil {
				return err
			}
			enc = entry.String()
		}
		w.String(k.path)
		w.String(k.content)
		w.String(enc)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	sum := sha256.Sum256(body.Bytes())
	body.Write(sum[:])
	return atomicfile.Write(filepath.Dir(c.file), filepath.Base(c.file), body.Bytes())
}

// The file of a ParseCache: a magic line, the stamp, the entries (path,
// content key, encoded parse), then the sha256 of everything before it.
const parsePackMagic = "fluxgate parsed files 2\n"

var errParsePack = errors.New("not a parse cache file of this build")

// readParsePack indexes a saved file's entries without decoding them.
func readParsePack(data []byte, stamp string) (map[parseKey]string, error) {
	if len(data) < sha256.Size {
		return nil, errParsePack
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if s := sha256.Sum256(body); !bytes.Equal(s[:], sum) {
		return nil, errParsePack
	}
	r := valuecodec.NewReader(bytes.NewReader(body))
	if !r.Raw(parsePackMagic) || r.String() != stamp {
		return nil, errParsePack
	}
	n := r.Count()
	out := make(map[parseKey]string, n)
	for range n {
		k := parseKey{path: r.String(), content: r.String()}
		out[k] = r.String()
	}
	if r.Err() != nil {
		return nil, errParsePack
	}
	return out, nil
}

func encodeParsed(w *valuecodec.Writer, p parsed) {
	w.Varint(p.size)
	w.Uvarint(uint64(len(p.docs)))
	for _, d := range p.docs {
		w.Varint(int64(d.Line))
		w.Varint(int64(d.Index))
		w.Value(d.Object)
	}
	if p.problem == nil {
		w.Uvarint(0)
	} else {
		w.Uvarint(1)
		for _, s := range []string{p.problem.Rule, string(p.problem.Severity), p.problem.File, p.problem.Object, p.problem.Message} {
			w.String(s)
		}
		w.Varint(int64(p.problem.Line))
	}
	if p.kust == nil {
		w.Uvarint(0)
		return
	}
	w.Uvarint(1)
	k := p.kust
	w.String(k.file)
	for _, l := range [][]string{k.includes, k.remote, k.refs, k.generated} {
		w.Uvarint(uint64(len(l)))
		for _, s := range l {
			w.String(s)
		}
	}
	var flags uint64
	for i, b := range []bool{k.component, k.rewrites, k.namespaced} {
		if b {
			flags |= 1 << i
		}
	}
	w.Uvarint(flags)
}

// decodeParsed decodes an entry of file; false when it is corrupt.
func decodeParsed(file string, enc string) (parsed, bool) {
	r := valuecodec.NewReader(strings.NewReader(enc))
	p := parsed{size: r.Varint()}
	for range r.Count() {
		d := &Document{File: file, Line: int(r.Varint()), Index: int(r.Varint()), Object: r.Object()}
		if d.Object == nil {
			r.Fail(errParsePack)
			break
		}
		d.setIdentity()
		p.docs = append(p.docs, d)
	}
	if r.Uvarint() == 1 {
		p.problem = &Problem{Rule: r.String(), Severity: Severity(r.String()), File: r.String(), Object: r.String(), Message: r.String()}
		p.problem.Line = int(r.Varint())
	}
	if r.Uvarint() == 1 {
		k := &kustFile{file: r.String()}
		for _, l := range []*[]string{&k.includes, &k.remote, &k.refs, &k.generated} {
			for range r.Count() {
				*l = append(*l, r.String())
			}
		}
		flags := r.Uvarint()
		k.component, k.rewrites, k.namespaced = flags&1 != 0, flags&2 != 0, flags&4 != 0
		p.kust = k
	}
	if r.Err() != nil || r.Rest() != nil {
		return parsed{}, false
	}
	return p, true
}
