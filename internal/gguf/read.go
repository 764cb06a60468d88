package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Header is a GGUF file's metadata and tensor infos.
type Header struct {
	Version    uint32
	Keys       []string       // metadata keys in file order
	Meta       map[string]any // uint8..float64, bool, string, or []any for arrays
	Tensors    []TensorInfo
	DataOffset uint64 // start of the data section
}

// TensorInfo describes one tensor. Dims are innermost first.
type TensorInfo struct {
	Name   string
	Dims   []uint64
	Type   uint32
	Offset uint64 // from the start of the data section
}

// Limits that keep a corrupt header from allocating without bound.
const (
	maxString = 1 << 24
	maxArray  = 1 << 26
	maxCount  = 1 << 20
)

// ReadHeader reads the header of a GGUF file (any version from 2 on).
func ReadHeader(r io.Reader) (*Header, error) {
	d := &dec{r: bufio.NewReaderSize(r, 1<<16)}
	var magic [4]byte
	d.read(magic[:])
	if d.err != nil || string(magic[:]) != Magic {
		return nil, errFormat
	}
	h := &Header{Version: d.u32(), Meta: map[string]any{}}
	if d.err == nil && h.Version < 2 {
		return nil, fmt.Errorf("gguf: version %d is not supported", h.Version)
	}
	nt, nm := d.u64(), d.u64()
	if d.err == nil && (nt > maxCount || nm > maxCount) {
		return nil, fmt.Errorf("gguf: %d tensors, %d metadata keys: corrupt header", nt, nm)
	}
	for i := uint64(0); i < nm && d.err == nil; i++ {
		k := d.str()
		v := d.value(d.u32(), 0)
		if d.err != nil {
			return nil, fmt.Errorf("gguf: metadata %d (%q): %w", i, k, d.err)
		}
		if _, dup := h.Meta[k]; dup {
			return nil, fmt.Errorf("gguf: metadata key %q repeated", k)
		}
		h.Keys = append(h.Keys, k)
		h.Meta[k] = v
	}
	for i := uint64(0); i < nt && d.err == nil; i++ {
		t := TensorInfo{Name: d.str()}
		nd := d.u32()
		if nd > 4 {
			return nil, fmt.Errorf("gguf: tensor %q has %d dimensions", t.Name, nd)
		}
		for range nd {
			t.Dims = append(t.Dims, d.u64())
		}
		t.Type, t.Offset = d.u32(), d.u64()
		h.Tensors = append(h.Tensors, t)
	}
	if d.err != nil {
		return nil, fmt.Errorf("gguf: header: %w", d.err)
	}
	al := uint64(Alignment)
	if a, ok := h.Meta["general.alignment"].(uint32); ok && a > 0 {
		al = uint64(a)
	}
	h.DataOffset = (d.n + al - 1) / al * al
	return h, nil
}

type dec struct {
	r   *bufio.Reader
	n   uint64
	err error
	buf [8]byte
}

func (d *dec) read(b []byte) {
	if d.err != nil {
		return
	}
	k, err := io.ReadFull(d.r, b)
	d.n += uint64(k)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	d.err = err
}

func (d *dec) u8() uint8   { d.read(d.buf[:1]); return d.buf[0] }
func (d *dec) u16() uint16 { d.read(d.buf[:2]); return binary.LittleEndian.Uint16(d.buf[:]) }
func (d *dec) u32() uint32 { d.read(d.buf[:4]); return binary.LittleEndian.Uint32(d.buf[:]) }
func (d *dec) u64() uint64 { d.read(d.buf[:8]); return binary.LittleEndian.Uint64(d.buf[:]) }

func (d *dec) str() string {
	n := d.u64()
	if d.err != nil {
		return ""
	}
	if n > maxString {
		d.err = fmt.Errorf("string of %d bytes", n)
		return ""
	}
	b := make([]byte, n)
	d.read(b)
	return string(b)
}

func (d *dec) value(typ uint32, depth int) any {
	if d.err != nil {
		return nil
	}
	switch typ {
	case TypeUint8:
		return d.u8()
	case TypeInt8:
		return int8(d.u8())
	case TypeUint16:
		return d.u16()
	case TypeInt16:
		return int16(d.u16())
	case TypeUint32:
		return d.u32()
	case TypeInt32:
		return int32(d.u32())
	case TypeFloat32:
		return math.Float32frombits(d.u32())
	case TypeBool:
		return d.u8() != 0
	case TypeString:
		return d.str()
	case TypeUint64:
		return d.u64()
	case TypeInt64:
		return int64(d.u64())
	case TypeFloat64:
		return math.Float64frombits(d.u64())
	case TypeArray:
		et, n := d.u32(), d.u64()
		if d.err != nil {
			return nil
		}
		if n > maxArray || depth > 2 {
			d.err = fmt.Errorf("array of %d elements at depth %d", n, depth)
			return nil
		}
		a := make([]any, 0, min(n, 1<<16))
		for i := uint64(0); i < n && d.err == nil; i++ {
			a = append(a, d.value(et, depth+1))
		}
		return a
	}
	d.err = fmt.Errorf("unknown value type %d", typ)
	return nil
}
