package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func compressed(t testing.TB, codec string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	switch codec {
	case "gzip":
		w = gzip.NewWriter(&buf)
	case "zstd":
		zw, err := zstd.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		w = zw
	}
	w.Write(data)
	w.Close()
	return buf.Bytes()
}

func testRecords(n int) []byte {
	var b []byte
	for i := range n {
		b = fmt.Appendf(b, `{"id":"%d","conversations":[{"from":"human","value":"question %d with some words"},{"from":"gpt","value":"answer %d"}]}`+"\n", i, i, i*7919)
	}
	return b
}

// readAll reads every element of path and returns the first error.
func readAll(path string) (int, error) {
	src, err := NewRegistry(JSONFormats()...).Open(path, nil, ReadOptions{})
	if err != nil {
		return 0, err
	}
	defer src.Close()
	n := 0
	for {
		_, err := src.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

// TestCodecErrors: a compressed input cut short or corrupted gives a
// CodecError naming the codec and the compressed offset, never a bare
// "unexpected EOF", and the runner reports it as an InputError (exit 2).
func TestCodecErrors(t *testing.T) {
	plain := testRecords(2000)
	dir := t.TempDir()
	for _, codec := range []string{"gzip", "zstd"} {
		full := compressed(t, codec, plain)
		cases := map[string][]byte{
			"cut at a quarter": full[:len(full)/4],
			"cut at the end":   full[:len(full)-3],
			"flipped byte":     flip(full, len(full)/2),
		}
		for name, data := range cases {
			path := filepath.Join(dir, strings.ReplaceAll(codec+" "+name, " ", "_")+".jsonl")
			os.WriteFile(path, data, 0o644)
			_, err := readAll(path)
			var ce *CodecError
			if !errors.As(err, &ce) || ce.Codec != codec || ce.Offset <= 0 || ce.Offset > int64(len(data)) {
				t.Errorf("%s %s: %v, want a %s CodecError with an offset in the file", codec, name, err, codec)
				continue
			}
			if !strings.HasPrefix(err.Error(), codec+": corrupt or truncated input after compressed byte ") {
				t.Errorf("%s %s: message %q", codec, name, err)
			}
			job := &Job{Registry: NewRegistry(JSONFormats()...), Inputs: []string{path}, Workers: 1}
			_, err = job.Run(t.Context())
			var ie *InputError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), "read "+path+": "+codec+": ") {
				t.Errorf("%s %s: the run gave %v, want an InputError naming the file and codec", codec, name, err)
			}
		}
		path := filepath.Join(dir, codec+"_whole.jsonl")
		os.WriteFile(path, full, 0o644)
		if n, err := readAll(path); err != nil || n != 2000 {
			t.Errorf("%s whole: %d records, %v", codec, n, err)
		}
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x5a
	return c
}

// TestZstdWindowBound: a frame header that asks for a huge window is
// refused, not allocated.
func TestZstdWindowBound(t *testing.T) {
	// Frame header: magic, descriptor 0 (window descriptor follows, no
	// checksum, no content size), window descriptor 0xF8 (2^(10+31) bytes).
	data := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xf8, 0x01, 0x00, 0x00}
	path := filepath.Join(t.TempDir(), "w.jsonl.zst")
	os.WriteFile(path, data, 0o644)
	_, err := readAll(path)
	var ce *CodecError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a CodecError", err)
	}
}

// FuzzDecompress: whatever the bytes after a gzip or zstd magic, reading
// gives records or a CodecError: never a panic, never another error.
func FuzzDecompress(f *testing.F) {
	plain := testRecords(20)
	for _, codec := range []string{"gzip", "zstd"} {
		full := compressed(f, codec, plain)
		f.Add(full)
		f.Add(full[:len(full)/2])
		f.Add(flip(full, len(full)/3))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, closeFn, _, err := decompress(bytes.NewReader(data))
		if err != nil {
			var ce *CodecError
			if !errors.As(err, &ce) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("open: %v", err)
			}
			return
		}
		defer closeFn()
		_, err = io.Copy(io.Discard, io.LimitReader(r, 64<<20))
		var ce *CodecError
		if err != nil && !errors.As(err, &ce) {
			t.Fatalf("read: %T %v", err, err)
		}
	})
}
