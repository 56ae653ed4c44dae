package testenv

import (
	"bytes"
	"crypto/subtle"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// GitHTTPDate is the author and committer date of the commits NewBareRepo
// writes.
var GitHTTPDate = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// GitHTTPServer serves the bare repositories under Root over Git's smart
// HTTP protocol, with `git http-backend` behind [net/http/cgi], on
// 127.0.0.1. Every request needs HTTP basic authentication with Username
// and Password; anything else gets 401 with `WWW-Authenticate: Basic
// realm="git"`. Fetch and push are both enabled.
type GitHTTPServer struct {
	URL      string // base URL, without a trailing slash
	Username string
	Password string
	Root     string // directory holding the bare repositories, <name>.git

	git    string   // path of the git binary
	home   string   // empty HOME for git, so no user configuration applies
	stderr *os.File // http-backend's diagnostics, <home>/http-backend.log
	pushes atomic.Int64
}

// GitHTTP starts a Git HTTP server for the test and stops it when the test
// ends. It fails the test (never skips) when git is not installed.
func GitHTTP(t testing.TB) *GitHTTPServer {
	t.Helper()
	gitBin, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("git http server: needs git on PATH: %v", err)
	}
	s := &GitHTTPServer{
		Username: "fluxgate",
		Password: "pw-" + randomHex(12),
		Root:     t.TempDir(),
		git:      gitBin,
		home:     t.TempDir(),
	}
	if s.stderr, err = os.Create(filepath.Join(s.home, "http-backend.log")); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(func() {
		srv.Close()
		s.stderr.Close()
	})
	s.URL = srv.URL
	return s
}

// serveHTTP checks the credentials and hands the request to git
// http-backend.
func (s *GitHTTPServer) serveHTTP(w http.ResponseWriter, req *http.Request) {
	user, pass, ok := req.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(s.Username)) != 1 ||
		subtle.ConstantTimeCompare([]byte(pass), []byte(s.Password)) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return
	}
	if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/git-receive-pack") {
		s.pushes.Add(1)
	}
	h := &cgi.Handler{
		Path:   s.git,
		Args:   []string{"http-backend"},
		Dir:    s.Root,
		Stderr: s.stderr,
		Env: append(s.gitEnv(),
			"GIT_PROJECT_ROOT="+s.Root,
			"GIT_HTTP_EXPORT_ALL=1",
			// net/http/cgi does not set REMOTE_USER; http-backend enables
			// receive-pack only for an authenticated user.
			"REMOTE_USER="+user,
		),
	}
	h.ServeHTTP(w, req)
}

// gitEnv keeps the user's and the system's git configuration out.
func (s *GitHTTPServer) gitEnv() []string {
	return []string{
		"HOME=" + s.home,
		"XDG_CONFIG_HOME=" + filepath.Join(s.home, ".config"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
		"GIT_TERMINAL_PROMPT=0",
	}
}

// Pushes returns the number of authenticated receive-pack POST requests
// served so far: each push that sends an update makes one.
func (s *GitHTTPServer) Pushes() int {
	return int(s.pushes.Load())
}

// RepoDir returns the directory of the bare repository name.
func (s *GitHTTPServer) RepoDir(name string) string {
	return filepath.Join(s.Root, name+".git")
}

// NewBareRepo creates the bare repository <Root>/<name>.git with one
// commit of files (slash paths to content) on branch, which is also its
// HEAD, and returns its clone URL (URL + "/" + name + ".git"). The commit's
// author and committer are "Test <test@example.com>" at [GitHTTPDate] and
// its message is "seed". A file whose content starts with "#!" is
// committed executable. It uses the git command.
func (s *GitHTTPServer) NewBareRepo(t testing.TB, name, branch string, files map[string]string) string {
	t.Helper()
	bare := s.RepoDir(name)
	s.runGit(t, "", "init", "--quiet", "--bare", "--initial-branch="+branch, bare)

	work := t.TempDir()
	s.runGit(t, work, "init", "--quiet", "--initial-branch="+branch)
	for p, content := range files {
		full := filepath.Join(work, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		perm := os.FileMode(0o644)
		if strings.HasPrefix(content, "#!") {
			perm = 0o755
		}
		if err := os.WriteFile(full, []byte(content), perm); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(full, perm); err != nil { // ignore the umask
			t.Fatal(err)
		}
	}
	s.runGit(t, work, "add", "--all")
	s.runGit(t, work, "commit", "--quiet", "--allow-empty", "--message=seed")
	s.runGit(t, work, "push", "--quiet", bare, "HEAD:refs/heads/"+branch)
	return s.URL + "/" + name + ".git"
}

// runGit runs git in dir (the current directory when "") with a fixed
// identity and date, failing the test on error.
func (s *GitHTTPServer) runGit(t testing.TB, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(s.git, args...)
	cmd.Dir = dir
	date := GitHTTPDate.Format(time.RFC3339)
	cmd.Env = append(os.Environ(), s.gitEnv()...)
	cmd.Env = append(cmd.Env,
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com", "GIT_AUTHOR_DATE="+date,
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com", "GIT_COMMITTER_DATE="+date,
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
}
