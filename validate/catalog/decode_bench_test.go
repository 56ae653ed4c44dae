package catalog

import (
	"testing"

	"github.com/fluxgate/fluxgate/validate/catalog/internal/convert"
)

// BenchmarkDecode times decompressing and decoding the embedded catalog,
// which every validate run pays once.
func BenchmarkDecode(b *testing.B) {
	b.SetBytes(int64(len(embedded)))
	for b.Loop() {
		if _, err := convert.DecodeFile(embedded); err != nil {
			b.Fatal(err)
		}
	}
}
