package render

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/fluxgate/fluxgate/render/cache"
)

// DefaultUnitCacheMaxBytes bounds the unit cache when
// Options.UnitCacheMaxBytes is zero.
const DefaultUnitCacheMaxBytes = cache.DefaultMaxBytes

// unitSlot names a unit's slot in the unit cache (package cache describes
// it): the build, the options that change output and parts (what else
// decides the unit before its build). It is "" without a unit cache.
func (r *renderer) unitSlot(parts ...string) string {
	if r.ucache == nil {
		return ""
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00remote=%t helm=%t exec=%t decrypt=%t max=%d\x00", cache.BuildStamp(),
		r.opts.AllowRemoteBases, r.opts.EnableHelm, r.opts.EnableExec, r.opts.Decryptor != nil, r.repo.MaxFileSize())
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// cacheableObjects reports whether objects may be written to disk: no
// Secret among them holds a value other than EncryptedPlaceholder.
func cacheableObjects(objs []*Object) bool {
	for _, o := range objs {
		if kind, _ := o.Object["kind"].(string); kind != "Secret" {
			continue
		}
		for _, v := range dataOf("Secret", o.Object) {
			if v != "" && v != EncryptedPlaceholder {
				return false
			}
		}
	}
	return true
}

// toCached gives the objects of a unit as an entry keeps them.
func toCached(objs []*Object) []cache.Object {
	out := make([]cache.Object, len(objs))
	for i, o := range objs {
		out[i] = cache.Object{Object: o.Object, File: o.File, Line: o.Line, Template: o.Template}
	}
	return out
}

// fromCached gives the objects an entry keeps as a unit holds them.
func fromCached(objs []cache.Object) []*Object {
	if objs == nil {
		return nil
	}
	backing := make([]Object, len(objs))
	out := make([]*Object, len(objs))
	for i, o := range objs {
		backing[i] = Object{Object: o.Object, File: o.File, Line: o.Line, Template: o.Template}
		out[i] = &backing[i]
	}
	return out
}
