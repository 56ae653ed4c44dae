package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/fluxgate/fluxgate/render"
)

// Progress of a long render goes to stderr, never stdout: on a terminal a
// live line (units rendered, HelmReleases among them, failures, elapsed
// time) that is cleared when the render ends; in GitHub Actions a
// ::group:: section with a line every actionsProgressEvery; elsewhere
// (a pipe, a file, --quiet) nothing.

// actionsProgressEvery is how often a line is written in GitHub Actions.
const actionsProgressEvery = 5 * time.Second

// progressMode is how progress is shown.
type progressMode int

const (
	progressOff progressMode = iota
	progressTerminal
	progressActions
)

// progressModeFor picks the mode for stderr: off with --quiet.
func progressModeFor(stderr io.Writer, quiet bool, getenv func(string) string) progressMode {
	switch {
	case quiet:
		return progressOff
	case isTerminal(stderr):
		return progressTerminal
	case getenv("GITHUB_ACTIONS") == "true":
		return progressActions
	}
	return progressOff
}

// progress counts finished units and shows them.
type progress struct {
	mode  progressMode
	w     io.Writer
	title string
	start time.Time
	now   func() time.Time

	units, helm, failed atomic.Int64

	bar  *progressbar.ProgressBar
	mu   sync.Mutex // serialises writes in Actions mode
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// startProgress starts showing the progress of title ("render",
// "validate", "diff") in mode. Done ends it; Unit is the render's
// Options.Progress.
func startProgress(w io.Writer, mode progressMode, title string) *progress {
	p := &progress{mode: mode, w: w, title: title, start: time.Now(), now: time.Now,
		stop: make(chan struct{}), done: make(chan struct{})}
	switch mode {
	case progressTerminal:
		p.bar = progressbar.NewOptions64(-1,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(title),
			progressbar.OptionSpinnerType(14),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
		close(p.done)
	case progressActions:
		fmt.Fprintf(w, "::group::fluxgate %s\n", title)
		go p.tick(actionsProgressEvery)
	default:
		close(p.done)
	}
	return p
}

// Unit records a finished unit; safe for concurrent use.
func (p *progress) Unit(u *render.Unit) {
	p.units.Add(1)
	if u.Kind == "HelmRelease" {
		p.helm.Add(1)
	}
	if u.Failed {
		p.failed.Add(1)
	}
	if p.bar != nil {
		p.bar.Describe(p.description()) // the counts above are already up to date
		_ = p.bar.Add(1)
	}
}

// description is the live line's text.
func (p *progress) description() string {
	parts := []string{fmt.Sprintf("%d units", p.units.Load())}
	if n := p.helm.Load(); n > 0 {
		parts = append(parts, fmt.Sprintf("%d HelmReleases", n))
	}
	if n := p.failed.Load(); n > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", n))
	}
	return p.title + ": " + strings.Join(parts, ", ")
}

// line is the progress line of Actions mode.
func (p *progress) line() string {
	return fmt.Sprintf("fluxgate %s: %d units rendered, %d HelmReleases, %d failed, %s",
		p.title, p.units.Load(), p.helm.Load(), p.failed.Load(), p.now().Sub(p.start).Round(100*time.Millisecond))
}

// tick writes a line every interval until Done.
func (p *progress) tick(every time.Duration) {
	defer close(p.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			fmt.Fprintln(p.w, p.line())
			p.mu.Unlock()
		}
	}
}

// Done ends the progress: the live line is cleared; in Actions the last
// line and ::endgroup:: are written. Calling it again does nothing.
func (p *progress) Done() {
	p.once.Do(func() {
		close(p.stop)
		<-p.done
		switch p.mode {
		case progressTerminal:
			_ = p.bar.Finish()
		case progressActions:
			fmt.Fprintln(p.w, p.line())
			fmt.Fprintln(p.w, "::endgroup::")
		}
	})
}

// progressFor starts the progress of a verb from its flags: nil when it
// is off, so callers leave render.Options.Progress unset.
func progressFor(stderr io.Writer, quiet bool, title string) *progress {
	mode := progressModeFor(stderr, quiet, os.Getenv)
	if mode == progressOff {
		return nil
	}
	return startProgress(stderr, mode, title)
}
