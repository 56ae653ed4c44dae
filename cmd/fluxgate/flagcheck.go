package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/go-git/go-git/v5/plumbing"
)

// Flag values are checked before any work starts: a value fluxgate cannot
// work with is a usage error (exit 2) naming the flag and the value, on
// one line, rather than a run that quietly does something else.

// flagError is a flag given a value that cannot be right.
type flagError struct {
	flag, value, reason string
}

func (e *flagError) Error() string {
	return fmt.Sprintf("--%s %q: %s", e.flag, e.value, e.reason)
}

// oneLine joins the lines of an error message, so that a usage error
// stays one line on stderr.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// checkWritableDir makes sure dir is a directory fluxgate can write to,
// creating it with perm when it does not exist (the commands would create
// it anyway): 0700 for a cache, 0755 for the user's output.
func checkWritableDir(flag, dir string, perm os.FileMode) error {
	if err := os.MkdirAll(dir, perm); err != nil {
		return &flagError{flag, dir, "not a writable directory: " + oneLine(err)}
	}
	f, err := os.CreateTemp(dir, ".fluxgate-write-check-")
	if err != nil {
		return &flagError{flag, dir, "not a writable directory: " + oneLine(err)}
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// checkOutputFile refuses a report path that cannot become a file: an
// existing directory, or a path below something that is not one.
func checkOutputFile(spec, p string) error {
	fi, err := os.Stat(p)
	switch {
	case err == nil && fi.IsDir():
		return &flagError{"output", spec, p + " is a directory"}
	case err == nil:
		return nil
	}
	for dir := filepath.Dir(p); ; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		if err == nil {
			if !fi.IsDir() {
				return &flagError{"output", spec, dir + " is not a directory"}
			}
			return nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return &flagError{"output", spec, oneLine(err)}
		}
		if parent := filepath.Dir(dir); parent == dir {
			return nil
		}
	}
}

// checkKubernetesVersion refuses a --kubernetes-version that is not a
// version (Helm charts would fail on it one by one).
func checkKubernetesVersion(v string) error {
	if v == "" {
		return nil
	}
	if _, err := semver.NewVersion(v); err != nil || strings.Count(strings.TrimPrefix(v, "v"), ".") < 1 {
		return &flagError{"kubernetes-version", v, "want a Kubernetes version such as 1.36 or 1.36.2"}
	}
	return nil
}

// checkSchemaLocations refuses a --schema-location that cannot be read:
// a URL (or kubeconform's "default", which is one) with offlineFlag
// (--offline or --untrusted) set, or a local template whose fixed part is
// not a directory.
func checkSchemaLocations(locations []string, offlineFlag string) error {
	for _, loc := range locations {
		if loc == "default" || isURL(loc) {
			if offlineFlag != "" {
				return &flagError{"schema-location", loc, "a URL, and " + offlineFlag + " reads no network; use a local path template"}
			}
			continue
		}
		dir := loc
		switch i := strings.Index(loc, "{{"); {
		case i >= 0:
			dir = loc[:i]
			if !strings.HasSuffix(dir, "/") && !strings.HasSuffix(dir, string(filepath.Separator)) {
				dir = filepath.Dir(dir)
			}
		case strings.HasSuffix(loc, ".json"):
			if _, err := os.Stat(loc); err != nil {
				return &flagError{"schema-location", loc, "no such schema file"}
			}
			continue
		}
		if dir == "" {
			dir = "."
		}
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return &flagError{"schema-location", loc, dir + " is not a directory"}
		}
	}
	return nil
}

func isURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// checkHTTPURL refuses a flag value that is not an http(s) URL.
func checkHTTPURL(flag, v string) error {
	if v != "" && !isURL(v) {
		return &flagError{flag, v, "want an https:// URL"}
	}
	return nil
}

// checkBranch refuses a --branch Git would not take as a branch name.
func checkBranch(b string) error {
	if b == "" {
		return nil
	}
	if err := plumbing.NewBranchReferenceName(b).Validate(); err != nil || strings.HasPrefix(b, "-") {
		return &flagError{"branch", b, "not a valid Git branch name"}
	}
	return nil
}
