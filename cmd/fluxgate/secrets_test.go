package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxgate/fluxgate/internal/testenv"
	"github.com/fluxgate/fluxgate/render"
)

// TestNoSecretValueInAnyOutput renders and validates the example fleet
// with its test age key (the production SOPS Secret is decrypted in
// memory) plus a plaintext Secret and a secretGenerator literal carrying a
// canary, and checks every byte written by every format.
func TestNoSecretValueInAnyOutput(t *testing.T) {
	const canary = "canary-5b1e77d0"
	dir := t.TempDir()
	testenv.CopyTree(t, filepath.Join(fleets, "fleet-infra"), dir)
	add := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	add("teams/team-a/plain-secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: plain\nstringData:\n  token: "+canary+"-plain\ndata:\n  b64: Y2FuYXJ5LTViMWU3N2QwLWI2NA==\n")
	kust, err := os.ReadFile(filepath.Join(dir, "teams/team-a/kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	add("teams/team-a/kustomization.yaml", strings.Replace(string(kust), "resources:\n", "resources:\n  - plain-secret.yaml\n", 1)+
		"secretGenerator:\n  - name: generated\n    literals:\n      - password="+canary+"-literal\n")
	key, err := filepath.Abs(filepath.Join(fleets, "keys", "age.agekey"))
	if err != nil {
		t.Fatal(err)
	}
	// The decrypted production Secret's values, read with the same key.
	t.Setenv("SOPS_AGE_KEY_FILE", key)
	out := t.TempDir()
	var written []string
	for _, args := range [][]string{
		{"render", dir},
		{"render", dir, "-o", "json"},
		{"render", dir, "--show-secrets"}, // not a terminal: still masked
		{"render", dir, "--output-dir", filepath.Join(out, "units")},
		{"validate", dir, "-o", "text", "-o", "json=" + filepath.Join(out, "r.json"), "-o", "sarif=" + filepath.Join(out, "r.sarif"),
			"-o", "junit=" + filepath.Join(out, "r.xml"), "-o", "github=" + filepath.Join(out, "r.github")},
	} {
		stdout, stderr, _ := run(t, args...)
		written = append(written, stdout, stderr)
	}
	err = filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		written = append(written, string(data))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(written, "\n")
	for _, secret := range []string{canary, "Y2FuYXJ5LTViMWU3N2QwLWI2NA==", "postgres://bac", "sk_test_flux"} {
		if strings.Contains(all, secret) {
			t.Errorf("output contains %q", secret)
		}
	}
	if !strings.Contains(all, "backend-credentials") {
		t.Fatalf("the decrypted Secret was not rendered at all")
	}
	// The outputs above were masked, not empty: the key did decrypt.
	dec, err := secretOptions{}.decryptor()
	if err != nil || dec == nil {
		t.Fatalf("decryptor from SOPS_AGE_KEY_FILE: %v", err)
	}
	abs, repo, cleanup, err := loadRepo(context.Background(), dir, loadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	res, err := render.Render(context.Background(), repo, render.Options{Dir: abs, Decryptor: dec, Paths: []string{"clusters/production"}, Offline: true, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, u := range res.Units {
		for _, v := range u.Sensitive {
			if strings.HasPrefix(v, "postgres://bac") {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("the production SOPS Secret was not decrypted")
	}
}
