package validate_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/internal/testenv"
	"github.com/fluxgate/fluxgate/render/sops"
	"github.com/fluxgate/fluxgate/validate"
)

// TestSOPSMAC: a SOPS file whose MAC is missing is reported without a key;
// one changed outside sops (here a plaintext field the MAC covers) is
// reported when the key opens it; an intact file is not reported.
func TestSOPSMAC(t *testing.T) {
	intact, err := os.ReadFile(filepath.Join("..", "testdata", "fleets", "fleet-infra", "apps", "production", "backend-secret.sops.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := testKey(t)
	renamed := strings.Replace(string(intact), "name: backend-credentials", "name: backend-credentials-2", 1)
	noMAC := regexp.MustCompile(`(?m)^    mac: .*\n`).ReplaceAllString(string(intact), "")
	if renamed == string(intact) || noMAC == string(intact) {
		t.Fatal("the fixture changed: cannot tamper with it")
	}
	tests := []struct {
		name string
		body string
		dec  *sops.Decryptor
		want string // part of the sops-mac message; "" for none
	}{
		{name: "intact, with the key", body: string(intact), dec: dec},
		{name: "intact, without a key", body: string(intact)},
		{name: "changed outside sops, with the key", body: renamed, dec: dec, want: "does not match the SOPS mac"},
		{name: "changed outside sops, without a key", body: renamed},
		{name: "no mac, without a key", body: noMAC, want: "has no mac"},
		{name: "no mac, with the key", body: noMAC, dec: dec, want: "has no mac"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := testenv.WriteTree(t, map[string]string{
				"clusters/test/app.yaml":     unit("app", "flux-system", ""),
				"units/app/secret.sops.yaml": tt.body,
			})
			rep := run(t, dir, fleet.Options{}, validate.Options{Decryptor: tt.dec})
			var got []validate.Finding
			for _, f := range rep.Findings {
				if f.Rule == validate.RuleSOPSMAC {
					got = append(got, f)
				}
			}
			switch {
			case tt.want == "" && len(got) > 0:
				t.Errorf("reported: %+v", got)
			case tt.want != "" && (len(got) != 1 || !strings.Contains(got[0].Message, tt.want)):
				t.Errorf("findings %+v, want one saying %q", got, tt.want)
			case tt.want != "":
				f := got[0]
				if f.File != "units/app/secret.sops.yaml" || f.Line != 10 || f.Severity != validate.SeverityWarning {
					t.Errorf("finding at %s:%d (%s), want units/app/secret.sops.yaml:10, a warning", f.File, f.Line, f.Severity)
				}
			}
		})
	}
}
