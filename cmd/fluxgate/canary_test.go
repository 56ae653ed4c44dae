package main

import (
	"encoding/base64"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/fluxgate/fluxgate/internal/testenv"
)

// canaryFleet is a repository whose Secret values are all canaries: a
// plaintext Secret (stringData and data), a SOPS Secret, a secretGenerator
// (a literal and a file), a substituteFrom Secret whose value reaches a
// ConfigMap, and a HelmRelease whose values come from a SOPS Secret
// (valuesFrom) and whose chart renders them into a Secret and a
// ConfigMap. The "infra" Kustomization holds no Secret, so that the
// caches have entries to show. canaries lists each value as written.
func canaryFleet(t *testing.T, ageKey *sopsage.MasterKey, tag string) (files map[string]string, canaries []string) {
	c := func(what string) string {
		v := "canary-" + tag + "-" + what
		canaries = append(canaries, v)
		return v
	}
	enc := func(plain string) string {
		return sopsEncryptYAML(t, plain, ageKey)
	}
	files = map[string]string{
		"clusters/prod/flux-system/kustomization.yaml": "resources:\n- gotk-sync.yaml\n",
		"clusters/prod/flux-system/gotk-sync.yaml":     gotkSync("prod"),
		"clusters/prod/infra.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: infra\n  namespace: flux-system\nspec:\n" +
			"  interval: 10m\n  path: ./infra\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n",
		"clusters/prod/apps.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n" +
			"  interval: 10m\n  path: ./apps\n  prune: true\n  targetNamespace: apps\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n" +
			"  decryption:\n    provider: sops\n    secretRef:\n      name: sops-age\n" +
			"  postBuild:\n    substituteFrom:\n      - kind: Secret\n        name: cluster-vars\n",
		"clusters/prod/cluster-vars.yaml": enc("apiVersion: v1\nkind: Secret\nmetadata:\n  name: cluster-vars\n  namespace: flux-system\nstringData:\n  subst_token: " + c("subst") + "\n"),
		"clusters/prod/helm-values.yaml": enc("apiVersion: v1\nkind: Secret\nmetadata:\n  name: helm-values\n  namespace: flux-system\nstringData:\n" +
			"  values.yaml: |\n    password: " + c("valuesfrom") + "\n"),
		"clusters/prod/release.yaml": `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: vault
  namespace: flux-system
spec:
  interval: 10m
  chart:
    spec:
      chart: ./charts/vault
      sourceRef:
        kind: GitRepository
        name: flux-system
  valuesFrom:
    - kind: Secret
      name: helm-values
`,
		"charts/vault/Chart.yaml":  "apiVersion: v2\nname: vault\nversion: 1.0.0\n",
		"charts/vault/values.yaml": "password: default\n",
		"charts/vault/templates/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: vault\nstringData:\n  password: {{ .Values.password | quote }}\n" +
			"---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: vault-b64\ndata:\n  password: {{ .Values.password | b64enc | quote }}\n",
		"charts/vault/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vault-url\ndata:\n  url: \"https://admin:{{ .Values.password }}@vault.example.com\"\n",
		"infra/kustomization.yaml":       "resources:\n- cm.yaml\n",
		"infra/cm.yaml":                  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: infra\ndata:\n  level: info\n",
		"apps/kustomization.yaml": "resources:\n- plain.yaml\n- sops.yaml\n- cm.yaml\n" +
			"secretGenerator:\n- name: generated-literal\n  literals:\n  - password=" + c("literal") + "\n" +
			"- name: generated-file\n  files:\n  - token.txt\n",
		"apps/token.txt": c("file"),
		"apps/plain.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: plain\nstringData:\n  token: " + c("stringdata") + "\n" +
			"data:\n  key: " + base64.StdEncoding.EncodeToString([]byte(c("data"))) + "\n",
		"apps/sops.yaml": enc("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: " + c("sops") + "\n"),
		"apps/cm.yaml":   "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: uses-var\ndata:\n  url: https://user:${subst_token}@db.example.com\n",
	}
	return files, canaries
}

// TestSecretCanaryNeverWritten runs render, validate (every format to
// files) and diff over a repository holding Secret values of every kind,
// each a canary, twice with the same cache directory (cold, then warm),
// with the SOPS key given, and looks for every canary, as written and in
// base64, in every file under the cache directory, every output file, the
// temporary directory and every stdout and stderr. It also checks that the
// caches were used (so that the search is not over an empty directory),
// that cache files are 0600 in 0700 directories, and output files 0644.
func TestSecretCanaryNeverWritten(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	ageKey, err := sopsage.MasterKeyFromRecipient(id.Recipient().String())
	if err != nil {
		t.Fatal(err)
	}
	files, canaries := canaryFleet(t, ageKey, "base")
	head, headCanaries := canaryFleet(t, ageKey, "head")
	canaries = append(canaries, headCanaries...)

	// The repository: base on main, every value rotated on change.
	dir := testenv.WriteTree(t, files)
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
	})
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	g := &gitFleet{t: t, dir: dir, repo: repo, wt: wt}
	g.commit("base")
	g.branch("change")
	for name, content := range head {
		g.write(name, content)
	}
	g.commit("rotate every value")

	keyFile := filepath.Join(t.TempDir(), "age.agekey")
	if err := os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cacheDir := filepath.Join(t.TempDir(), "cache")
	out := t.TempDir()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Setenv("SOPS_AGE_KEY", "")
	t.Setenv("SOPS_AGE_KEY_FILE", "")

	common := []string{"--offline", "--cache-dir", cacheDir, "--decryption-key-file", keyFile}
	var logs []string
	for _, pass := range []string{"cold", "warm"} {
		o := filepath.Join(out, pass)
		for _, args := range [][]string{
			{"render", dir},
			{"render", dir, "-o", "json"},
			{"render", dir, "--output-dir", filepath.Join(o, "units")},
			{"validate", dir, "-o", "text", "-o", "json=" + filepath.Join(o, "r.json"), "-o", "sarif=" + filepath.Join(o, "r.sarif"),
				"-o", "junit=" + filepath.Join(o, "r.xml"), "-o", "github=" + filepath.Join(o, "r.github")},
			{"diff", dir, "--base", "main", "--head", "change", "-o", "text", "-o", "json=" + filepath.Join(o, "d.json"),
				"-o", "markdown=" + filepath.Join(o, "d.md")},
			{"diff", dir, "--base", "main", "--head", "change", "--changed-only", "-o", "json"},
		} {
			stdout, stderr, code := run(t, append(args, common...)...)
			if code == 2 {
				t.Fatalf("%s %v: exit 2\n%s", pass, args, stderr)
			}
			if args[0] == "render" && len(args) == 2 && !strings.Contains(stdout, "https://admin:"+secretMask+"@vault.example.com") {
				t.Errorf("%s %v: the valuesFrom value was not decrypted and masked in the chart's ConfigMap:\n%s", pass, args, stdout)
			}
			logs = append(logs, strings.Join(args, " ")+"\n"+stdout+"\n"+stderr)
		}
	}

	// The caches were written: parsed files, generated kustomizations,
	// units (infra's and the flux-system entry point's).
	for _, sub := range []string{"parsed", "units"} {
		n := 0
		filepath.WalkDir(filepath.Join(cacheDir, sub), func(p string, de fs.DirEntry, err error) error {
			if err == nil && de.Type().IsRegular() {
				n++
			}
			return nil
		})
		if n == 0 {
			t.Errorf("nothing cached under %s/%s: the search below proves nothing", cacheDir, sub)
		}
	}

	forms := func(v string) []string {
		return []string{v, base64.StdEncoding.EncodeToString([]byte(v)), base64.RawStdEncoding.EncodeToString([]byte(v))}
	}
	check := func(where, content string) {
		for _, c := range canaries {
			for _, f := range forms(c) {
				if strings.Contains(content, f) {
					t.Errorf("%s holds %q (the canary %s)", where, f, c)
				}
			}
		}
	}
	for _, l := range logs {
		check("the output of fluxgate "+strings.SplitN(l, "\n", 2)[0], l)
	}
	walk := func(root string, mode func(p string, de fs.DirEntry)) {
		err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if mode != nil {
				mode(p, de)
			}
			if !de.Type().IsRegular() {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			check(p, string(data))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	walk(cacheDir, func(p string, de fs.DirEntry) {
		fi, err := de.Info()
		if err != nil {
			t.Fatal(err)
		}
		want := fs.FileMode(0o600)
		if de.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("cache %s has mode %v, want %v", p, fi.Mode().Perm(), want)
		}
	})
	walk(out, func(p string, de fs.DirEntry) {
		if !de.Type().IsRegular() {
			return
		}
		if fi, err := de.Info(); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("output file %s: mode %v (%v), want 0644", p, fi.Mode().Perm(), err)
		}
	})
	walk(tmp, nil)
	// The files fluxgate reads stay its input: nothing written into the
	// repository.
	if st, err := wt.Status(); err != nil || !st.IsClean() {
		t.Errorf("the repository changed: %v\n%v", err, st)
	}
}
