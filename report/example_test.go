package report_test

import (
	"fmt"
	"log"
	"os"

	"github.com/fluxgate/fluxgate/report"
	"github.com/fluxgate/fluxgate/validate"
)

func exampleReport() *validate.Report {
	return &validate.Report{
		Findings: []validate.Finding{
			{
				Rule: validate.RuleDeprecatedAPI, Severity: validate.SeverityWarning,
				File: "apps/web/hpa.yaml", Line: 1, Object: "HorizontalPodAutoscaler/apps/web",
				Message: "autoscaling/v2beta2 is removed in Kubernetes 1.26; use autoscaling/v2",
			},
			{
				Rule: validate.RuleSchemaInvalid, Severity: validate.SeverityError,
				File: "apps/web/deploy.yaml", Line: 12, Object: "Deployment/apps/web",
				Message: "spec.replicas: expected integer, got string",
			},
		},
		Summary: validate.Summary{Units: 3, Objects: 40, Errors: 1, Warnings: 1},
	}
}

// ExampleNew writes a report as GitHub Actions annotations, errors first.
func ExampleNew() {
	w, err := report.New("github", report.Options{})
	if err != nil {
		log.Fatal(err)
	}
	if err := w.Write(os.Stdout, exampleReport()); err != nil {
		log.Fatal(err)
	}
	// Output:
	// ::error file=apps/web/deploy.yaml,line=12,title=schema-invalid::Deployment/apps/web: spec.replicas: expected integer, got string
	// ::warning file=apps/web/hpa.yaml,line=1,title=deprecated-api::HorizontalPodAutoscaler/apps/web: autoscaling/v2beta2 is removed in Kubernetes 1.26; use autoscaling/v2
}

// ExampleNew_text writes the text format: one line per finding, as
// compilers print them.
func ExampleNew_text() {
	w, err := report.New("text", report.Options{})
	if err != nil {
		log.Fatal(err)
	}
	if err := w.Write(os.Stdout, exampleReport()); err != nil {
		log.Fatal(err)
	}
	// Output:
	// apps/web/deploy.yaml:12:1: error: Deployment/apps/web: spec.replicas: expected integer, got string [schema-invalid]
	// apps/web/hpa.yaml:1:1: warning: HorizontalPodAutoscaler/apps/web: autoscaling/v2beta2 is removed in Kubernetes 1.26; use autoscaling/v2 [deprecated-api]
	//
	// 1 error, 1 warning in 3 units (40 objects)
}

// ExampleNew_pretty writes the pretty format a person reads at a
// terminal: findings grouped by file.
func ExampleNew_pretty() {
	w, err := report.New("pretty", report.Options{})
	if err != nil {
		log.Fatal(err)
	}
	if err := w.Write(os.Stdout, exampleReport()); err != nil {
		log.Fatal(err)
	}
	// Output:
	// apps/web/deploy.yaml
	//   12 error   schema-invalid Deployment/apps/web: spec.replicas: expected integer, got string
	//
	// apps/web/hpa.yaml
	//   1 warning deprecated-api HorizontalPodAutoscaler/apps/web: autoscaling/v2beta2 is removed in Kubernetes 1.26; use autoscaling/v2
	//
	// 1 error, 1 warning in 3 units (40 objects)
}

// ExampleFormats lists the names New accepts, as a --format flag's help
// would.
func ExampleFormats() {
	fmt.Println(report.Formats())
	// Output: [text pretty json junit sarif github]
}

// ExampleMarkdown writes a job summary, as for $GITHUB_STEP_SUMMARY.
func ExampleMarkdown() {
	if err := report.Markdown(os.Stdout, exampleReport(), 1); err != nil {
		log.Fatal(err)
	}
	// Output:
	// ## fluxgate validation
	//
	// **1 error**, **1 warning** in 3 units (40 objects).
	//
	// | Rule | Errors | Warnings |
	// | --- | ---: | ---: |
	// | `schema-invalid` | 1 | 0 |
	// | `deprecated-api` | 0 | 1 |
	//
	// ### Findings
	//
	// | Severity | Rule | Location | Object | Message |
	// | --- | --- | --- | --- | --- |
	// | error | `schema-invalid` | `apps/web/deploy.yaml:12` | `Deployment/apps/web` | spec.replicas: expected integer, got string |
	//
	// 1 more finding not shown.
}
