package registry_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/fluxgate/fluxgate/internal/registry"
)

// TestTarpitRegistryEndsWithTheContext: a registry that accepts the
// connection and never answers holds a tag listing (retries included) no
// longer than the caller's context.
func TestTarpitRegistryEndsWithTheContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open until the test ends, never answered
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := registry.New(registry.Options{}).Tags(ctx, registry.Repository{Image: ln.Addr().String() + "/org/app"})
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
