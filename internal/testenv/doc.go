// Package testenv holds helpers for the project's tests: trees of files
// written for a test, and (as later tests need them) the real components
// they start.
package testenv
