package catalog

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// maxEmbedded bounds the committed catalog. The issue allows about 15 MB;
// the catalog holds three releases and the Flux CRDs in about 0.1 MB, so a
// much larger file means something (say, inlined schemas) went wrong.
const maxEmbedded = 2 << 20

func TestEmbeddedSize(t *testing.T) {
	st, err := os.Stat(filepath.Join("data", "catalog.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != int64(len(embedded)) {
		t.Fatalf("embedded %d bytes, file has %d", len(embedded), st.Size())
	}
	if len(embedded) > maxEmbedded {
		t.Fatalf("catalog is %d bytes, over the %d byte budget", len(embedded), maxEmbedded)
	}
	t.Logf("embedded catalog: %d bytes", len(embedded))
}

// The committed file is canonical: decoding and encoding it again gives
// the same bytes, as generating it twice does.
func TestEmbeddedIsCanonical(t *testing.T) {
	again, err := file().Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, embedded) {
		t.Fatal("re-encoding the embedded catalog changed it")
	}
}

// The Flux CRDs come from the same API module versions as the Go types
// fluxgate decodes Flux objects with.
func TestFluxSourcesMatchGoMod(t *testing.T) {
	gomod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	required := map[string]string{}
	for _, line := range strings.Split(string(gomod), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && strings.HasPrefix(f[0], "github.com/fluxcd/") && strings.HasSuffix(f[0], "-controller/api") {
			required[f[0]] = f[1]
		}
	}
	if len(required) == 0 {
		t.Fatal("no Flux API module in go.mod")
	}
	for mod, version := range required {
		found := false
		for _, src := range file().Sources {
			// "github.com/fluxcd/x-controller/api@v1 ..." or, for a
			// shipped CRD, "github.com/fluxcd/x-controller@v1 ... on
			// github.com/fluxcd/x-controller/api@v1".
			found = found || strings.Contains(src, mod+"@"+version)
		}
		if !found {
			t.Errorf("go.mod requires %s %s but the catalog's CRDs are from: %v; update gen/main.go and run go generate", mod, version, file().Sources)
		}
	}
}

func TestRelease(t *testing.T) {
	f := file()
	tests := []struct {
		in   string
		want string // "" for none
	}{
		{"", f.Kubernetes[0].Version},
		{"1.36", "1.36.3"},
		{"1.36.3", "1.36.3"},
		{"v1.36.3", "1.36.3"},
		{"1.36.0", "1.36.3"},
		{" v1.35 ", "1.35.4"},
		{"1.34", "1.34.4"},
		{"1.27", "1.27.16"},
		{"1.26", ""},
		{"1.38", ""},
		{"1", ""},
		{"1.36.x", ""},
		{"1.36.3.1", ""},
	}
	for _, tt := range tests {
		got := ""
		if r := release(f, tt.in); r != nil {
			got = r.Version
		}
		if got != tt.want {
			t.Errorf("release(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestEcosystemLazy checks that looking a kind up decompresses only its
// operator's schemas.
func TestEcosystemLazy(t *testing.T) {
	opMu.Lock()
	clear(opSchemas)
	opMu.Unlock()
	s, op, ok := EcosystemSchema("cert-manager.io/v1", "Certificate")
	if !ok || op.Name != "cert-manager" || !strings.Contains(string(s), `"secretName"`) {
		t.Fatalf("cert-manager.io/v1 Certificate: ok %v, operator %+v", ok, op)
	}
	opMu.Lock()
	defer opMu.Unlock()
	if len(opSchemas) != 1 || opSchemas["cert-manager"] == nil {
		var names []string
		for n := range opSchemas {
			names = append(names, n)
		}
		t.Errorf("decompressed operators = %v, want only cert-manager", names)
	}
	if _, _, ok := EcosystemSchema("cert-manager.io/v1", "Nothing"); ok {
		t.Error("an unknown kind was found")
	}
}
