package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/fluxgate/fluxgate/render"
)

// Status is how a unit ended in a run.
type Status string

// The statuses of a unit, as the test report names them.
const (
	StatusReady    Status = "Ready"
	StatusFailed   Status = "Failed"
	StatusTimedOut Status = "TimedOut"
	StatusSkipped  Status = "Skipped"
)

// UnitSpec is a unit with what its Flux object says about applying it.
type UnitSpec struct {
	Unit *render.Unit
	// DependsOn are the IDs of the units that must be Ready first.
	DependsOn []string
	// Wait is spec.wait: every object of the unit must become healthy.
	Wait bool
	// HealthChecks are spec.healthChecks, waited for after the apply.
	HealthChecks []ObjectRef
	// Timeout bounds the apply and the health wait; five minutes when zero.
	Timeout time.Duration
}

// UnitResult is what happened to one unit.
type UnitResult struct {
	Unit    *render.Unit
	Status  Status
	Message string
	// Object, File and Line name the first failing object and where it
	// was written, when the failure names one.
	Object  *ObjectRef
	File    string
	Line    int
	Changes ChangeSet
	// Started is the order in which the unit's apply began (1-based; 0
	// when it never began).
	Started int
}

// Run applies the units unit by unit in dependsOn order, independent
// units in parallel (at most parallel at once; 4 when < 1): a unit starts
// once every unit it depends on is Ready, and is Skipped when one of them
// is not. Results come back in the order of specs. A cycle or an unknown
// dependency skips the units it concerns.
func Run(ctx context.Context, e *Engine, specs []UnitSpec, parallel int) []UnitResult {
	if parallel < 1 {
		parallel = 4
	}
	byID := make(map[string]int, len(specs))
	for i, s := range specs {
		byID[s.Unit.ID] = i
	}
	results := make([]UnitResult, len(specs))
	done := make([]chan struct{}, len(specs))
	for i := range done {
		done[i] = make(chan struct{})
	}
	var (
		mu      sync.Mutex
		started int
		wg      sync.WaitGroup
	)
	sem := make(chan struct{}, parallel)
	cyclic := cycles(specs, byID)
	for i, s := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[i])
			res := UnitResult{Unit: s.Unit}
			if cyclic[i] {
				res.Status, res.Message = StatusSkipped, "dependsOn forms a cycle"
				results[i] = res
				return
			}
			for _, d := range s.DependsOn {
				j, ok := byID[d]
				if !ok {
					res.Status, res.Message = StatusSkipped, fmt.Sprintf("dependency %s is not rendered", d)
					results[i] = res
					return
				}
				select {
				case <-done[j]:
				case <-ctx.Done():
					res.Status, res.Message = StatusSkipped, "interrupted: "+ctx.Err().Error()
					results[i] = res
					return
				}
				if results[j].Status != StatusReady {
					res.Status, res.Message = StatusSkipped, fmt.Sprintf("dependency %s is %s", d, results[j].Status)
					results[i] = res
					return
				}
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				res.Status, res.Message = StatusSkipped, "interrupted: "+ctx.Err().Error()
				results[i] = res
				return
			}
			mu.Lock()
			started++
			res.Started = started
			mu.Unlock()
			results[i] = RunUnit(ctx, e, s, res)
			<-sem
		}()
	}
	wg.Wait()
	return results
}

// RunUnit applies one unit and waits for its health; res carries what the
// caller already knows (the unit, the start order).
func RunUnit(ctx context.Context, e *Engine, s UnitSpec, res UnitResult) UnitResult {
	res.Unit = s.Unit
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	if s.Unit.Failed {
		res.Status, res.Message = StatusFailed, "the unit did not render"
		return res
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cs, err := e.Apply(cctx, s.Unit)
	res.Changes = cs
	if err != nil {
		res.Status, res.Message = StatusFailed, err.Error()
		var ae *ApplyError
		if errors.As(err, &ae) {
			obj := ae.Object
			res.Object, res.File, res.Line = &obj, ae.File, ae.Line
			res.Message = ae.Err.Error()
		}
		if errors.Is(cctx.Err(), context.DeadlineExceeded) {
			res.Status = StatusTimedOut
		}
		return res
	}
	var wait []ObjectRef
	if s.Wait && !e.DryRun {
		wait = Refs(s.Unit)
	}
	if !e.DryRun {
		wait = append(wait, s.HealthChecks...)
	}
	if len(wait) > 0 {
		left := time.Until(deadlineOf(cctx))
		if err := e.Wait(ctx, wait, left); err != nil {
			res.Status, res.Message = StatusFailed, err.Error()
			if strings.HasPrefix(err.Error(), "timeout waiting for") {
				res.Status = StatusTimedOut
			}
			if o, ok := firstNamed(err.Error(), s.Unit, wait); ok {
				res.Object = &o.ref
				res.File, res.Line = o.file, o.line
			}
			return res
		}
	}
	res.Status = StatusReady
	return res
}

func deadlineOf(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

type located struct {
	ref  ObjectRef
	file string
	line int
}

// firstNamed finds the object a wait error names first, with its source
// when it is one of the unit's objects.
func firstNamed(msg string, u *render.Unit, refs []ObjectRef) (located, bool) {
	best, at := located{}, -1
	for _, r := range refs {
		i := strings.Index(msg, r.String()+" ")
		if i >= 0 && (at < 0 || i < at) {
			best, at = located{ref: r}, i
		}
	}
	if at < 0 {
		return best, false
	}
	for i, r := range Refs(u) {
		if r.Kind == best.ref.Kind && r.Namespace == best.ref.Namespace && r.Name == best.ref.Name {
			best.file, best.line = u.Objects[i].File, u.Objects[i].Line
		}
	}
	return best, true
}

// cycles marks the specs that take part in (or wait on) a dependsOn cycle.
func cycles(specs []UnitSpec, byID map[string]int) []bool {
	const (
		unvisited = iota
		visiting
		visited
	)
	state := make([]int, len(specs))
	bad := make([]bool, len(specs))
	var visit func(i int) bool
	visit = func(i int) bool {
		switch state[i] {
		case visiting:
			return true
		case visited:
			return bad[i]
		}
		state[i] = visiting
		for _, d := range specs[i].DependsOn {
			if j, ok := byID[d]; ok && visit(j) {
				bad[i] = true
			}
		}
		state[i] = visited
		return bad[i]
	}
	for i := range specs {
		visit(i)
	}
	return bad
}
