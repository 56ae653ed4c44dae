package ghaction

import (
	"encoding/json"
	"fmt"
	"os"
)

// Event is what fluxgate reads of a workflow run: the default variables
// and, for pull_request and pull_request_target events, the pull request
// from the payload. Fields the run does not have are empty.
type Event struct {
	// Name is GITHUB_EVENT_NAME, for example pull_request or push.
	Name string
	// Repository is OWNER/NAME: the payload's repository.full_name, else
	// GITHUB_REPOSITORY.
	Repository string
	// SHA is GITHUB_SHA: for a pull request, the merge commit.
	SHA string
	// ServerURL is GITHUB_SERVER_URL, https://github.com by default.
	ServerURL string
	// APIURL is GITHUB_API_URL, https://api.github.com by default.
	APIURL string
	// PullRequest is set for an event about a pull request.
	PullRequest *PullRequest
}

// PullRequest is the pull request of an event payload.
type PullRequest struct {
	Number  int
	URL     string // html_url
	BaseRef string // the branch merged into, e.g. main
	BaseSHA string
	HeadRef string
	HeadSHA string
}

// Event reads the default variables and, when GITHUB_EVENT_PATH is set,
// the event payload. An unreadable or malformed payload is an error.
func (e *Env) Event() (*Event, error) {
	ev := &Event{
		Name:       e.Var("GITHUB_EVENT_NAME"),
		Repository: e.Var("GITHUB_REPOSITORY"),
		SHA:        e.Var("GITHUB_SHA"),
		ServerURL:  e.Var("GITHUB_SERVER_URL"),
		APIURL:     e.Var("GITHUB_API_URL"),
	}
	if ev.ServerURL == "" {
		ev.ServerURL = "https://github.com"
	}
	if ev.APIURL == "" {
		ev.APIURL = "https://api.github.com"
	}
	p := e.Var("GITHUB_EVENT_PATH")
	if p == "" {
		return ev, nil
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read the event payload: %w", err)
	}
	var payload struct {
		Number     int `json:"number"`
		Repository struct {
			FullName string `json:"full_name"`
		} `json:"repository"`
		PullRequest *struct {
			Number  int    `json:"number"`
			HTMLURL string `json:"html_url"`
			Base    ref    `json:"base"`
			Head    ref    `json:"head"`
		} `json:"pull_request"`
	}
	if err := json.Unmarshal(data, &payload); err != nil {
		return nil, fmt.Errorf("read the event payload %s: %w", p, err)
	}
	if payload.Repository.FullName != "" {
		ev.Repository = payload.Repository.FullName
	}
	if pr := payload.PullRequest; pr != nil {
		ev.PullRequest = &PullRequest{
			Number: pr.Number, URL: pr.HTMLURL,
			BaseRef: pr.Base.Ref, BaseSHA: pr.Base.SHA,
			HeadRef: pr.Head.Ref, HeadSHA: pr.Head.SHA,
		}
		if ev.PullRequest.Number == 0 {
			ev.PullRequest.Number = payload.Number
		}
	}
	return ev, nil
}

type ref struct {
	Ref string `json:"ref"`
	SHA string `json:"sha"`
}
