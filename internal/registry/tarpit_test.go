package registry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fluxgate/fluxgate/internal/registry"
	"github.com/fluxgate/fluxgate/internal/testenv"
)

// TestTarpitRegistryEndsWithTheContext: a registry that accepts the
// connection and never answers holds a tag listing (retries included) no
// longer than the caller's context.
func TestTarpitRegistryEndsWithTheContext(t *testing.T) {
	addr := testenv.Tarpit(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := registry.New(registry.Options{}).Tags(ctx, registry.Repository{Image: addr + "/org/app"})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want the context's deadline", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("listing the tags of a registry that never answers outlived its context")
	}
}
