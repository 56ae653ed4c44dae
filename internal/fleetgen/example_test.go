package fleetgen_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/fluxgate/fluxgate/internal/fleetgen"
)

func ExampleGenerate() {
	tmp, err := os.MkdirTemp("", "fleet")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)

	c := fleetgen.Config{Clusters: 2, Kustomizations: 3, Objects: 8, Seed: 1}
	n, err := fleetgen.Generate(filepath.Join(tmp, "fleet"), c)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n, n == fleetgen.FileCount(c))
	// Output: 44 true
}
