// Package atomicfile writes files that readers see whole or not at all:
// the content goes to a temporary file in the same directory, renamed over
// the target once written. The caches of fleet and render write with it,
// so that a run interrupted, or another run writing the same entry, never
// leaves half a file behind.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write writes data to dir/name, creating dir (and its missing parents)
// 0700 when missing; the file is 0600, readable by its owner alone, as
// cache entries hold rendered manifests. A temporary file left by an
// interrupted write starts with "." and name.
func Write(dir, name string, data []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}
