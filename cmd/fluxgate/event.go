package main

import (
	"encoding/json"
	"fmt"
	"os"
)

// actionsEvent is what fluxgate reads of a GitHub (or Gitea) Actions event
// payload: the pull request being checked.
type actionsEvent struct {
	prNumber int
	baseSHA  string
	headSHA  string
}

// readEvent reads $GITHUB_EVENT_PATH when it is set; outside Actions, or
// for an event without a pull request, the result is empty.
func readEvent() (actionsEvent, error) {
	p := os.Getenv("GITHUB_EVENT_PATH")
	if p == "" {
		return actionsEvent{}, nil
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return actionsEvent{}, fmt.Errorf("read the Actions event payload: %w", err)
	}
	var ev struct {
		Number      int `json:"number"`
		PullRequest *struct {
			Number int `json:"number"`
			Base   struct {
				SHA string `json:"sha"`
			} `json:"base"`
			Head struct {
				SHA string `json:"sha"`
			} `json:"head"`
		} `json:"pull_request"`
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		return actionsEvent{}, fmt.Errorf("read the Actions event payload %s: %w", p, err)
	}
	if ev.PullRequest == nil {
		return actionsEvent{}, nil
	}
	out := actionsEvent{prNumber: ev.PullRequest.Number, baseSHA: ev.PullRequest.Base.SHA, headSHA: ev.PullRequest.Head.SHA}
	if out.prNumber == 0 {
		out.prNumber = ev.Number
	}
	return out, nil
}
