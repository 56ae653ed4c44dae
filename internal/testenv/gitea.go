package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"code.gitea.io/sdk/gitea"
)

// GiteaVersion is the Gitea release the tests run against.
const GiteaVersion = "1.26.0"

// GiteaServer is a Gitea web server started for a test: SQLite in a
// temporary directory, listening on 127.0.0.1, offline, with one admin user.
type GiteaServer struct {
	URL           string // base URL, without a trailing slash
	AdminUser     string
	AdminPassword string
	Token         string // the admin's access token, scope "all"
	Dir           string // the server's work directory (app.ini, data, log)
}

// Gitea starts a Gitea server for the test and stops it (with its process
// group) when the test ends. Starting takes a few seconds: share one server
// per test package (one top-level test with subtests, or TestMain).
//
// The binary is $FLUXGATE_GITEA or the one gitea-build.sh caches in
// ${FLUXGATE_TOOLS_DIR:-${XDG_CACHE_HOME:-~/.cache}/fluxgate-tools}/gitea-1.26.0;
// when neither exists Gitea builds it first (minutes; `make tools` does it
// ahead of `go test`). It needs git on PATH. It never skips: a server that
// cannot be built or started fails the test.
func Gitea(t testing.TB) *GiteaServer {
	t.Helper()
	bin, err := giteaBinary()
	if err != nil {
		t.Fatalf("gitea: %v", err)
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("gitea: needs git on PATH: %v", err)
	}

	dir := t.TempDir()
	port, err := freePort()
	if err != nil {
		t.Fatalf("gitea: %v", err)
	}
	s := &GiteaServer{
		URL:           "http://127.0.0.1:" + port,
		AdminUser:     "fluxgate-admin",
		AdminPassword: "Fluxgate-" + randomHex(8),
		Dir:           dir,
	}
	conf := filepath.Join(dir, "app.ini")
	if err := os.WriteFile(conf, []byte(giteaConfig(dir, filepath.Dir(bin), port)), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "HOME="+dir, "GITEA_WORK_DIR="+dir)

	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir, cmd.Env = dir, env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("gitea %s: %v\nstdout:\n%s\nstderr:\n%s\nlog:\n%s",
				args[0], err, stdout.String(), stderr.String(), tailFile(filepath.Join(dir, "log", "gitea.log")))
		}
		return stdout.String()
	}
	run("migrate", "-c", conf)
	run("admin", "user", "create", "-c", conf, "--admin",
		"--username", s.AdminUser, "--password", s.AdminPassword,
		"--email", s.AdminUser+"@example.com", "--must-change-password=false")
	out := run("admin", "user", "generate-access-token", "-c", conf,
		"--username", s.AdminUser, "--token-name", "fluxgate-test", "--scopes", "all", "--raw")
	s.Token = lastLine(out)
	if len(s.Token) < 40 || strings.ContainsAny(s.Token, " :") {
		t.Fatalf("gitea admin user generate-access-token printed no token: %q", out)
	}

	logFile, err := os.Create(filepath.Join(dir, "web.out"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "web", "-c", conf)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("gitea web: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logFile.Close() }()
	t.Cleanup(func() { stopProcessGroup(cmd, exited) })

	if err := waitReady(s.URL, exited, 60*time.Second); err != nil {
		t.Fatalf("gitea web: %v\noutput:\n%s\nlog:\n%s", err,
			tailFile(filepath.Join(dir, "web.out")), tailFile(filepath.Join(dir, "log", "gitea.log")))
	}
	return s
}

// giteaConfig is the app.ini of a test server.
func giteaConfig(dir, staticRoot, port string) string {
	runUser := "root"
	if u, err := user.Current(); err == nil {
		runUser = u.Username
	}
	asRoot := ""
	if os.Getuid() == 0 {
		// Gitea refuses root unless told; CI containers often run as root.
		asRoot = "I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true\n"
	}
	p := func(elem ...string) string { return filepath.ToSlash(filepath.Join(append([]string{dir}, elem...)...)) }
	return fmt.Sprintf(`APP_NAME = fluxgate test
RUN_MODE = prod
RUN_USER = %[1]s
WORK_PATH = %[2]s
%[3]s
[server]
PROTOCOL = http
HTTP_ADDR = 127.0.0.1
HTTP_PORT = %[4]s
DOMAIN = 127.0.0.1
ROOT_URL = http://127.0.0.1:%[4]s/
APP_DATA_PATH = %[5]s
STATIC_ROOT_PATH = %[6]s
DISABLE_SSH = true
START_SSH_SERVER = false
LFS_START_SERVER = false
OFFLINE_MODE = true

[database]
DB_TYPE = sqlite3
PATH = %[7]s

[repository]
ROOT = %[8]s

[lfs]
PATH = %[9]s

[security]
INSTALL_LOCK = true
SECRET_KEY = %[10]s
INTERNAL_TOKEN = %[11]s
PASSWORD_COMPLEXITY = off
MIN_PASSWORD_LENGTH = 8

[oauth2]
ENABLED = false

[service]
DISABLE_REGISTRATION = true
ENABLE_NOTIFY_MAIL = false
DEFAULT_KEEP_EMAIL_PRIVATE = true

[mailer]
ENABLED = false

[picture]
DISABLE_GRAVATAR = true
ENABLE_FEDERATED_AVATAR = false

[indexer]
ISSUE_INDEXER_TYPE = db
REPO_INDEXER_ENABLED = false

[actions]
ENABLED = false

[packages]
ENABLED = false

[cron]
ENABLED = false

[cron.update_checker]
ENABLED = false

[session]
PROVIDER = memory

[cache]
ADAPTER = memory

[log]
MODE = file
LEVEL = Warn
ROOT_PATH = %[12]s
`, runUser, filepath.ToSlash(dir), asRoot, port,
		p("data"), filepath.ToSlash(staticRoot), p("data", "gitea.db"), p("repos"), p("data", "lfs"),
		randomHex(32), randomHex(32), p("log"))
}

// Client returns a Gitea SDK client acting as the admin.
func (s *GiteaServer) Client(t testing.TB) *gitea.Client {
	t.Helper()
	c, err := gitea.NewClient(s.URL, gitea.SetToken(s.Token), gitea.SetGiteaVersion(GiteaVersion))
	if err != nil {
		t.Fatalf("gitea client: %v", err)
	}
	return c
}

// GiteaRepo is a repository on a test Gitea server.
type GiteaRepo struct {
	Owner         string
	Name          string
	DefaultBranch string
	server        *GiteaServer
}

// CreateRepo creates a repository owned by the admin, initialised with a
// README on branch main.
func (s *GiteaServer) CreateRepo(t testing.TB, name string) *GiteaRepo {
	t.Helper()
	r, _, err := s.Client(t).CreateRepo(gitea.CreateRepoOption{
		Name:          name,
		AutoInit:      true,
		Readme:        "Default",
		DefaultBranch: "main",
	})
	if err != nil {
		t.Fatalf("gitea: create repository %s: %v", name, err)
	}
	return &GiteaRepo{Owner: r.Owner.UserName, Name: r.Name, DefaultBranch: r.DefaultBranch, server: s}
}

// CreateBranch creates branch from branch from with one commit of its own
// (a file named after the branch), so that a pull request between them has
// a change to show.
func (r *GiteaRepo) CreateBranch(t testing.TB, branch, from string) {
	t.Helper()
	path := strings.NewReplacer("/", "-", " ", "-").Replace(branch) + ".txt"
	_, _, err := r.server.Client(t).CreateFile(r.Owner, r.Name, path, gitea.CreateFileOptions{
		FileOptions: gitea.FileOptions{
			Message:       "add " + path,
			BranchName:    from,
			NewBranchName: branch,
		},
		Content: base64.StdEncoding.EncodeToString([]byte("branch " + branch + "\n")),
	})
	if err != nil {
		t.Fatalf("gitea: create branch %s from %s in %s/%s: %v", branch, from, r.Owner, r.Name, err)
	}
}

// OpenPullRequest opens a pull request from head into base and returns its
// number.
func (r *GiteaRepo) OpenPullRequest(t testing.TB, head, base, title string) int {
	t.Helper()
	pr, _, err := r.server.Client(t).CreatePullRequest(r.Owner, r.Name, gitea.CreatePullRequestOption{
		Head: head, Base: base, Title: title,
	})
	if err != nil {
		t.Fatalf("gitea: open pull request %s -> %s in %s/%s: %v", head, base, r.Owner, r.Name, err)
	}
	return int(pr.Index)
}

// CreateRepoWithPullRequest creates repository name with branches main and
// feature (one commit ahead) and an open pull request from feature into
// main, and returns the repository and the pull request's number.
func (s *GiteaServer) CreateRepoWithPullRequest(t testing.TB, name string) (*GiteaRepo, int) {
	t.Helper()
	r := s.CreateRepo(t, name)
	r.CreateBranch(t, "feature", "main")
	return r, r.OpenPullRequest(t, "feature", "main", "Add feature")
}

// giteaBinary finds the Gitea binary, building it when it is missing.
func giteaBinary() (string, error) {
	if p := os.Getenv("FLUXGATE_GITEA"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("FLUXGATE_GITEA: %w", err)
		}
		return p, nil
	}
	tools, err := toolsDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(tools, "gitea-"+GiteaVersion, "gitea")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if err := buildGitea(tools); err != nil {
		return "", err
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("build script succeeded but left no binary: %w", err)
	}
	return bin, nil
}

var buildMu sync.Mutex

// buildGitea runs gitea-build.sh (next to this file) once, holding a lock
// file so that test binaries of several packages build only once.
func buildGitea(tools string) error {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return errors.New("cannot locate gitea-build.sh")
	}
	script := filepath.Join(filepath.Dir(self), "gitea-build.sh")
	if err := os.MkdirAll(tools, 0o755); err != nil {
		return err
	}
	unlock, err := lockFile(filepath.Join(tools, "gitea-"+GiteaVersion+".lock"))
	if err != nil {
		return fmt.Errorf("lock the Gitea build: %w", err)
	}
	defer unlock()
	// The script returns at once if another process built it meanwhile.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Env = append(os.Environ(), "GITEA_VERSION="+GiteaVersion, "FLUXGATE_TOOLS_DIR="+tools)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("the Gitea %s binary is missing and building it failed (run `make tools`, or set FLUXGATE_GITEA): %s: %w\n%s",
			GiteaVersion, script, err, tail(string(out), 40))
	}
	return nil
}

// toolsDir is where gitea-build.sh caches tools; keep the two in step.
func toolsDir() (string, error) {
	if d := os.Getenv("FLUXGATE_TOOLS_DIR"); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "fluxgate-tools"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no tools directory: set FLUXGATE_TOOLS_DIR: %w", err)
	}
	return filepath.Join(home, ".cache", "fluxgate-tools"), nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}

// waitReady polls the version endpoint until the server answers, the
// process exits or the timeout passes.
func waitReady(base string, exited <-chan error, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("exited before serving: %v", err)
		default:
		}
		resp, err := client.Get(base + "/api/v1/version")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("not serving %s/api/v1/version after %v", base, timeout)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func tailFile(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return tail(string(b), 40)
}
