// Package report writes a validation report (validate.Report) in the formats
// that people and CI systems read: text for a terminal, json for scripts,
// junit for test dashboards, sarif for GitHub code scanning and github for
// GitHub Actions annotations. A format is chosen by name with New and sits
// behind the small Writer interface; Markdown writes a GitHub job summary.
// Merge combines the reports of sharded runs.
//
// It also writes the other outputs of the commands: a diff report
// (diff.Report) as text, json or a Markdown pull request comment
// (DiffText, DiffJSON, DiffMarkdown), and a render (render.Result) as
// YAML or JSON (RenderYAML, RenderJSON) or as one file per unit under a
// directory (RenderDir, which overwrites only the files it wrote).
//
// Every format is deterministic: findings are written in validate.Sort
// order (the github format puts errors first), so output can be diffed and
// kept in golden files. Writers never print on their own: they write only
// to the io.Writer, or under the directory, they are given.
package report
