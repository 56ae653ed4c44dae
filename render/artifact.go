package render

import (
	"errors"
	"fmt"
	"io"

	"os"
	"path/filepath"

	"github.com/fluxgate/fluxgate/fleet"
)

// materialize lays out in dst what source-controller would package from the
// repository: every directory and file the ignore rules keep (.sourceignore
// and Flux's defaults), and nothing else. Files are hard-linked where the
// filesystem allows and copied otherwise; symlinked files are copied with
// the content they point to inside the repository. Reads go through an
// os.Root, so nothing outside src is reached.
func materialize(repo *fleet.Repo, src, dst string) error {
	root, err := os.OpenRoot(src)
	if err != nil {
		return err
	}
	defer root.Close()
	for _, d := range repo.Dirs {
		if err := os.MkdirAll(filepath.Join(dst, filepath.FromSlash(d)), 0o755); err != nil {
			return err
		}
	}
	for _, f := range repo.Tree {
		target := filepath.Join(dst, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		info, err := root.Lstat(filepath.FromSlash(f))
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if info.Mode().IsRegular() {
			if err := os.Link(filepath.Join(src, filepath.FromSlash(f)), target); err == nil {
				continue
			}
		}
		if err := copyFile(root, f, target); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	return nil
}

func copyFile(root *os.Root, name, target string) error {
	return copyFrom(root, name, func(perm os.FileMode) (*os.File, error) {
		return os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
	})
}

// copyFrom copies the regular file name of root into the file create
// opens, which gets the source's permissions plus the owner's write bit.
func copyFrom(root *os.Root, name string, create func(perm os.FileMode) (*os.File, error)) error {
	in, err := root.Open(filepath.FromSlash(name))
	if err != nil {
		return err
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return err
	}
	if info.IsDir() {
		return errors.New("is a directory")
	}
	out, err := create(info.Mode().Perm() | 0o200)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
