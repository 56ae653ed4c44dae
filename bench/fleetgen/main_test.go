package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		args       func(dir string) []string
		wantCode   int
		wantStdout string
	}{
		{
			name: "generates",
			args: func(dir string) []string {
				return []string{"-out", filepath.Join(dir, "f"), "-clusters", "2", "-kustomizations", "3", "-objects", "8", "-seed", "1"}
			},
			wantStdout: "44\n",
		},
		{
			name: "generates the mix",
			args: func(dir string) []string {
				return []string{"-out", filepath.Join(dir, "f"), "-clusters", "2", "-kustomizations", "3", "-objects", "8",
					"-helmreleases", "1", "-secrets", "1", "-crds", "2"}
			},
			// 44 + 3×(1+1+2) base files + 6 chart files + .sops.yaml + (1+2+2) CRD files
			wantStdout: "68\n",
		},
		{
			name: "units",
			args: func(string) []string {
				return []string{"-units", "-clusters", "10", "-kustomizations", "49", "-helmreleases", "1", "-crds", "2"}
			},
			wantStdout: "1000\n",
		},
		{name: "units of an invalid config", args: func(string) []string { return []string{"-units", "-crds", "99"} }, wantCode: 2},
		{name: "missing out", args: func(string) []string { return nil }, wantCode: 2},
		{name: "bad flag", args: func(string) []string { return []string{"-nope"} }, wantCode: 2},
		{
			name:     "invalid config",
			args:     func(dir string) []string { return []string{"-out", dir, "-clusters", "0"} },
			wantCode: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args(t.TempDir()), &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("run exit code = %d, want %d (stderr %q)", code, tt.wantCode, stderr.String())
			}
			if got := stdout.String(); got != tt.wantStdout {
				t.Errorf("stdout = %q, want %q", got, tt.wantStdout)
			}
			if tt.wantCode != 0 && strings.TrimSpace(stderr.String()) == "" {
				t.Errorf("no message on stderr")
			}
		})
	}
}
