package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fluxgate/fluxgate/internal/atomicfile"
)

// GeneratedFormat changes whenever the key of a generated kustomization
// file (render's generatedKey) or the file format below changes.
const GeneratedFormat = "fluxgate-generated-1"

// A generated kustomization file in the cache is <dir>/generated/<key>:
// a line with the format and the key, a line with the file's path, a line
// with the sha256 of both (generatedSum), then the content. Anything else
// (a truncated or garbled file) is a miss.

// Generated reads the generated kustomization file kept under key: its
// path relative to the render's root and its content. A nil Dir holds
// nothing.
func (c *Dir) Generated(key string) (kfile string, manifest []byte, ok bool) {
	if c == nil {
		return "", nil, false
	}
	data, err := os.ReadFile(filepath.Join(c.dir, "generated", key))
	if err != nil {
		return "", nil, false
	}
	lines := bytes.SplitN(data, []byte{'\n'}, 4)
	if len(lines) != 4 || string(lines[0]) != GeneratedFormat+" "+key || len(lines[1]) == 0 {
		return "", nil, false
	}
	if string(lines[2]) != generatedSum(string(lines[1]), lines[3]) {
		return "", nil, false
	}
	return string(lines[1]), lines[3], true
}

// PutGenerated keeps a generated kustomization file under key. A nil Dir
// keeps nothing; a file that cannot be written only costs a generation
// next time.
func (c *Dir) PutGenerated(key, kfile string, manifest []byte) {
	if c == nil {
		return
	}
	data := fmt.Appendf(nil, "%s %s\n%s\n%s\n%s", GeneratedFormat, key, kfile, generatedSum(kfile, manifest), manifest)
	if atomicfile.Write(filepath.Join(c.dir, "generated"), key, data) == nil {
		c.wrote.Store(true)
	}
}

// generatedSum is the digest of a cached generated kustomization file.
func generatedSum(kfile string, manifest []byte) string {
	h := sha256.New()
	h.Write([]byte(kfile))
	h.Write([]byte{0})
	h.Write(manifest)
	return hex.EncodeToString(h.Sum(nil))
}
