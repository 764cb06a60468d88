package dedup

import (
	"fmt"
	"os"
	"sync"
)

// chunkRows is the number of records per chunk of a column.
const chunkRows = 4096

// store holds per-record state in columns of fixed-size rows, indexed by
// record number, in chunks of chunkRows rows. Rows may be put in any
// order (workers finish records out of order). Spillable columns (the
// signatures and band hashes) move to files in dir when the bytes held in
// memory pass limit; their rows are then written and read with pwrite and
// pread.
type store struct {
	mu      sync.Mutex
	dir     string
	limit   int64 // 0: none
	inMem   int64 // bytes of chunks in memory, spillable columns
	pinned  int64 // bytes of chunks in memory, other columns
	spilled int64 // bytes of chunks moved to files
	cols    []*column
}

type column struct {
	s         *store
	name      string
	rowBytes  int
	spillable bool
	chunks    []*chunk
	file      *os.File
}

type chunk struct {
	data []byte // nil once on disk
}

func (s *store) column(name string, rowBytes int, spillable bool) *column {
	c := &column{s: s, name: name, rowBytes: rowBytes, spillable: spillable}
	s.cols = append(s.cols, c)
	return c
}

func (c *column) chunkBytes() int64 { return int64(chunkRows * c.rowBytes) }

// put writes row's bytes.
func (c *column) put(row int64, p []byte) error {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	ci := int(row / chunkRows)
	for len(c.chunks) <= ci {
		c.chunks = append(c.chunks, nil)
	}
	ch := c.chunks[ci]
	if ch == nil {
		ch = &chunk{data: allocChunk(int(c.chunkBytes()))}
		c.chunks[ci] = ch
		if c.spillable {
			s.inMem += c.chunkBytes()
			if s.limit > 0 && s.inMem > s.limit {
				if err := s.spill(); err != nil {
					return err
				}
			}
		} else {
			s.pinned += c.chunkBytes()
		}
	}
	off := (row % chunkRows) * int64(c.rowBytes)
	if ch.data == nil {
		_, err := c.file.WriteAt(p, int64(ci)*c.chunkBytes()+off)
		return err
	}
	copy(ch.data[off:], p)
	return nil
}

// spill moves every in-memory chunk of the spillable columns to their
// files. s.mu is held.
func (s *store) spill() error {
	for _, c := range s.cols {
		if !c.spillable {
			continue
		}
		for ci, ch := range c.chunks {
			if ch == nil || ch.data == nil {
				continue
			}
			if c.file == nil {
				f, err := os.CreateTemp(s.dir, "sharegpt-dedup-"+c.name+"-*")
				if err != nil {
					return fmt.Errorf("dedup: spill: %w", err)
				}
				os.Remove(f.Name()) // unlinked: gone when closed, whatever happens
				c.file = f
			}
			if _, err := c.file.WriteAt(ch.data, int64(ci)*c.chunkBytes()); err != nil {
				return fmt.Errorf("dedup: spill: %w", err)
			}
			freeChunk(ch.data)
			ch.data = nil
			s.inMem -= c.chunkBytes()
			s.spilled += c.chunkBytes()
		}
	}
	return nil
}

// get reads row into dst (len rowBytes). A row never put reads as zeros.
func (c *column) get(row int64, dst []byte) error {
	s := c.s
	s.mu.Lock()
	ci := int(row / chunkRows)
	var ch *chunk
	if ci < len(c.chunks) {
		ch = c.chunks[ci]
	}
	s.mu.Unlock()
	off := (row % chunkRows) * int64(c.rowBytes)
	switch {
	case ch == nil:
		clear(dst)
	case ch.data != nil:
		copy(dst, ch.data[off:off+int64(c.rowBytes)])
	default:
		if _, err := c.file.ReadAt(dst, int64(ci)*c.chunkBytes()+off); err != nil {
			return fmt.Errorf("dedup: read spilled %s: %w", c.name, err)
		}
	}
	return nil
}

// chunk returns the bytes of chunk ci: in memory, or read into buf.
// Missing chunks read as zeros.
func (c *column) chunk(ci int, buf []byte) ([]byte, error) {
	s := c.s
	s.mu.Lock()
	var ch *chunk
	if ci < len(c.chunks) {
		ch = c.chunks[ci]
	}
	s.mu.Unlock()
	switch {
	case ch == nil:
		clear(buf)
		return buf, nil
	case ch.data != nil:
		return ch.data, nil
	}
	if _, err := c.file.ReadAt(buf, int64(ci)*c.chunkBytes()); err != nil {
		return nil, fmt.Errorf("dedup: read spilled %s: %w", c.name, err)
	}
	return buf, nil
}

// close frees the memory and closes (so deletes) the spill files.
func (s *store) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.cols {
		for _, ch := range c.chunks {
			if ch != nil && ch.data != nil {
				freeChunk(ch.data)
				ch.data = nil
			}
		}
		c.chunks = nil
		if c.file != nil {
			c.file.Close()
			c.file = nil
		}
	}
}
