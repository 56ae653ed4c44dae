//go:build !unix

package testenv

import (
	"os/exec"
	"time"
)

func setProcessGroup(*exec.Cmd) {}

func stopProcessGroup(cmd *exec.Cmd, exited <-chan error) {
	_ = cmd.Process.Kill()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
	}
}

// lockFile does not lock: concurrent builds only waste time.
func lockFile(string) (func(), error) { return func() {}, nil }
