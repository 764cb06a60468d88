package columnar

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/ipc"
)

// ipcFileBatches reads the record batches of an Arrow IPC file.
type ipcFileBatches struct {
	f       *os.File
	size    int64
	fr      *ipc.FileReader
	batches []ipcBlock // from the footer, each checked before it is read
	i       int        // the batch read last, or to be read next
	read    bool       // batch i was read
}

// ipcBlock is a message of an IPC file, as its footer gives it.
type ipcBlock struct {
	offset int64
	meta   int32
	body   int64
}

func newIPCFileBatches(f *os.File, mem *cappedAllocator) (*ipcFileBatches, error) {
	b := &ipcFileBatches{f: f}
	err := safely(func() error {
		var err error
		if b.size, err = f.Seek(0, io.SeekEnd); err != nil {
			return err
		}
		dicts, batches, err := readIPCFooter(f, b.size)
		if err != nil {
			return err
		}
		for i, blk := range dicts {
			if err := checkIPCBlock(f, b.size, blk); err != nil {
				return fmt.Errorf("dictionary %d: %w", i, err)
			}
		}
		b.batches = batches
		b.fr, err = ipc.NewFileReader(f, ipc.WithAllocator(mem))
		return err
	})
	if err != nil {
		return nil, &readError{format: "arrow file", err: err}
	}
	return b, nil
}

func (b *ipcFileBatches) schema() *arrow.Schema { return b.fr.Schema() }
func (b *ipcFileBatches) format() string        { return "arrow file" }
func (b *ipcFileBatches) where() string         { return fmt.Sprintf("batch %d", b.i) }

func (b *ipcFileBatches) next() (arrow.Record, error) {
	if b.read {
		b.i++
	}
	b.read = true
	if b.i >= b.fr.NumRecords() {
		return nil, io.EOF
	}
	if b.i < len(b.batches) {
		if err := checkIPCBlock(b.f, b.size, b.batches[b.i]); err != nil {
			return nil, &readError{format: "arrow file", where: b.where(), err: err}
		}
	}
	rec, err := b.fr.RecordAt(b.i)
	if err != nil {
		return nil, &readError{format: "arrow file", where: b.where(), err: err}
	}
	return rec, nil
}

// ipcMagic ends (and starts) an Arrow IPC file.
var ipcMagic = []byte("ARROW1")

// readIPCFooter reads and checks the footer of an IPC file and returns its
// dictionary and record batch blocks. A file whose footer the arrow reader
// will refuse by itself (too small, no magic) gives no error here.
func readIPCFooter(f io.ReaderAt, size int64) (dicts, batches []ipcBlock, err error) {
	tail := int64(len(ipcMagic) + 4)
	if size <= int64(len(ipcMagic)*2+4) {
		return nil, nil, nil
	}
	buf := make([]byte, tail)
	if _, err := f.ReadAt(buf, size-tail); err != nil {
		return nil, nil, nil
	}
	if !bytes.Equal(buf[4:], ipcMagic) {
		return nil, nil, nil
	}
	n := int64(binary.LittleEndian.Uint32(buf[:4]))
	if n <= 0 || n+int64(len(ipcMagic)*2+4) > size {
		return nil, nil, nil
	}
	footer := make([]byte, n)
	if _, err := f.ReadAt(footer, size-n-tail); err != nil {
		return nil, nil, err
	}
	if err := checkFlatbuffer(footer, fbFooter); err != nil {
		return nil, nil, fmt.Errorf("footer: %w", err)
	}
	root := uint64(binary.LittleEndian.Uint32(footer))
	return fbBlocks(footer, root, 2), fbBlocks(footer, root, 3), nil
}

// fbBlocks reads the vector of Block structs in field slot of the (checked)
// table at pos.
func fbBlocks(b []byte, pos uint64, slot int) []ipcBlock {
	vt := uint64(int64(int32(uint32(pos)) - int32(binary.LittleEndian.Uint32(b[pos:]))))
	vsize := uint64(binary.LittleEndian.Uint16(b[vt:]))
	at := uint64(4 + 2*slot)
	if at+2 > vsize {
		return nil
	}
	o := uint64(binary.LittleEndian.Uint16(b[vt+at:]))
	if o == 0 {
		return nil
	}
	field := pos + o
	vec := uint64(uint32(field) + binary.LittleEndian.Uint32(b[field:]))
	n := uint64(binary.LittleEndian.Uint32(b[vec:]))
	out := make([]ipcBlock, n)
	for i := range out {
		e := b[vec+4+uint64(i)*24:]
		out[i] = ipcBlock{
			offset: int64(binary.LittleEndian.Uint64(e)),
			meta:   int32(binary.LittleEndian.Uint32(e[8:])),
			body:   int64(binary.LittleEndian.Uint64(e[16:])),
		}
	}
	return out
}

// checkIPCBlock checks a message of an IPC file before the arrow reader
// reads it: inside the file, and metadata that is a sound flatbuffer.
func checkIPCBlock(f io.ReaderAt, size int64, blk ipcBlock) error {
	if blk.offset < 0 || blk.meta < 4 || blk.body < 0 || blk.offset > size ||
		int64(blk.meta) > size-blk.offset || blk.body > size-blk.offset-int64(blk.meta) {
		return fmt.Errorf("message of %d+%d bytes at byte %d is not within the file (%d bytes)", blk.meta, blk.body, blk.offset, size)
	}
	buf := make([]byte, blk.meta)
	if _, err := f.ReadAt(buf, blk.offset); err != nil {
		return err
	}
	// As the arrow reader finds the metadata after its length prefix.
	prefix := 4
	switch binary.LittleEndian.Uint32(buf) {
	case 0:
		prefix = 0
	case 0xFFFFFFFF:
		prefix = 8
	}
	if len(buf) < prefix {
		return fmt.Errorf("message metadata of %d bytes at byte %d", blk.meta, blk.offset)
	}
	if err := checkFlatbuffer(buf[prefix:], fbMessage); err != nil {
		return fmt.Errorf("message at byte %d: %w", blk.offset, err)
	}
	return nil
}

func (b *ipcFileBatches) close() error { return b.fr.Close() }

// ipcStreamBatches reads the record batches of an Arrow IPC stream.
type ipcStreamBatches struct {
	r     *ipc.Reader
	g     *streamGuard
	batch int // the batch read last, or to be read next
	read  bool
}

// newIPCStreamBatches reads the stream r, of size bytes when known (else 0).
func newIPCStreamBatches(r io.Reader, size int64, mem *cappedAllocator) (*ipcStreamBatches, error) {
	g := &streamGuard{r: bufio.NewReaderSize(r, 64<<10), size: size}
	var rd *ipc.Reader
	err := safely(func() error {
		var err error
		rd, err = ipc.NewReader(g, ipc.WithAllocator(mem))
		return err
	})
	if err != nil {
		return nil, &readError{format: "arrow stream", where: g.where(), err: g.cause(err)}
	}
	return &ipcStreamBatches{r: rd, g: g}, nil
}

func (b *ipcStreamBatches) schema() *arrow.Schema { return b.r.Schema() }
func (b *ipcStreamBatches) format() string        { return "arrow stream" }
func (b *ipcStreamBatches) where() string {
	return fmt.Sprintf("batch %d (%s)", b.batch, b.g.where())
}

func (b *ipcStreamBatches) next() (arrow.Record, error) {
	if b.read {
		b.batch++
	}
	b.read = true
	if !b.r.Next() {
		if err := b.r.Err(); err != nil && err != io.EOF {
			return nil, &readError{format: "arrow stream", where: b.where(), err: b.g.cause(err)}
		}
		return nil, io.EOF
	}
	rec := b.r.Record()
	rec.Retain()
	return rec, nil
}

func (b *ipcStreamBatches) close() error {
	b.r.Release()
	return nil
}

// streamGuard passes an Arrow IPC stream on to the arrow reader one
// message at a time, having first read the message's metadata whole: the
// reader allocates the metadata at the size its length prefix declares
// before reading it, so a damaged prefix would cost what it claims (up to
// 2 GiB) where here it costs what the stream holds. It finds where a
// message's body ends from the metadata, as the reader does; the body
// itself is allocated through the capped allocator.
type streamGuard struct {
	r    *bufio.Reader
	size int64  // of the stream when known (a file), else 0
	off  int64  // stream bytes passed on
	msg  int64  // offset of the current message
	pend []byte // prefix and metadata of the current message, not yet passed on
	body int64  // bytes of the current body not yet passed on
	end  bool   // past the end-of-stream marker, or past a short read: pass on as is
	err  error  // what the guard found wrong
}

// cause returns the guard's own error, if it found one, rather than the
// arrow reader's wrapping of it (which calls it a continuation indicator).
func (g *streamGuard) cause(err error) error {
	if g.err != nil {
		return g.err
	}
	return err
}

func (g *streamGuard) where() string { return fmt.Sprintf("message at byte %d", g.msg) }

func (g *streamGuard) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if g.err != nil {
		return 0, g.err
	}
	if len(g.pend) == 0 && g.body == 0 && !g.end {
		if err := g.nextMessage(); err != nil {
			g.err = err
			return 0, err
		}
	}
	var n int
	var err error
	switch {
	case len(g.pend) > 0:
		n = copy(p, g.pend)
		g.pend = g.pend[n:]
	case g.body > 0:
		if int64(len(p)) > g.body {
			p = p[:g.body]
		}
		n, err = g.r.Read(p)
		g.body -= int64(n)
	default:
		n, err = g.r.Read(p)
	}
	g.off += int64(n)
	return n, err
}

// nextMessage reads the length prefix and metadata of the next message.
func (g *streamGuard) nextMessage() error {
	g.msg = g.off
	var head [8]byte
	n, _ := io.ReadFull(g.r, head[:4])
	if n < 4 {
		g.pend, g.end = append([]byte(nil), head[:n]...), true
		return nil
	}
	prefix := 4
	metaLen := int32(binary.LittleEndian.Uint32(head[:4]))
	if binary.LittleEndian.Uint32(head[:4]) == 0xFFFFFFFF {
		n, _ := io.ReadFull(g.r, head[4:8])
		if n < 4 {
			g.pend, g.end = append([]byte(nil), head[:4+n]...), true
			return nil
		}
		prefix = 8
		metaLen = int32(binary.LittleEndian.Uint32(head[4:8]))
	}
	if metaLen == 0 { // the end-of-stream marker
		g.pend, g.end = append([]byte(nil), head[:prefix]...), true
		return nil
	}
	if metaLen < 0 {
		return fmt.Errorf("metadata of %d bytes declared", metaLen)
	}
	// Read in steps: memory follows what the stream holds, not the prefix.
	var buf bytes.Buffer
	buf.Write(head[:prefix])
	if got, err := io.CopyN(&buf, g.r, int64(metaLen)); err != nil {
		if err == io.EOF {
			return fmt.Errorf("metadata of %d bytes declared, the stream ends after %d", metaLen, got)
		}
		return err
	}
	if err := checkFlatbuffer(buf.Bytes()[prefix:], fbMessage); err != nil {
		return err
	}
	bodyLen, ok := messageBodyLength(buf.Bytes()[prefix:])
	if !ok || bodyLen < 0 {
		return fmt.Errorf("%w: no body length", errFlatbuffer)
	}
	if left := g.size - g.msg - int64(buf.Len()); g.size > 0 && bodyLen > left {
		return fmt.Errorf("a body of %d bytes declared, the file has %d left", bodyLen, left)
	}
	g.pend, g.body = buf.Bytes(), bodyLen
	return nil
}

// messageBodyLength reads Message.bodyLength from the flatbuffer of an IPC
// message's metadata exactly as the generated flatbuf code does, with
// bounds checks (ok is false where that code would index out of range).
func messageBodyLength(buf []byte) (n int64, ok bool) {
	u32 := func(at uint32) (uint32, bool) {
		if uint64(at)+4 > uint64(len(buf)) {
			return 0, false
		}
		return binary.LittleEndian.Uint32(buf[at:]), true
	}
	u16 := func(at uint32) (uint16, bool) {
		if uint64(at)+2 > uint64(len(buf)) {
			return 0, false
		}
		return binary.LittleEndian.Uint16(buf[at:]), true
	}
	pos, ok := u32(0)
	if !ok {
		return 0, false
	}
	soff, ok := u32(pos)
	if !ok {
		return 0, false
	}
	vtable := uint32(int32(pos) - int32(soff))
	vsize, ok := u16(vtable)
	if !ok {
		return 0, false
	}
	const slot = 10 // bodyLength: the fourth field
	if slot >= vsize {
		return 0, true
	}
	o, ok := u16(vtable + slot)
	if !ok {
		return 0, false
	}
	if o == 0 {
		return 0, true
	}
	at := uint32(o) + pos
	if uint64(at)+8 > uint64(len(buf)) {
		return 0, false
	}
	return int64(binary.LittleEndian.Uint64(buf[at:])), true
}
