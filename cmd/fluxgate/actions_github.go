package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"

	"github.com/fluxgate/fluxgate/gitrepo"
	"github.com/fluxgate/fluxgate/internal/ghaction"
	"github.com/fluxgate/fluxgate/report"
)

// githubReportOptions returns the report options of the github format: in
// a pull request run, the files the pull request changes, so that their
// findings are annotated first. Without a github output, or when the
// changed files cannot be known (a shallow clone without the base commit),
// it returns the zero options and annotations go most serious first.
func githubReportOptions(ctx context.Context, dir string, outputs []outputSpec, stderr io.Writer) report.Options {
	if !slices.ContainsFunc(outputs, func(o outputSpec) bool { return o.format == "github" }) {
		return report.Options{}
	}
	ev, err := ghaction.FromProcess().Event()
	if err != nil || ev.PullRequest == nil || ev.PullRequest.BaseSHA == "" {
		return report.Options{}
	}
	changed, err := changedFiles(ctx, dir, ev.PullRequest.BaseSHA)
	if err != nil {
		fmt.Fprintf(stderr, "fluxgate: files changed since %.12s unknown, annotating the most serious findings first: %v\n", ev.PullRequest.BaseSHA, err)
		return report.Options{}
	}
	return report.Options{ChangedFiles: changed}
}

// changedFiles lists the files of the work tree at dir, relative to dir
// with forward slashes, that differ from their version in the base
// revision or that it does not have. It reads the base tree from the
// object database (go-git, no checkout); git metadata is skipped.
func changedFiles(ctx context.Context, dir, base string) ([]string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return nil, err
	}
	repo, err := gitrepo.Open(abs)
	if err != nil {
		return nil, err
	}
	sub, err := filepath.Rel(repo.Root(), abs)
	if err != nil {
		return nil, err
	}
	tree, err := repo.TreeFS(base)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	work := root.FS()
	var changed []string
	err = fs.WalkDir(work, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		head, err := fs.ReadFile(work, p)
		if err != nil {
			return err
		}
		old, err := fs.ReadFile(tree, path.Join(filepath.ToSlash(sub), p))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err != nil || !bytes.Equal(old, head) {
			changed = append(changed, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return changed, nil
}
