package columnar

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Parquet page headers declare the page's compressed size, which the
// arrow page reader allocates (bytes.Buffer.Grow) before it reads the page,
// and its uncompressed size, which it allocates too; a damaged compressed
// size past the chunk also makes the page reader stop early without an
// error. checkPages walks the page headers of a column chunk first, as the
// page reader will, and refuses a page that claims more bytes than the
// chunk holds, or more uncompressed bytes than the reader's limit.

// maxPageHeader is the largest page header read, as arrow's page reader.
const maxPageHeader = 16 << 20

// checkPages walks the pages of the column chunk of size bytes at start
// as the page reader does: until the data pages have held nvalues values.
// snappy says whether the chunk is Snappy-compressed.
func checkPages(r io.ReaderAt, start, size, nvalues, limit int64, snappy bool) error {
	end := start + size
	window := int64(16 << 10)
	buf := make([]byte, 0, window)
	for pos, seen := start, int64(0); seen < nvalues && pos < end; {
		n := min(window, end-pos)
		buf = buf[:n]
		if _, err := r.ReadAt(buf, pos); err != nil && err != io.EOF {
			return err
		}
		h, err := readPageHeader(buf)
		if errors.Is(err, errThriftShort) && n < end-pos && window < maxPageHeader {
			window *= 2
			buf = make([]byte, 0, window)
			continue
		}
		if err != nil {
			return fmt.Errorf("the page header at byte %d is damaged", pos)
		}
		data := pos + int64(h.size)
		if h.compressed < 0 || h.compressed > end-data {
			return fmt.Errorf("the page at byte %d declares %d bytes, the column chunk has %d left", pos, h.compressed, end-data)
		}
		if h.uncompressed < 0 || h.uncompressed > limit {
			return &allocError{size: h.uncompressed, limit: limit}
		}
		compressed := h.typ == pageData || h.typ == pageDictionary || (h.typ == pageDataV2 && !h.plain)
		if snappy && compressed && h.levels >= 0 && h.levels <= h.compressed {
			if n, ok := snappyLength(r, data+h.levels, data+h.compressed); ok && n > h.uncompressed-h.levels {
				return fmt.Errorf("the snappy page at byte %d declares %d bytes, its header %d", pos, n, h.uncompressed-h.levels)
			}
		}
		if h.typ == pageData || h.typ == pageDataV2 {
			seen += max(h.values, 0)
		}
		pos = data + h.compressed
	}
	return nil
}

// checkFooter walks the Thrift of a Parquet footer before the library
// parses it: Thrift allocates a list at the length it declares (up to 100
// million elements, 800 MB of pointers), where here no list may claim more
// elements than there are bytes left. A file the library refuses by itself
// (no magic, a footer length past the file, an encrypted footer) passes.
func checkFooter(r io.ReaderAt, size int64) error {
	const tail = 8
	if size < 12 {
		return nil
	}
	var end [tail]byte
	if _, err := r.ReadAt(end[:], size-tail); err != nil {
		return nil
	}
	n := int64(binary.LittleEndian.Uint32(end[:4]))
	if string(end[4:]) != "PAR1" || n <= 0 || n+tail > size {
		return nil
	}
	footer := make([]byte, n)
	if _, err := r.ReadAt(footer, size-tail-n); err != nil {
		return err
	}
	t := &thriftReader{b: footer}
	if err := t.skip(12); err != nil {
		return fmt.Errorf("the footer (%d bytes) is damaged", n)
	}
	return nil
}

// errThriftShort is a Thrift value cut by the end of the bytes read.
var errThriftShort = errors.New("thrift: short")

var errThrift = errors.New("thrift: malformed")

// thriftReader reads the Thrift compact protocol, checking every length
// against the bytes left.
type thriftReader struct {
	b     []byte
	pos   int
	depth int
}

func (r *thriftReader) byte1() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, errThriftShort
	}
	r.pos++
	return r.b[r.pos-1], nil
}

func (r *thriftReader) varint() (uint64, error) {
	var v uint64
	for shift := 0; shift < 64; shift += 7 {
		c, err := r.byte1()
		if err != nil {
			return 0, err
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v, nil
		}
	}
	return 0, errThrift
}

func (r *thriftReader) zigzag() (int64, error) {
	v, err := r.varint()
	return int64(v>>1) ^ -int64(v&1), err
}

// skip skips a value of compact type typ.
func (r *thriftReader) skip(typ byte) error {
	switch typ {
	case 1, 2: // booleans: the value is the type
		return nil
	case 3:
		_, err := r.byte1()
		return err
	case 4, 5, 6:
		_, err := r.varint()
		return err
	case 7:
		if len(r.b)-r.pos < 8 {
			return errThriftShort
		}
		r.pos += 8
		return nil
	case 8:
		n, err := r.varint()
		if err != nil {
			return err
		}
		if n > uint64(len(r.b)-r.pos) {
			return errThriftShort
		}
		r.pos += int(n)
		return nil
	case 9, 10:
		h, err := r.byte1()
		if err != nil {
			return err
		}
		n := uint64(h >> 4)
		if n == 15 {
			if n, err = r.varint(); err != nil {
				return err
			}
		}
		if n > uint64(len(r.b)-r.pos) { // every element takes a byte
			return errThriftShort
		}
		return r.nested(func() error {
			for range n {
				if err := r.skipElem(h & 0x0f); err != nil {
					return err
				}
			}
			return nil
		})
	case 11:
		n, err := r.varint()
		if err != nil || n == 0 {
			return err
		}
		kv, err := r.byte1()
		if err != nil {
			return err
		}
		if n > uint64(len(r.b)-r.pos) {
			return errThriftShort
		}
		return r.nested(func() error {
			for range n {
				if err := r.skipElem(kv >> 4); err != nil {
					return err
				}
				if err := r.skipElem(kv & 0x0f); err != nil {
					return err
				}
			}
			return nil
		})
	case 12:
		return r.nested(func() error { return r.fields(func(int16, byte) (bool, error) { return false, nil }) })
	}
	return errThrift
}

// skipElem skips an element of a list, set or map: there a boolean takes
// a byte of its own.
func (r *thriftReader) skipElem(typ byte) error {
	if typ == 1 || typ == 2 {
		_, err := r.byte1()
		return err
	}
	return r.skip(typ)
}

func (r *thriftReader) nested(f func() error) error {
	if r.depth++; r.depth > 64 {
		return errThrift
	}
	err := f()
	r.depth--
	return err
}

// fields reads the fields of a struct up to its stop, calling take for
// each; take reads the value and reports true, or reports false to have it
// skipped.
func (r *thriftReader) fields(take func(id int16, typ byte) (bool, error)) error {
	var id int16
	for {
		h, err := r.byte1()
		if err != nil {
			return err
		}
		if h == 0 {
			return nil
		}
		typ := h & 0x0f
		if delta := h >> 4; delta != 0 {
			id += int16(delta)
		} else {
			v, err := r.zigzag()
			if err != nil {
				return err
			}
			id = int16(v)
		}
		took, err := take(id, typ)
		if err != nil {
			return err
		}
		if !took {
			if err := r.skip(typ); err != nil {
				return err
			}
		}
	}
}

// pageHeader is what checkPages needs of a Parquet PageHeader.
type pageHeader struct {
	size                     int // bytes of the header
	typ                      int64
	uncompressed, compressed int64
	values                   int64 // of a data page
	levels                   int64 // bytes of levels before the compressed data (data page v2)
	plain                    bool  // data page v2 stored uncompressed
}

// Page types (parquet.thrift).
const (
	pageData       = 0
	pageDictionary = 2
	pageDataV2     = 3
)

// readPageHeader reads a Parquet PageHeader: type (field 1),
// uncompressed_page_size (2), compressed_page_size (3), num_values (field
// 1) of data_page_header (5) or data_page_header_v2 (8), and of the latter
// the levels' byte lengths (5, 6) and is_compressed (7).
func readPageHeader(b []byte) (pageHeader, error) {
	r := &thriftReader{b: b}
	var h pageHeader
	var seen [4]bool
	err := r.fields(func(id int16, typ byte) (bool, error) {
		switch {
		case id >= 1 && id <= 3 && typ == 5:
			v, err := r.zigzag()
			switch id {
			case 1:
				h.typ = int64(int32(v))
			case 2:
				h.uncompressed = int64(int32(v))
			case 3:
				h.compressed = int64(int32(v))
			}
			seen[id] = true
			return true, err
		case (id == 5 || id == 8) && typ == 12:
			v2 := id == 8
			return true, r.nested(func() error {
				return r.fields(func(id int16, typ byte) (bool, error) {
					switch {
					case typ == 5 && (id == 1 || (v2 && (id == 5 || id == 6))):
						v, err := r.zigzag()
						if id == 1 {
							h.values = int64(int32(v))
						} else {
							h.levels += int64(int32(v))
						}
						return true, err
					case v2 && id == 7 && (typ == 1 || typ == 2):
						h.plain = typ == 2 // a struct field's boolean is its type
						return true, nil
					}
					return false, nil
				})
			})
		}
		return false, nil
	})
	if err == nil && (!seen[2] || !seen[3]) {
		err = errThrift // required fields
	}
	h.size = r.pos
	return h, err
}

// snappyLength reads the decoded length a Snappy block declares, which
// the snappy package allocates (up to 4 GiB) when it is more than the
// buffer it is given: the page's declared uncompressed size.
func snappyLength(r io.ReaderAt, at, end int64) (int64, bool) {
	var b [binary.MaxVarintLen64]byte
	n := min(int64(len(b)), end-at)
	if n <= 0 {
		return 0, false
	}
	if _, err := r.ReadAt(b[:n], at); err != nil && err != io.EOF {
		return 0, false
	}
	v, k := binary.Uvarint(b[:n])
	if k <= 0 || v > 1<<40 {
		return 1 << 40, true
	}
	return int64(v), true
}
