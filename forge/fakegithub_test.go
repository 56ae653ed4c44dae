package forge

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeGitHub is a stateful httptest server speaking the parts of GitHub's
// REST API (as documented at docs.github.com/rest) that the driver uses,
// served under /api/v3 like GitHub Enterprise Server. It holds one
// repository, checks the bearer token, pages lists with Link headers and
// can be told to fail the next requests.
type fakeGitHub struct {
	srv      *httptest.Server
	owner    string
	repo     string
	token    string
	pageSize int // largest page served, whatever per_page asks

	mu       sync.Mutex
	nextID   int64
	branches map[string]bool
	pulls    map[int]*fakePull
	labels   []*fakeLabel           // the repository's, in creation order
	comments map[int][]*fakeComment // by issue number, in creation order
	faults   []fakeFault
	requests []string // "METHOD /path?query", in order
}

type fakePull struct {
	Number int
	State  string
	Title  string
	Body   string
	Head   string
	Base   string
	Labels []*fakeLabel
}

type fakeLabel struct {
	ID    int64
	Name  string
	Color string
}

type fakeComment struct {
	ID    int64
	Issue int
	Body  string
	User  string
}

// fakeFault answers one matching request with status, header and body
// instead of serving it.
type fakeFault struct {
	method string // "" matches any
	path   string // a suffix of the path to match; "" matches any
	status int
	header http.Header
	body   string
	// applied: the request takes effect before the failure is answered,
	// like a gateway timing out on a slow but successful write.
	applied bool
}

func newFakeGitHub(t testing.TB) *fakeGitHub {
	f := &fakeGitHub{
		owner:    "acme",
		repo:     "fleet",
		token:    "ghp_secretTOKENvalue0123456789",
		pageSize: 3,
		nextID:   1000,
		branches: map[string]bool{"main": true},
		pulls:    map[int]*fakePull{},
		comments: map[int][]*fakeComment{},
	}
	mux := http.NewServeMux()
	repo := "/api/v3/repos/{owner}/{repo}"
	mux.HandleFunc("GET "+repo+"/issues/{number}/comments", f.listComments)
	mux.HandleFunc("POST "+repo+"/issues/{number}/comments", f.createComment)
	mux.HandleFunc("PATCH "+repo+"/issues/comments/{id}", f.updateComment)
	mux.HandleFunc("POST "+repo+"/issues/{number}/labels", f.addLabels)
	mux.HandleFunc("GET "+repo+"/pulls", f.listPulls)
	mux.HandleFunc("POST "+repo+"/pulls", f.createPull)
	mux.HandleFunc("PATCH "+repo+"/pulls/{number}", f.updatePull)
	f.srv = httptest.NewServer(f.middleware(mux))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGitHub) options() Options {
	return Options{BaseURL: f.srv.URL, Token: f.token, Owner: f.owner, Repo: f.repo}
}

// fail makes the next matching request (method "" for any) answer status.
func (f *fakeGitHub) fail(method string, status int, header http.Header, body string) {
	f.failWith(fakeFault{method: method, status: status, header: header, body: body})
}

func (f *fakeGitHub) failWith(ft fakeFault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, ft)
}

func (f *fakeGitHub) requestLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

// openPull adds an open pull request from a new branch head into main.
func (f *fakeGitHub) openPull(head, base, title string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.branches[head] = true
	n := len(f.pulls) + 1
	f.pulls[n] = &fakePull{Number: n, State: "open", Title: title, Head: head, Base: base}
	return n
}

func (f *fakeGitHub) addBranch(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.branches[name] = true
}

// addLabel creates a label in the repository, as someone else would.
func (f *fakeGitHub) addLabel(name, color string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	f.labels = append(f.labels, &fakeLabel{ID: f.nextID, Name: name, Color: color})
}

// repoLabels returns the repository's labels as "name #color", in creation
// order.
func (f *fakeGitHub) repoLabels() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, l := range f.labels {
		out = append(out, l.Name+" #"+l.Color)
	}
	return out
}

// pullLabels returns the names of pull request n's labels, in the order
// they were added.
func (f *fakeGitHub) pullLabels(n int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	if p, ok := f.pulls[n]; ok {
		for _, l := range p.Labels {
			out = append(out, l.Name)
		}
	}
	return out
}

func (f *fakeGitHub) addComment(issue int, user, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	f.comments[issue] = append(f.comments[issue], &fakeComment{ID: f.nextID, Issue: issue, Body: body, User: user})
}

func (f *fakeGitHub) commentBodies(issue int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.comments[issue] {
		out = append(out, c.Body)
	}
	return out
}

func (f *fakeGitHub) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
		var fault *fakeFault
		for i, ft := range f.faults {
			if (ft.method == "" || ft.method == r.Method) && strings.HasSuffix(r.URL.Path, ft.path) {
				fault = &ft
				f.faults = slices.Delete(f.faults, i, i+1)
				break
			}
		}
		f.mu.Unlock()
		if fault != nil {
			if fault.applied {
				next.ServeHTTP(httptest.NewRecorder(), r)
			}
			for k, v := range fault.header {
				w.Header()[k] = v
			}
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(fault.status)
			fmt.Fprint(w, fault.body)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+f.token {
			writeJSON(w, http.StatusUnauthorized, map[string]string{
				"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest",
			})
			return
		}
		if !strings.HasPrefix(r.URL.Path, "/api/v3/repos/"+f.owner+"/"+f.repo+"/") {
			notFound(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func notFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, map[string]string{
		"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404",
	})
}

func validationFailed(w http.ResponseWriter, message string) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
		"message": "Validation Failed",
		"errors":  []map[string]string{{"resource": "PullRequest", "code": "custom", "message": message}},
	})
}

// page serves items[(page-1)*size : page*size] and sets the Link header
// the way GitHub does (next, last, first, prev).
func page[T any](f *fakeGitHub, w http.ResponseWriter, r *http.Request, items []T) []T {
	q := r.URL.Query()
	size, _ := strconv.Atoi(q.Get("per_page"))
	if size <= 0 || size > f.pageSize {
		size = f.pageSize
	}
	n, _ := strconv.Atoi(q.Get("page"))
	n = max(n, 1)
	last := max((len(items)+size-1)/size, 1)
	link := func(p int, rel string) string {
		u := *r.URL
		u.Scheme, u.Host = "http", r.Host
		qq := u.Query()
		qq.Set("page", strconv.Itoa(p))
		qq.Set("per_page", strconv.Itoa(size))
		u.RawQuery = qq.Encode()
		return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
	}
	var links []string
	if n < last {
		links = append(links, link(n+1, "next"), link(last, "last"))
	}
	if n > 1 {
		links = append(links, link(1, "first"), link(n-1, "prev"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	lo := min((n-1)*size, len(items))
	hi := min(n*size, len(items))
	return items[lo:hi]
}

func (f *fakeGitHub) commentJSON(c *fakeComment) map[string]any {
	base := f.srv.URL
	return map[string]any{
		"id":        c.ID,
		"node_id":   "IC_" + strconv.FormatInt(c.ID, 10),
		"url":       fmt.Sprintf("%s/api/v3/repos/%s/%s/issues/comments/%d", base, f.owner, f.repo, c.ID),
		"html_url":  fmt.Sprintf("%s/%s/%s/pull/%d#issuecomment-%d", base, f.owner, f.repo, c.Issue, c.ID),
		"issue_url": fmt.Sprintf("%s/api/v3/repos/%s/%s/issues/%d", base, f.owner, f.repo, c.Issue),
		"body":      c.Body,
		"user":      map[string]any{"login": c.User, "type": "User"},
	}
}

func (f *fakeGitHub) labelJSON(l *fakeLabel) map[string]any {
	return map[string]any{
		"id":      l.ID,
		"node_id": "LA_" + strconv.FormatInt(l.ID, 10),
		"url":     fmt.Sprintf("%s/api/v3/repos/%s/%s/labels/%s", f.srv.URL, f.owner, f.repo, url.PathEscape(l.Name)),
		"name":    l.Name,
		"color":   l.Color,
		"default": false,
	}
}

// labelsJSON lists labels the way GitHub does, sorted by name.
func (f *fakeGitHub) labelsJSON(labels []*fakeLabel) []map[string]any {
	sorted := slices.SortedFunc(slices.Values(labels), func(a, b *fakeLabel) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	out := []map[string]any{}
	for _, l := range sorted {
		out = append(out, f.labelJSON(l))
	}
	return out
}

func (f *fakeGitHub) pullJSON(p *fakePull) map[string]any {
	base := f.srv.URL
	repo := map[string]any{"name": f.repo, "full_name": f.owner + "/" + f.repo, "owner": map[string]any{"login": f.owner}}
	return map[string]any{
		"labels":   f.labelsJSON(p.Labels),
		"number":   p.Number,
		"state":    p.State,
		"title":    p.Title,
		"body":     p.Body,
		"url":      fmt.Sprintf("%s/api/v3/repos/%s/%s/pulls/%d", base, f.owner, f.repo, p.Number),
		"html_url": fmt.Sprintf("%s/%s/%s/pull/%d", base, f.owner, f.repo, p.Number),
		"head":     map[string]any{"label": f.owner + ":" + p.Head, "ref": p.Head, "repo": repo},
		"base":     map[string]any{"label": f.owner + ":" + p.Base, "ref": p.Base, "repo": repo},
	}
}

func (f *fakeGitHub) listComments(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.PathValue("number"))
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.pulls[n]; !ok {
		notFound(w)
		return
	}
	var out []map[string]any
	for _, c := range page(f, w, r, f.comments[n]) {
		out = append(out, f.commentJSON(c))
	}
	if out == nil {
		out = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *fakeGitHub) createComment(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.PathValue("number"))
	var in struct {
		Body *string `json:"body"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Body == nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Invalid request."})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.pulls[n]; !ok {
		notFound(w)
		return
	}
	f.nextID++
	c := &fakeComment{ID: f.nextID, Issue: n, Body: *in.Body, User: "fluxgate-bot"}
	f.comments[n] = append(f.comments[n], c)
	writeJSON(w, http.StatusCreated, f.commentJSON(c))
}

func (f *fakeGitHub) updateComment(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var in struct {
		Body *string `json:"body"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Body == nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Invalid request."})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, cs := range f.comments {
		for _, c := range cs {
			if c.ID == id {
				c.Body = *in.Body
				writeJSON(w, http.StatusOK, f.commentJSON(c))
				return
			}
		}
	}
	notFound(w)
}

// addLabels adds labels to an issue or pull request. The body is an array
// of names or an object with one ("labels"); names match the repository's
// labels regardless of case, and unknown ones are created with GitHub's
// default colour. It answers with all the issue's labels.
func (f *fakeGitHub) addLabels(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.PathValue("number"))
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "Problems parsing JSON"})
		return
	}
	var names []string
	if err := json.Unmarshal(raw, &names); err != nil {
		var in struct {
			Labels []string `json:"labels"`
		}
		if err := json.Unmarshal(raw, &in); err != nil || in.Labels == nil {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Invalid request."})
			return
		}
		names = in.Labels
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.pulls[n]
	if !ok {
		notFound(w)
		return
	}
	for _, name := range names {
		if strings.TrimSpace(name) == "" {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Validation Failed"})
			return
		}
		sameName := func(l *fakeLabel) bool { return strings.EqualFold(l.Name, name) }
		i := slices.IndexFunc(f.labels, sameName)
		if i < 0 {
			f.nextID++
			f.labels = append(f.labels, &fakeLabel{ID: f.nextID, Name: name, Color: "ededed"})
			i = len(f.labels) - 1
		}
		if !slices.ContainsFunc(p.Labels, sameName) {
			p.Labels = append(p.Labels, f.labels[i])
		}
	}
	writeJSON(w, http.StatusOK, f.labelsJSON(p.Labels))
}

func (f *fakeGitHub) listPulls(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var match []*fakePull
	for n := 1; n <= len(f.pulls); n++ {
		p := f.pulls[n]
		if state != "all" && p.State != state {
			continue
		}
		if h := q.Get("head"); h != "" {
			// GitHub's documented form is user:ref-name.
			user, ref, ok := strings.Cut(h, ":")
			if !ok || user != f.owner || ref != p.Head {
				continue
			}
		}
		if b := q.Get("base"); b != "" && b != p.Base {
			continue
		}
		match = append(match, p)
	}
	// GitHub sorts by creation, newest first.
	slices.Reverse(match)
	out := []map[string]any{}
	for _, p := range page(f, w, r, match) {
		out = append(out, f.pullJSON(p))
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *fakeGitHub) createPull(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Title string `json:"title"`
		Head  string `json:"head"`
		Base  string `json:"base"`
		Body  string `json:"body"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "Problems parsing JSON"})
		return
	}
	head := in.Head
	if user, ref, ok := strings.Cut(head, ":"); ok && user == f.owner {
		head = ref
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case !f.branches[head]:
		validationFailed(w, "head invalid")
		return
	case !f.branches[in.Base]:
		validationFailed(w, "base invalid")
		return
	}
	for _, p := range f.pulls {
		if p.State == "open" && p.Head == head && p.Base == in.Base {
			validationFailed(w, fmt.Sprintf("A pull request already exists for %s:%s.", f.owner, head))
			return
		}
	}
	p := &fakePull{Number: len(f.pulls) + 1, State: "open", Title: in.Title, Body: in.Body, Head: head, Base: in.Base}
	f.pulls[p.Number] = p
	writeJSON(w, http.StatusCreated, f.pullJSON(p))
}

func (f *fakeGitHub) updatePull(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.PathValue("number"))
	var in struct {
		Title *string `json:"title"`
		Body  *string `json:"body"`
		State *string `json:"state"`
		Base  *string `json:"base"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "Problems parsing JSON"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.pulls[n]
	if !ok {
		notFound(w)
		return
	}
	if in.Title != nil {
		p.Title = *in.Title
	}
	if in.Body != nil {
		p.Body = *in.Body
	}
	if in.State != nil {
		p.State = *in.State
	}
	if in.Base != nil {
		p.Base = *in.Base
	}
	writeJSON(w, http.StatusOK, f.pullJSON(p))
}

// requestsMatching counts logged requests starting with prefix
// ("POST /api/v3/repos/acme/fleet/issues/").
func requestsMatching(log []string, method, pathPrefix string) int {
	n := 0
	for _, l := range log {
		m, rest, _ := strings.Cut(l, " ")
		u, _ := url.Parse(rest)
		if m == method && strings.HasPrefix(u.Path, pathPrefix) {
			n++
		}
	}
	return n
}
