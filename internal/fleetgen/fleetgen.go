package fleetgen

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Config sizes a generated fleet.
type Config struct {
	Clusters       int   // N cluster entry points clusters/cluster-000 ...
	Kustomizations int   // K Flux Kustomizations per cluster
	Objects        int   // M Kubernetes objects per Kustomization path
	Seed           int64 // varies names/values deterministically; same Config => byte-identical output

	// The optional parts of the mix; zero leaves them out.
	HelmReleases int // HelmReleases per app base, each installing the local chart charts/app
	Secrets      int // SOPS-encrypted Secrets per app base (age, see AgeIdentity)
	CRDs         int // CustomResourceDefinitions (at most MaxCRDs) and one custom resource of each per app base
}

// ErrInvalidConfig is wrapped by the error [Generate] returns when a
// [Config] field is out of range (every count must be at least 1).
var ErrInvalidConfig = errors.New("invalid fleet config")

// ErrNotEmpty is wrapped by the error [Generate] returns when the output
// directory already holds files.
var ErrNotEmpty = errors.New("output directory is not empty")

// FileCount is the number of files [Generate] writes for c:
// four per cluster, Objects+2 per app base (the objects, a Namespace and
// the kustomization.yaml) and one overlay per cluster and app; then one
// file per app base for each HelmRelease, Secret and CRD, the chart's 6
// files (with HelmReleases), .sops.yaml (with Secrets), and with CRDs
// their kustomization.yaml, one file per CRD and one Flux Kustomization
// file per cluster.
func FileCount(c Config) int {
	n := c.Clusters*4 + c.Kustomizations*(c.Objects+2) + c.Clusters*c.Kustomizations
	n += c.Kustomizations * (c.HelmReleases + c.Secrets + c.CRDs)
	if c.HelmReleases > 0 {
		n += len(chartFiles())
	}
	if c.Secrets > 0 {
		n++
	}
	if c.CRDs > 0 {
		n += 1 + c.CRDs + c.Clusters
	}
	return n
}

// UnitCount is the number of units fluxgate renders for a fleet of c: per
// cluster the flux-system Kustomization, one Kustomization per app, one
// unit per HelmRelease of each app and, with CRDs, the crds Kustomization.
func UnitCount(c Config) int {
	perCluster := 1 + c.Kustomizations*(1+c.HelmReleases)
	if c.CRDs > 0 {
		perCluster++
	}
	return c.Clusters * perCluster
}

// Validate reports whether every count of c is in range; the error wraps
// [ErrInvalidConfig].
func (c Config) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{
		{"clusters", c.Clusters},
		{"kustomizations", c.Kustomizations},
		{"objects", c.Objects},
	} {
		if f.v < 1 {
			return fmt.Errorf("%w: %s must be at least 1, got %d", ErrInvalidConfig, f.name, f.v)
		}
	}
	for _, f := range []struct {
		name   string
		v, max int
	}{
		{"helmreleases", c.HelmReleases, 99},
		{"secrets", c.Secrets, 99},
		{"crds", c.CRDs, MaxCRDs},
	} {
		if f.v < 0 || f.v > f.max {
			return fmt.Errorf("%w: %s must be between 0 and %d, got %d", ErrInvalidConfig, f.name, f.max, f.v)
		}
	}
	return nil
}

// Generate writes the fleet under dir (created if missing; must be empty).
// Returns the number of files written.
//
// Directories are created with mode 0o755 and files with 0o644. On failure
// the count of files already written is returned with the error; the
// partial tree is left in place.
func Generate(dir string, c Config) (int, error) {
	if err := c.Validate(); err != nil {
		return 0, err
	}
	if err := prepareDir(dir); err != nil {
		return 0, err
	}
	w := &writer{root: dir}
	g := newGen(c)
	err := g.emit(w)
	return w.n, err
}

// prepareDir creates dir if needed and checks that it is an empty directory.
func prepareDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create output directory %s: %w", dir, err)
	}
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open output directory %s: %w", dir, err)
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return fmt.Errorf("read output directory %s: %w", dir, err)
	default:
		return fmt.Errorf("%s holds %s: %w", dir, names[0], ErrNotEmpty)
	}
}

// writer writes files below root and counts them.
type writer struct {
	root string
	n    int
}

// write stores data at the slash-separated path rel below the root,
// creating parent directories.
func (w *writer) write(rel, data string) error {
	p := filepath.Join(w.root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("create directory for %s: %w", rel, err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", rel, err)
	}
	w.n++
	return nil
}
