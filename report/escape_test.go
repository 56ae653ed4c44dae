package report

import "testing"

// TestEscapeWorkflowCommands checks escaping against the examples in the
// Actions toolkit's own tests (packages/core/__tests__/command.test.ts).
func TestEscapeWorkflowCommands(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		property string
		data     string
	}{
		{
			name:     "toolkit property example",
			in:       "percent % percent % cr \r cr \r lf \n lf \n colon : colon : comma , comma ,",
			property: "percent %25 percent %25 cr %0D cr %0D lf %0A lf %0A colon %3A colon %3A comma %2C comma %2C",
			data:     "percent %25 percent %25 cr %0D cr %0D lf %0A lf %0A colon : colon : comma , comma ,",
		},
		{
			name:     "toolkit literal escape sequences",
			in:       "%25 %25 %0D %0D %0A %0A %3A %3A %2C %2C",
			property: "%2525 %2525 %250D %250D %250A %250A %253A %253A %252C %252C",
			data:     "%2525 %2525 %250D %250D %250A %250A %253A %253A %252C %252C",
		},
		{
			name:     "path with a comma",
			in:       "clusters/prod,eu/secrets.yaml",
			property: "clusters/prod%2Ceu/secrets.yaml",
			data:     "clusters/prod,eu/secrets.yaml",
		},
		{
			name:     "command injection attempt",
			in:       "x\n::set-env name=A::b",
			property: "x%0A%3A%3Aset-env name=A%3A%3Ab",
			data:     "x%0A::set-env name=A::b",
		},
		{name: "plain", in: "schema-invalid", property: "schema-invalid", data: "schema-invalid"},
		{name: "empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := escapeProperty(tc.in); got != tc.property {
				t.Errorf("escapeProperty(%q) = %q, want %q", tc.in, got, tc.property)
			}
			if got := escapeData(tc.in); got != tc.data {
				t.Errorf("escapeData(%q) = %q, want %q", tc.in, got, tc.data)
			}
		})
	}
}

func TestSARIFURI(t *testing.T) {
	tests := []struct{ in, want string }{
		{in: "apps/web/deploy.yaml", want: "apps/web/deploy.yaml"},
		{in: "clusters/prod,eu/secrets.yaml", want: "clusters/prod,eu/secrets.yaml"},
		{in: `clusters\prod\apps.yaml`, want: "clusters/prod/apps.yaml"},
		{in: "./apps/web.yaml", want: "apps/web.yaml"},
		{in: "/apps/web.yaml", want: "apps/web.yaml"},
		{in: "my apps/web#1.yaml", want: "my%20apps/web%231.yaml"},
		{in: "100%.yaml", want: "100%25.yaml"},
		{in: "a:b/c.yaml", want: "./a:b/c.yaml"},
		{in: "", want: "."},
	}
	for _, tc := range tests {
		if got := sarifURI(tc.in); got != tc.want {
			t.Errorf("sarifURI(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSARIFRuleName(t *testing.T) {
	tests := []struct{ in, want string }{
		{in: "schema-invalid", want: "SchemaInvalid"},
		{in: "yaml-invalid", want: "YamlInvalid"},
		{in: "x", want: "X"},
		{in: "-", want: "-"},
		{in: "", want: ""},
	}
	for _, tc := range tests {
		if got := sarifRuleName(tc.in); got != tc.want {
			t.Errorf("sarifRuleName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
