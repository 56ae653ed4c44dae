package valuecodec_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxgate/fluxgate/internal/valuecodec"
)

// TestRoundTrip: a value reads back with the same Go types: int64 and
// float64 apart, nil and empty lists and maps apart.
func TestRoundTrip(t *testing.T) {
	v := map[string]any{
		"s": "text", "i": int64(-3), "n": 7, "f": 1.5, "whole": float64(2),
		"t": true, "false": false, "nil": nil,
		"list":  []any{"a", int64(1), map[string]any{"k": []any{}}},
		"empty": []any{}, "nilList": []any(nil), "emptyMap": map[string]any{}, "nilMap": map[string]any(nil),
	}
	var buf bytes.Buffer
	w := valuecodec.NewWriter(&buf)
	w.Raw("magic\n")
	w.String("name")
	w.Value(v)
	w.Varint(-42)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	r := valuecodec.NewReader(bytes.NewReader(buf.Bytes()))
	if !r.Raw("magic\n") || r.String() != "name" {
		t.Fatal("header not read back")
	}
	got := r.Object()
	if n := r.Varint(); n != -42 || r.Err() != nil {
		t.Fatalf("trailer = %d, err %v", n, r.Err())
	}
	if diff := cmp.Diff(v, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if _, ok := got["whole"].(float64); !ok {
		t.Errorf("a float64 read back as %T", got["whole"])
	}
	if got["nilList"].([]any) != nil || got["empty"].([]any) == nil {
		t.Error("nil and empty lists are not kept apart")
	}
}

// TestWriterRefusesOtherTypes: a value that is not decoded YAML or JSON is
// an error, not a silent loss.
func TestWriterRefusesOtherTypes(t *testing.T) {
	w := valuecodec.NewWriter(io.Discard)
	w.Value(map[string]any{"t": struct{}{}})
	if w.Flush() == nil {
		t.Fatal("a struct was encoded")
	}
}

// TestReaderCorruptInput: every truncation and a flipped byte give an
// error or a different value, never a panic.
func TestReaderCorruptInput(t *testing.T) {
	var buf bytes.Buffer
	w := valuecodec.NewWriter(&buf)
	w.Value(map[string]any{"a": []any{"x", int64(1)}, "b": map[string]any{"c": 2.5}})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	for n := 0; n < len(data); n++ {
		r := valuecodec.NewReader(bytes.NewReader(data[:n]))
		r.Value()
		if r.Err() == nil {
			t.Errorf("truncated to %d bytes: no error", n)
		}
	}
	bad := bytes.Clone(data)
	bad[0] = '?'
	r := valuecodec.NewReader(bytes.NewReader(bad))
	r.Value()
	if !errors.Is(r.Err(), valuecodec.ErrCorrupt) {
		t.Errorf("unknown tag: err %v, want ErrCorrupt", r.Err())
	}
}
