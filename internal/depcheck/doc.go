// Package depcheck holds the test that enforces the package dependency
// table of DESIGN.md and ARCHITECTURE.md: capability packages never import
// each other sideways, nothing below cmd imports cmd, and fleet imports no
// project package. It has no code of its own.
package depcheck
