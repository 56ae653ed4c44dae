package validate_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/fluxgate/fluxgate/fleet"
	"github.com/fluxgate/fluxgate/internal/testenv"
	"github.com/fluxgate/fluxgate/render"
	"github.com/fluxgate/fluxgate/validate"
	"github.com/fluxgate/fluxgate/validate/catalog"
)

func TestKubernetesVersions(t *testing.T) {
	known := catalog.KubernetesVersions()
	newest := known[0]
	minor := newest[:strings.LastIndex(newest, ".")]
	_, _, repo := loadDir(t, testenv.WriteTree(t, map[string]string{"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"}), fleet.Options{})
	for _, v := range []string{"", minor, "v" + minor, minor + ".0", minor + ".99"} {
		c, err := validate.NewChecker(repo, render.Shard{}, validate.Options{KubernetesVersion: v})
		if err != nil {
			t.Errorf("version %q: %v", v, err)
			continue
		}
		c.Close()
	}
	for _, v := range []string{"1.20", "2.0", "1.3"} {
		_, err := validate.NewChecker(repo, render.Shard{}, validate.Options{KubernetesVersion: v})
		var unknown *validate.UnknownVersionError
		if !errors.As(err, &unknown) || unknown.Version != v || !strings.Contains(err.Error(), strings.Join(known, ", ")) {
			t.Errorf("version %q: %v, want an UnknownVersionError listing %v", v, err, known)
		}
	}
}
