package ghaction

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
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
	// WorkflowRunHead is, for a workflow_run event, the repository
	// (OWNER/NAME) of the triggering run's head commit: another
	// repository's when a fork's pull request triggered it.
	WorkflowRunHead string
}

// Untrusted reports whether the run's checkout may hold code the
// repository's owners did not write while the workflow holds their
// secrets or token, and why: a pull_request_target event, a pull request
// (or review) from a fork, or a workflow_run a fork's run triggered.
func (ev *Event) Untrusted() (bool, string) {
	switch ev.Name {
	case "pull_request_target":
		return true, "a pull_request_target event"
	case "pull_request", "pull_request_review", "pull_request_review_comment":
		pr := ev.PullRequest
		switch {
		case pr == nil:
			return true, "a " + ev.Name + " event without the pull request in its payload"
		case pr.HeadRepository == "":
			return true, "a pull request whose head repository is gone"
		case !strings.EqualFold(pr.HeadRepository, pr.BaseRepository):
			return true, "a pull request from the fork " + pr.HeadRepository
		}
	case "workflow_run":
		if ev.WorkflowRunHead != "" && !strings.EqualFold(ev.WorkflowRunHead, ev.Repository) {
			return true, "a workflow_run triggered from the fork " + ev.WorkflowRunHead
		}
	}
	return false, ""
}

// PullRequest is the pull request of an event payload.
type PullRequest struct {
	Number  int
	URL     string // html_url
	BaseRef string // the branch merged into, e.g. main
	BaseSHA string
	HeadRef string
	HeadSHA string
	// BaseRepository and HeadRepository are the OWNER/NAME of the base
	// and head repositories; they differ for a fork's pull request, and
	// HeadRepository is empty when the fork was deleted.
	BaseRepository string
	HeadRepository string
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
		WorkflowRun *struct {
			HeadRepository *repository `json:"head_repository"`
		} `json:"workflow_run"`
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
			BaseRepository: pr.Base.Repo.fullName(), HeadRepository: pr.Head.Repo.fullName(),
		}
		if ev.PullRequest.Number == 0 {
			ev.PullRequest.Number = payload.Number
		}
	}
	if wr := payload.WorkflowRun; wr != nil {
		ev.WorkflowRunHead = wr.HeadRepository.fullName()
	}
	return ev, nil
}

type ref struct {
	Ref  string      `json:"ref"`
	SHA  string      `json:"sha"`
	Repo *repository `json:"repo"`
}

type repository struct {
	FullName string `json:"full_name"`
}

// fullName is the repository's OWNER/NAME, "" for a null repository (a
// deleted fork).
func (r *repository) fullName() string {
	if r == nil {
		return ""
	}
	return r.FullName
}
