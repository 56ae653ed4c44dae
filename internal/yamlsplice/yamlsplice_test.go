package yamlsplice

import (
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

const testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestScalarText(t *testing.T) {
	tests := []struct {
		name  string
		value string
		style string // plain, single, double
		flow  bool
		want  string
	}{
		{name: "plain image", value: "ghcr.io/org/app:1.2.3@" + testDigest, style: "plain", want: "ghcr.io/org/app:1.2.3@" + testDigest},
		{name: "plain version", value: "v1.10", style: "plain", want: "v1.10"},
		{name: "plain semver", value: "1.2.3", style: "plain", want: "1.2.3"},
		{name: "plain float", value: "1.10", style: "plain", want: `"1.10"`},
		{name: "plain int", value: "10", style: "plain", want: `"10"`},
		{name: "plain yaml 1.1 bool", value: "yes", style: "plain", want: `"yes"`},
		{name: "plain null", value: "null", style: "plain", want: `"null"`},
		{name: "plain empty", value: "", style: "plain", want: `""`},
		{name: "plain colon digits", value: "1:20", style: "plain", want: "1:20"}, // a string in YAML 1.1 as Kubernetes reads it
		{name: "plain indicator", value: "*app", style: "plain", want: `'*app'`},
		{name: "plain comment", value: "a #b", style: "plain", want: `'a #b'`},
		{name: "plain quote", value: "'a", style: "plain", want: `'''a'`},
		{name: "flow comma", value: "a,b", style: "plain", flow: true, want: `"a,b"`},
		{name: "block comma", value: "a,b", style: "plain", want: "a,b"},
		{name: "single", value: "1.10", style: "single", want: "'1.10'"},
		{name: "single escape", value: "it's", style: "single", want: "'it''s'"},
		{name: "single empty", value: "", style: "single", want: "''"},
		{name: "double", value: "1.10", style: "double", want: `"1.10"`},
		{name: "double escape", value: `a"b\c`, style: "double", want: `"a\"b\\c"`},
		{name: "double control", value: "a\x01", style: "double", want: `"a\u0001"`},
	}
	styles := map[string]yaml.Style{"plain": 0, "single": yaml.SingleQuotedStyle, "double": yaml.DoubleQuotedStyle}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ScalarText(tt.value, styles[tt.style], tt.flow); got != tt.want {
				t.Errorf("ScalarText(%q) = %s, want %s", tt.value, got, tt.want)
			}
		})
	}
}
