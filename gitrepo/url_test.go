package gitrepo

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNormalizeURL(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{in: "ssh://git@github.com/Org/Repo.git", want: "github.com/Org/Repo"},
		{in: "git@github.com:Org/Repo", want: "github.com/Org/Repo"},
		{in: "git@github.com:Org/Repo.git", want: "github.com/Org/Repo"},
		{in: "https://github.com/Org/Repo.git/", want: "github.com/Org/Repo"},
		{in: "https://x-access-token:TOKEN@github.com/Org/Repo", want: "github.com/Org/Repo"},
		{in: "HTTPS://GitHub.COM/Org/Repo", want: "github.com/Org/Repo"},
		{in: "http://github.com/Org/Repo/", want: "github.com/Org/Repo"},
		{in: "git://github.com/Org/Repo.git", want: "github.com/Org/Repo"},
		{in: "ssh://git@gitlab.example.com:2222/group/sub/repo.git", want: "gitlab.example.com/group/sub/repo"},
		{in: "https://gitlab.example.com:8443/group/sub/repo", want: "gitlab.example.com/group/sub/repo"},
		{in: "git@gitlab.example.com:/group/repo.git", want: "gitlab.example.com/group/repo"},
		{in: "gitlab.example.com:group/repo", want: "gitlab.example.com/group/repo"},
		{in: "https://github.com/Org/Repo?ref=main#frag", want: "github.com/Org/Repo"},
		{in: "https://github.com/Org/My%20Repo", want: "github.com/Org/My Repo"},
		{in: "ssh://git@[::1]:22/org/repo", want: "::1/org/repo"},
		{in: "git@ssh.dev.azure.com:v3/org/project/repo", want: "dev.azure.com/org/project/_git/repo"},
		{in: "https://org@dev.azure.com/org/project/_git/repo", want: "dev.azure.com/org/project/_git/repo"},
		{in: "  https://github.com/Org/Repo  ", want: "github.com/Org/Repo"},
		{in: "file:///srv/git/repo.git", want: "/srv/git/repo"},
		{in: "/srv/git/repo.git/", want: "/srv/git/repo"},
		{in: "./relative/repo", want: "./relative/repo"},
		{in: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, NormalizeURL(tt.in)); diff != "" {
				t.Errorf("NormalizeURL(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestSameRepository(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{name: "ssh and scp", a: "ssh://git@github.com/Org/Repo.git", b: "git@github.com:Org/Repo", want: true},
		{name: "https and token", a: "https://github.com/Org/Repo.git/", b: "https://x-access-token:TOKEN@github.com/Org/Repo", want: true},
		{name: "scp and https", a: "git@github.com:Org/Repo", b: "https://github.com/Org/Repo.git/", want: true},
		{name: "host case", a: "https://GITHUB.com/Org/Repo", b: "git@github.com:Org/Repo", want: true},
		{name: "path case differs", a: "https://github.com/org/repo", b: "https://github.com/Org/Repo"},
		{name: "other repository", a: "https://github.com/Org/Repo", b: "https://github.com/Org/Other"},
		{name: "other host", a: "https://github.com/Org/Repo", b: "https://gitlab.com/Org/Repo"},
		{name: "both empty", a: "", b: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SameRepository(tt.a, tt.b); got != tt.want {
				t.Errorf("SameRepository(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}
