// Package valuecodec writes decoded YAML and JSON values (maps with string
// keys, slices, strings, booleans, int64, int, float64 and nil) in a
// compact binary form that reads back as the very same Go values: int64
// and float64 stay apart, an empty list is not nil. The caches of fleet
// and render keep parsed and rendered objects with it.
//
// A Reader never panics on corrupt input: the first error sticks (Err)
// and sizes, counts and depth are bounded.
package valuecodec

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
)

// ErrCorrupt is the error of a Reader that met input no Writer writes.
var ErrCorrupt = errors.New("corrupt encoded value")

// Bounds that corrupt input cannot make a Reader exceed.
const (
	maxString = 64 << 20
	maxCount  = 1 << 24
	maxDepth  = 256
)

// Value tags.
const (
	tagNil      = 'z'
	tagFalse    = 'f'
	tagTrue     = 't'
	tagString   = 's'
	tagInt64    = 'i'
	tagInt      = 'j'
	tagFloat64  = 'd'
	tagMap      = 'm'
	tagNilMap   = 'M'
	tagSlice    = 'l'
	tagNilSlice = 'L'
)

// Writer writes values to a buffered writer; call Flush at the end.
type Writer struct {
	w   *bufio.Writer
	err error
	buf [binary.MaxVarintLen64]byte
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: bufio.NewWriter(w)} }

// Err is the first value that could not be written, if any.
func (w *Writer) Err() error { return w.err }

// Flush writes what is buffered, or returns Err.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	return w.w.Flush()
}

// Raw writes bytes as they are (a magic line).
func (w *Writer) Raw(s string) { w.w.WriteString(s) }

// Uvarint writes an unsigned number.
func (w *Writer) Uvarint(n uint64) { w.w.Write(w.buf[:binary.PutUvarint(w.buf[:], n)]) }

// Varint writes a signed number.
func (w *Writer) Varint(n int64) { w.w.Write(w.buf[:binary.PutVarint(w.buf[:], n)]) }

// String writes a string.
func (w *Writer) String(s string) {
	w.Uvarint(uint64(len(s)))
	w.w.WriteString(s)
}

// Value writes a decoded value; any other type is an error (Err).
func (w *Writer) Value(v any) {
	switch t := v.(type) {
	case nil:
		w.w.WriteByte(tagNil)
	case bool:
		if t {
			w.w.WriteByte(tagTrue)
		} else {
			w.w.WriteByte(tagFalse)
		}
	case string:
		w.w.WriteByte(tagString)
		w.String(t)
	case int64:
		w.w.WriteByte(tagInt64)
		w.Varint(t)
	case int:
		w.w.WriteByte(tagInt)
		w.Varint(int64(t))
	case float64:
		w.w.WriteByte(tagFloat64)
		w.Uvarint(math.Float64bits(t))
	case map[string]any:
		if t == nil {
			w.w.WriteByte(tagNilMap)
			return
		}
		w.w.WriteByte(tagMap)
		w.Uvarint(uint64(len(t)))
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			w.String(k)
			w.Value(t[k])
		}
	case []any:
		if t == nil {
			w.w.WriteByte(tagNilSlice)
			return
		}
		w.w.WriteByte(tagSlice)
		w.Uvarint(uint64(len(t)))
		for _, e := range t {
			w.Value(e)
		}
	default:
		if w.err == nil {
			w.err = fmt.Errorf("cannot encode a %T", v)
		}
	}
}

// Reader reads what a Writer wrote.
type Reader struct {
	r   byteReader
	err error
}

type byteReader interface {
	io.Reader
	io.ByteReader
}

// NewReader returns a Reader of r, buffered unless r reads bytes one by
// one cheaply itself (a bytes.Reader).
func NewReader(r io.Reader) *Reader {
	if br, ok := r.(byteReader); ok {
		return &Reader{r: br}
	}
	return &Reader{r: bufio.NewReader(r)}
}

// Err is the first error met, if any.
func (r *Reader) Err() error { return r.err }

// Fail records err unless an error is recorded already.
func (r *Reader) Fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// Raw reads len(s) bytes and reports whether they are s.
func (r *Reader) Raw(s string) bool {
	if r.err != nil {
		return false
	}
	b := make([]byte, len(s))
	if _, err := io.ReadFull(r.r, b); err != nil {
		r.Fail(err)
		return false
	}
	return string(b) == s
}

// Uvarint reads an unsigned number.
func (r *Reader) Uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	n, err := binary.ReadUvarint(r.r)
	r.Fail(err)
	return n
}

// Varint reads a signed number.
func (r *Reader) Varint() int64 {
	if r.err != nil {
		return 0
	}
	n, err := binary.ReadVarint(r.r)
	r.Fail(err)
	return n
}

// Count reads a number of elements to follow.
func (r *Reader) Count() int {
	n := r.Uvarint()
	if n > maxCount {
		r.Fail(ErrCorrupt)
		return 0
	}
	return int(n)
}

// String reads a string.
func (r *Reader) String() string {
	n := r.Uvarint()
	if r.err != nil {
		return ""
	}
	if n > maxString {
		r.Fail(ErrCorrupt)
		return ""
	}
	b := make([]byte, n)
	_, err := io.ReadFull(r.r, b)
	r.Fail(err)
	return string(b)
}

// Value reads a value.
func (r *Reader) Value() any { return r.value(0) }

// Object reads a value that must be a map (or nil).
func (r *Reader) Object() map[string]any {
	v := r.value(0)
	m, ok := v.(map[string]any)
	if !ok && v != nil {
		r.Fail(ErrCorrupt)
	}
	return m
}

// Rest reads to the end (a compressed stream checks its checksum there).
func (r *Reader) Rest() error {
	if r.err != nil {
		return r.err
	}
	_, err := io.Copy(io.Discard, r.r)
	return err
}

func (r *Reader) value(depth int) any {
	if r.err != nil {
		return nil
	}
	if depth > maxDepth {
		r.Fail(ErrCorrupt)
		return nil
	}
	tag, err := r.r.ReadByte()
	if err != nil {
		r.Fail(err)
		return nil
	}
	switch tag {
	case tagNil:
		return nil
	case tagFalse:
		return false
	case tagTrue:
		return true
	case tagString:
		return r.String()
	case tagInt64:
		return r.Varint()
	case tagInt:
		return int(r.Varint())
	case tagFloat64:
		return math.Float64frombits(r.Uvarint())
	case tagNilMap:
		return map[string]any(nil)
	case tagMap:
		n := r.Count()
		m := make(map[string]any, min(n, 1024))
		for range n {
			k := r.String()
			m[k] = r.value(depth + 1)
			if r.err != nil {
				return nil
			}
		}
		return m
	case tagNilSlice:
		return []any(nil)
	case tagSlice:
		n := r.Count()
		s := make([]any, 0, min(n, 1024))
		for range n {
			s = append(s, r.value(depth+1))
			if r.err != nil {
				return nil
			}
		}
		return s
	}
	r.Fail(ErrCorrupt)
	return nil
}
