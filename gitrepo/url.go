package gitrepo

import (
	"net/url"
	"strings"
)

// NormalizeURL reduces a Git remote URL to a comparable form, usually
// "host/owner/repo". It drops the scheme, user information (including any
// token), port, query and fragment, lower-cases the host and strips a
// trailing ".git" and slashes; the path keeps its case. These all normalise
// to "github.com/Org/Repo":
//
//	ssh://git@github.com/Org/Repo.git
//	git@github.com:Org/Repo
//	https://github.com/Org/Repo.git/
//	https://x-access-token:TOKEN@github.com/Org/Repo
//
// Azure DevOps SSH URLs (ssh.dev.azure.com:v3/org/project/repo) are mapped
// to their HTTPS form (dev.azure.com/org/project/_git/repo). Local paths and
// file:// URLs keep their path, minus a trailing ".git" and slashes. An empty
// or blank URL yields "".
func NormalizeURL(u string) string {
	s := strings.TrimSpace(u)
	if s == "" {
		return ""
	}
	var host, p string
	if scheme, rest, ok := strings.Cut(s, "://"); ok {
		if i := strings.IndexAny(rest, "?#"); i >= 0 {
			rest = rest[:i]
		}
		authority, p0, _ := strings.Cut(rest, "/")
		if strings.EqualFold(scheme, "file") {
			return trimRepoPath("/" + unescapePath(p0))
		}
		host, p = hostOf(authority), unescapePath(p0)
	} else if authority, p0, ok := cutSCP(s); ok {
		host, p = hostOf(authority), p0
	} else {
		return trimRepoPath(strings.ReplaceAll(s, `\`, "/"))
	}
	host = strings.ToLower(host)
	p = strings.Trim(trimRepoPath(p), "/")
	if host == "ssh.dev.azure.com" {
		// v3/org/project/repo -> dev.azure.com/org/project/_git/repo
		if parts := strings.Split(p, "/"); len(parts) == 4 && parts[0] == "v3" {
			host, p = "dev.azure.com", parts[1]+"/"+parts[2]+"/_git/"+parts[3]
		}
	}
	if p == "" {
		return host
	}
	return host + "/" + p
}

// SameRepository reports whether the remote URLs a and b, once normalised
// with [NormalizeURL], name the same repository. Empty URLs never match.
func SameRepository(a, b string) bool {
	na, nb := NormalizeURL(a), NormalizeURL(b)
	return na != "" && na == nb
}

// cutSCP splits an scp-like address "[user@]host:path" into its authority
// and path. Like git, it treats the address as scp-like only when a colon
// comes before any slash; a single letter before the colon is taken for a
// Windows drive, not a host.
func cutSCP(s string) (authority, p string, ok bool) {
	colon := strings.Index(s, ":")
	if colon <= 0 {
		return "", "", false
	}
	if strings.HasPrefix(s, "[") {
		// [host]:path or [user@host:port]:path
		if end := strings.Index(s, "]:"); end > 0 {
			return s[1:end], s[end+2:], true
		}
	}
	if slash := strings.Index(s, "/"); slash >= 0 && slash < colon {
		return "", "", false
	}
	if colon == 1 {
		return "", "", false
	}
	return s[:colon], s[colon+1:], true
}

// hostOf returns the host of an authority "[user[:password]@]host[:port]".
func hostOf(authority string) string {
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		authority = authority[at+1:]
	}
	if strings.HasPrefix(authority, "[") {
		if end := strings.Index(authority, "]"); end > 0 {
			return authority[1:end]
		}
	}
	if colon := strings.LastIndex(authority, ":"); colon >= 0 {
		authority = authority[:colon]
	}
	return authority
}

// trimRepoPath strips trailing slashes and one ".git" suffix.
func trimRepoPath(p string) string {
	p = strings.TrimRight(p, "/")
	p = strings.TrimSuffix(p, ".git")
	return strings.TrimRight(p, "/")
}

// unescapePath decodes percent-escapes, keeping p as it is when malformed.
func unescapePath(p string) string {
	if d, err := url.PathUnescape(p); err == nil {
		return d
	}
	return p
}
