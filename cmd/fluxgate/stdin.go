package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/fluxgate/fluxgate/validate"
)

// validate - reads a manifest stream from stdin: the output of a
// `kustomize build`, `flux build` or `helm template` pipe. The stream is
// checked as plain manifests, every document an object, Flux
// Kustomizations included (they are objects of the stream, not builds to
// follow); findings name it stdinName.

// stdinArg is the DIR argument that reads stdin.
const stdinArg = "-"

// stdinName is how findings and reports name the stream.
const stdinName = "<stdin>"

// stdinFile is the stream's file in its temporary directory.
const stdinFile = "stdin.yaml"

// readStdin copies the stream r into a new temporary directory, refusing
// one over limit bytes (--max-file-size) without reading further, and
// returns the directory and the function that removes it. A stream that
// never ends does not hold the run past its context: the copy is left
// behind, its directory removed.
func readStdin(ctx context.Context, r io.Reader, limit int64) (dir string, cleanup func(), err error) {
	dir, err = os.MkdirTemp("", "fluxgate-stdin-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	f, err := os.OpenFile(filepath.Join(dir, stdinFile), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		cleanup()
		return "", nil, err
	}
	type copied struct {
		n   int64
		err error
	}
	done := make(chan copied, 1)
	go func() {
		n, err := io.Copy(f, io.LimitReader(r, limit+1))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		done <- copied{n, err}
	}()
	var n int64
	select {
	case c := <-done:
		n, err = c.n, c.err
	case <-ctx.Done():
		// The copy may still write a block it holds: close the file under
		// it so that nothing lands on disk after the directory goes.
		f.Close()
		cleanup()
		return "", nil, fmt.Errorf("read stdin: %w", context.Cause(ctx))
	}
	switch {
	case err != nil:
		cleanup()
		return "", nil, fmt.Errorf("read stdin: %w", err)
	case n > limit:
		cleanup()
		return "", nil, fmt.Errorf("stdin: the manifest stream is over --max-file-size (%d bytes); raise it to check a larger stream", limit)
	case n == 0:
		cleanup()
		return "", nil, errors.New("stdin: empty manifest stream; pipe manifests in, such as: kustomize build apps/production | fluxgate validate -")
	}
	return dir, cleanup, nil
}

// nameStdin makes the findings of the stream's file name the stream.
func nameStdin(rep *validate.Report) {
	for i := range rep.Findings {
		if rep.Findings[i].File == stdinFile {
			rep.Findings[i].File = stdinName
		}
	}
	for i := range rep.Units {
		if rep.Units[i].File == stdinFile {
			rep.Units[i].File = stdinName
		}
	}
}
