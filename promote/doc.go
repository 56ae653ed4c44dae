// Package promote plans environment promotions: which versions move from
// one environment of a fleet to the next (image tags and digests, chart
// versions, copied files, postBuild variables), as a [Plan] of [Change]s
// that name the file, line and YAML path they edit and why.
//
// A plan only describes edits; writing them (kyaml, comments kept),
// committing, pushing the bot branch and opening the pull request is the
// job of package change, which cmd composes with a [Planner].
//
// The package holds the types the promote command is built on; the
// planners themselves land with that command.
package promote
