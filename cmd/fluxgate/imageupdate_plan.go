package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/imageupdate"
)

// planAutomations plans each automation's edits of the work tree fsys
// when sync is nil (--dry-run), else publishes them with sync. A suspended
// automation is skipped; one that cannot run does not stop the others:
// its error is in failed, the others' plans and problems are returned.
func planAutomations(ctx context.Context, automations []*imageupdate.Automation, set *imageupdate.Set,
	resolved map[string]imageupdate.ImageRef, fsys fs.FS, sync *syncer, stderr io.Writer,
) (plans []imageupdate.AutomationEdits, probs []fleet.Problem, failed []error) {
	for _, a := range automations {
		if a.Spec.Suspend {
			fmt.Fprintf(stderr, "%s: suspended, skipped\n", a.Ref())
			continue
		}
		var res *syncResult
		var err error
		if sync == nil {
			res, err = planWorkTree(fsys, a, set, resolved)
		} else {
			res, err = sync.run(ctx, a, set, resolved)
		}
		if err != nil {
			failed = append(failed, err)
			continue
		}
		probs = append(probs, res.problems...)
		plans = append(plans, res.plan)
	}
	return plans, probs, failed
}

// planWorkTree plans automation a's edits of the work tree fsys (for
// --dry-run), changing nothing.
func planWorkTree(fsys fs.FS, a *imageupdate.Automation, set *imageupdate.Set, resolved map[string]imageupdate.ImageRef) (*syncResult, error) {
	plan, err := imageupdate.PlanSetters(fsys, a.UpdatePath, set.PoliciesFor(a, resolved))
	if err != nil {
		return nil, fmt.Errorf("%s (%s:%d): %w", a.Ref(), a.Doc.File, a.Doc.Line, err)
	}
	return &syncResult{
		problems: imageupdate.SetterProblems(plan.Problems),
		plan:     imageupdate.AutomationEdits{Automation: a, Edits: plan.Edits},
	}, nil
}
