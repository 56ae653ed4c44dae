package promote

import (
	"context"

	"github.com/fluxgate/fluxgate/fleet"
)

// Promotion names what moves from one environment to another.
type Promotion struct {
	// Name identifies the promotion (its bot branch is promote/<Name>).
	Name string
	// From and To are cluster entry points or overlay directories,
	// relative to the repository root, or "branch:path".
	From, To string
	// Images are globs of image repositories whose tags and digests move.
	Images []string
	// Charts are names of HelmReleases whose chart versions move.
	Charts []string
	// Files are globs of files copied verbatim; Exclude keeps
	// environment-specific ones out.
	Files, Exclude []string
	// Vars are postBuild substitute keys whose values move.
	Vars []string
}

// Change is one scalar a promotion edits in the target environment.
type Change struct {
	// File and Line locate the scalar; Path is its YAML path in the
	// document (spec.chart.spec.version, images[2].newTag).
	File string
	Line int
	Path string
	// Old and New are the scalar's value before and after.
	Old, New string
	// Why says where New comes from (the source environment's file and line).
	Why string
}

// Plan is what one promotion changes.
type Plan struct {
	Promotion Promotion
	Changes   []Change
	// Problems are findings met while planning (a version the source
	// environment pins in a way the target cannot take, say).
	Problems []fleet.Problem
}

// Planner computes the plan of a promotion over a loaded repository.
type Planner interface {
	Plan(ctx context.Context, repo *fleet.Repo, p Promotion) (*Plan, error)
}
