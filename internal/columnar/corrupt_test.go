package columnar

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/parquet/file"

	"github.com/sharegpt/sharegpt/pipeline"
)

// seedFiles writes valid files of every columnar format, the way the
// writer makes them, from the sample data: the seeds that the corruption
// test and the fuzz targets mutate.
func seedFiles(t testing.TB) map[string][]byte {
	t.Helper()
	dir := t.TempDir()
	seeds := map[string][]byte{}
	for _, tc := range []struct {
		name  string
		input string
		write pipeline.WriteOptions
	}{
		{"sample.parquet", "../../testdata/columnar/sample.jsonl", pipeline.WriteOptions{}},
		{"sample-snappy.parquet", "../../testdata/columnar/sample.jsonl", pipeline.WriteOptions{Compression: "snappy", RowGroupSize: 2}},
		{"sample-plain.parquet", "../../testdata/columnar/sample.jsonl", pipeline.WriteOptions{Compression: "none", RowGroupSize: 4}},
		{"multilang.parquet", "../../testdata/multilingual/multilang_sample.json", pipeline.WriteOptions{RowGroupSize: 16}},
		{"sample.arrow", "../../testdata/columnar/sample.jsonl", pipeline.WriteOptions{}},
		{"sample.arrows", "../../testdata/columnar/sample.jsonl", pipeline.WriteOptions{}},
		{"multilang.arrow", "../../testdata/multilingual/multilang_sample.json", pipeline.WriteOptions{}},
		{"multilang.arrows", "../../testdata/multilingual/multilang_sample.json", pipeline.WriteOptions{}},
	} {
		p := filepath.Join(dir, tc.name)
		convert(t, p, tc.write, tc.input)
		seeds[tc.name] = readFile(t, p)
	}
	return seeds
}

// mutations returns a few hundred damaged copies of data, the same ones on
// every run: truncations every step bytes, bit flips, zeroed and 0xff
// ranges, and plausible-looking huge lengths written over 4-byte words
// (most of them near the start and the end of the file, where the schema,
// footer and message headers are).
func mutations(data []byte, seed uint64) map[string][]byte {
	out := map[string][]byte{}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	n := len(data)
	step := max(1, n/120)
	for cut := 0; cut < n; cut += step {
		out[fmt.Sprintf("cut-%d", cut)] = data[:cut]
	}
	pos := func(width int) int {
		switch rng.IntN(3) {
		case 0: // the head
			return rng.IntN(max(1, min(512, n-width)))
		case 1: // the tail
			return max(0, n-width-rng.IntN(max(1, min(1024, n-width))))
		}
		return rng.IntN(max(1, n-width))
	}
	clone := func() []byte { return append([]byte(nil), data...) }
	for i := range 120 {
		b := clone()
		for range 1 + rng.IntN(3) {
			p := pos(1)
			b[p] ^= 1 << rng.IntN(8)
		}
		out[fmt.Sprintf("flip-%d", i)] = b
	}
	for i := range 50 {
		b := clone()
		w := 1 + rng.IntN(64)
		p := pos(w)
		clear(b[p:min(n, p+w)])
		out[fmt.Sprintf("zero-%d", i)] = b
	}
	for i := range 30 {
		b := clone()
		w := 1 + rng.IntN(16)
		p := pos(w)
		for j := p; j < min(n, p+w); j++ {
			b[j] = 0xff
		}
		out[fmt.Sprintf("ff-%d", i)] = b
	}
	huge := []uint32{0x7fffffff, 0x40000000, 0x10000000, 0x01000000, 0x00ffffff, 0x80000000}
	for i := range 60 {
		b := clone()
		if n < 8 {
			break
		}
		p := pos(4) &^ 3
		binary.LittleEndian.PutUint32(b[p:], huge[rng.IntN(len(huge))])
		out[fmt.Sprintf("len-%d", i)] = b
	}
	return out
}

// readOutcome is what converting a (damaged) file gave.
type readOutcome struct {
	rep       *pipeline.Report
	err       error
	panicked  any
	allocated uint64 // bytes allocated while reading
}

// readDamaged converts path to JSONL in dir as the convert command does.
// A panic is caught and returned (the fixed reader never lets one out).
func readDamaged(path, dir string, opts pipeline.ReadOptions) (out readOutcome) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	defer func() {
		if p := recover(); p != nil {
			out.panicked = p
		}
		runtime.ReadMemStats(&after)
		out.allocated = after.TotalAlloc - before.TotalAlloc
	}()
	job := &pipeline.Job{
		Command:              "convert",
		Registry:             registry(),
		Inputs:               []string{path},
		Output:               filepath.Join(dir, "out.jsonl"),
		Read:                 opts,
		Workers:              2,
		AllowNoConversations: true,
		Stdin:                strings.NewReader(""),
		Stdout:               io.Discard,
	}
	out.rep, out.err = job.Run(context.Background())
	return out
}

// TestCorruptFilesNeverPanic damages valid Parquet and Arrow files (file
// and stream format) in a few thousand fixed ways and reads each: no panic,
// a clean error naming the file (or rows rejected), and memory bounded by
// the file, not by the lengths it claims.
func TestCorruptFilesNeverPanic(t *testing.T) {
	dir := t.TempDir()
	outDir := t.TempDir()
	seeds := seedFiles(t)
	var total, panicked, failed, errs int
	var worst uint64
	var worstName string
	for _, name := range slices.Sorted(maps.Keys(seeds)) {
		data := seeds[name]
		variants := mutations(data, uint64(len(data)))
		for _, vname := range slices.Sorted(maps.Keys(variants)) {
			b := variants[vname]
			p := filepath.Join(dir, name+"."+vname)
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			got := readDamaged(p, outDir, pipeline.ReadOptions{})
			total++
			if got.allocated > worst {
				worst, worstName = got.allocated, name+"/"+vname
			}
			bad := func(format string, args ...any) {
				failed++
				if failed <= 20 {
					t.Errorf("%s/%s: %s", name, vname, fmt.Sprintf(format, args...))
				}
			}
			switch {
			case got.panicked != nil:
				panicked++
				if panicked <= 5 {
					t.Errorf("%s/%s: panic: %v", name, vname, got.panicked)
				}
			case got.err != nil:
				errs++
				msg := got.err.Error()
				var ie *pipeline.InputError
				switch {
				case !errors.As(got.err, &ie):
					bad("not an input error (exit 2): %T %q", got.err, msg)
				case !strings.Contains(msg, p):
					bad("error does not name the file: %q", msg)
				case strings.Contains(msg, "\n") || strings.Contains(msg, "goroutine "):
					bad("error is not one line: %q", msg)
				}
				if _, err := os.Stat(filepath.Join(outDir, "out.jsonl")); err == nil {
					bad("output written after %q", msg)
				}
			}
			entries, _ := os.ReadDir(outDir)
			for _, e := range entries {
				if strings.Contains(e.Name(), ".tmp-") {
					bad("temporary file left: %s", e.Name())
					os.Remove(filepath.Join(outDir, e.Name()))
				}
			}
			os.Remove(filepath.Join(outDir, "out.jsonl"))
			// Memory: the seeds are under 100 KB; what a damaged one
			// claims (gigabytes) must not be allocated.
			if limit := uint64(64 << 20); got.allocated > limit {
				bad("%d MB allocated reading a %d-byte file", got.allocated>>20, len(b))
			}
			os.Remove(p)
		}
	}
	t.Logf("%d damaged files: %d read errors, %d panics, %d other failures; most allocated: %d KB (%s)", total, errs, panicked, failed, worst>>10, worstName)
	if panicked > 0 {
		t.Errorf("%d of %d damaged files panicked", panicked, total)
	}
	if failed > 0 {
		t.Errorf("%d of %d damaged files failed", failed, total)
	}
}

// TestDumpMutations writes the damaged files to $SHAREGPT_DUMP_MUTATIONS
// (a manual aid for trying them on the command line).
func TestDumpMutations(t *testing.T) {
	dir := os.Getenv("SHAREGPT_DUMP_MUTATIONS")
	if dir == "" {
		t.Skip("SHAREGPT_DUMP_MUTATIONS not set")
	}
	for name, data := range seedFiles(t) {
		for vname, b := range mutations(data, uint64(len(data))) {
			if err := os.WriteFile(filepath.Join(dir, name+"."+vname+filepath.Ext(name)), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestParquetDeclaredPageSizes: a page header that declares 2 GiB
// (compressed or uncompressed) is refused before anything of that size is
// allocated.
func TestParquetDeclaredPageSizes(t *testing.T) {
	data := seedFiles(t)["sample-plain.parquet"]
	dir := t.TempDir()
	valid := filepath.Join(dir, "valid.parquet")
	if err := os.WriteFile(valid, data, 0o644); err != nil {
		t.Fatal(err)
	}
	rd, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	col, err := rd.MetaData().RowGroup(0).ColumnChunk(0)
	if err != nil {
		t.Fatal(err)
	}
	start := col.DataPageOffset()
	if col.HasDictionaryPage() && col.DictionaryPageOffset() > 0 && col.DictionaryPageOffset() < start {
		start = col.DictionaryPageOffset()
	}
	for _, field := range []int16{2, 3} { // uncompressed, compressed size
		// Find the field's varint in the first page header and write
		// 0x7fffffff in its place.
		r := &thriftReader{b: data[start:]}
		var from, to int
		err := r.fields(func(id int16, typ byte) (bool, error) {
			if id != field {
				return false, nil
			}
			from = r.pos
			_, err := r.varint()
			to = r.pos
			return true, err
		})
		if err != nil || to == 0 {
			t.Fatalf("page header at %d: %v", start, err)
		}
		huge := binary.AppendUvarint(nil, uint64(0x7fffffff)<<1) // zigzag
		damaged := append(append(append([]byte(nil), data[:start+int64(from)]...), huge...), data[start+int64(to):]...)
		p := filepath.Join(dir, fmt.Sprintf("field%d.parquet", field))
		if err := os.WriteFile(p, damaged, 0o644); err != nil {
			t.Fatal(err)
		}
		got := readDamaged(p, t.TempDir(), pipeline.ReadOptions{})
		if got.panicked != nil || got.err == nil {
			t.Errorf("field %d: panic %v, error %v", field, got.panicked, got.err)
			continue
		}
		if !strings.Contains(got.err.Error(), "declare") {
			t.Errorf("field %d: %v", field, got.err)
		}
		if got.allocated > 64<<20 {
			t.Errorf("field %d: %d MB allocated", field, got.allocated>>20)
		}
	}
}

// TestParquetDeclaredListLength: a footer list that claims 100 million
// elements (the most Thrift allows) is refused before Thrift allocates
// them.
func TestParquetDeclaredListLength(t *testing.T) {
	data := seedFiles(t)["sample.parquet"]
	n := len(data)
	footerLen := int(binary.LittleEndian.Uint32(data[n-8:]))
	footer := data[n-8-footerLen : n-8]
	// FileMetaData: field 1 version (i32), field 2 schema (list).
	r := &thriftReader{b: footer}
	var at int
	err := r.fields(func(id int16, typ byte) (bool, error) {
		if id == 2 && typ == 9 && at == 0 {
			at = r.pos
		}
		return false, nil
	})
	if err != nil || at == 0 {
		t.Fatalf("footer: %v", err)
	}
	// A list header of 100,000,000 structs in place of the real one: the
	// bytes after it no longer parse, but Thrift allocates first.
	huge := binary.AppendUvarint([]byte{0xfc}, 100_000_000)
	damagedFooter := append(append(append([]byte(nil), footer[:at]...), huge...), footer[at+1:]...)
	damaged := append(append([]byte(nil), data[:n-8-footerLen]...), damagedFooter...)
	damaged = binary.LittleEndian.AppendUint32(damaged, uint32(len(damagedFooter)))
	damaged = append(damaged, "PAR1"...)
	p := filepath.Join(t.TempDir(), "list.parquet")
	if err := os.WriteFile(p, damaged, 0o644); err != nil {
		t.Fatal(err)
	}
	got := readDamaged(p, t.TempDir(), pipeline.ReadOptions{})
	if got.panicked != nil || got.err == nil {
		t.Fatalf("panic %v, error %v", got.panicked, got.err)
	}
	if got.allocated > 64<<20 {
		t.Errorf("%d MB allocated: %v", got.allocated>>20, got.err)
	}
}

// TestDamageMidRunAbortsOutputs: damage in the last row group is found
// after earlier rows were processed and shards written; the run fails as
// unusable input and leaves no shard, no temporary file behind.
func TestDamageMidRunAbortsOutputs(t *testing.T) {
	dir := t.TempDir()
	var jsonl strings.Builder
	for i := range 600 {
		fmt.Fprintf(&jsonl, `{"id":"r%d","conversations":[{"from":"human","value":"question %d"},{"from":"gpt","value":"answer %d %s"}]}`+"\n", i, i, i, strings.Repeat("x", i%50))
	}
	src := filepath.Join(dir, "src.jsonl")
	if err := os.WriteFile(src, []byte(jsonl.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "in.parquet")
	convert(t, in, pipeline.WriteOptions{RowGroupSize: 100}, src)
	data := readFile(t, in)
	// Flip a byte in the middle of the last row group's value column.
	rd, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	last := rd.MetaData().RowGroup(rd.NumRowGroups() - 1)
	value := -1
	for i := 0; i < last.NumColumns(); i++ {
		if rd.MetaData().Schema.Column(i).Path() == "conversations.list.element.value" {
			value = i
		}
	}
	col, err := last.ColumnChunk(value)
	if err != nil || value < 0 {
		t.Fatal(value, err)
	}
	at := col.DataPageOffset() + col.TotalCompressedSize()*3/4
	data[at] ^= 0x10
	bad := filepath.Join(dir, "bad.parquet")
	if err := os.WriteFile(bad, data, 0o644); err != nil {
		t.Fatal(err)
	}
	outDir := t.TempDir()
	written := 0
	job := &pipeline.Job{
		Command: "convert", Registry: registry(), Inputs: []string{bad},
		Output: filepath.Join(outDir, "out.jsonl"), RejectsPath: filepath.Join(outDir, "rejects.jsonl"),
		Write: pipeline.WriteOptions{ShardRows: 50}, Workers: 2, AllowNoConversations: true,
		Stdin: strings.NewReader(""), Stdout: io.Discard,
		Progress: func(records, _ int64) {
			entries, _ := os.ReadDir(outDir) // on the runner's goroutine: no t.Fatal
			written = max(written, len(entries))
		},
	}
	_, err = job.Run(context.Background())
	var ie *pipeline.InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "bad.parquet: parquet: row group 5") {
		t.Fatalf("%v (%T), want an input error in row group 5", err, err)
	}
	if written < 2 {
		t.Fatalf("%d files seen during the run; the test wants shards written before the damage", written)
	}
	if left := listDir(t, outDir); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// TestParquetSnappyDeclaredLength: a Snappy page whose block declares 4
// GiB (which the snappy package allocates) is refused first.
func TestParquetSnappyDeclaredLength(t *testing.T) {
	data := seedFiles(t)["sample-snappy.parquet"]
	rd, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	col, err := rd.MetaData().RowGroup(0).ColumnChunk(0)
	if err != nil {
		t.Fatal(err)
	}
	start := col.DataPageOffset()
	if col.HasDictionaryPage() && col.DictionaryPageOffset() > 0 && col.DictionaryPageOffset() < start {
		start = col.DictionaryPageOffset()
	}
	h, err := readPageHeader(data[start:])
	if err != nil {
		t.Fatal(err)
	}
	// Overwrite the block's length (and what follows it) in place, so that
	// the pages stay where the headers say.
	at := int(start) + h.size
	damaged := append([]byte(nil), data...)
	copy(damaged[at:], binary.AppendUvarint(nil, 0xffffffff))
	p := filepath.Join(t.TempDir(), "snappy.parquet")
	if err := os.WriteFile(p, damaged, 0o644); err != nil {
		t.Fatal(err)
	}
	got := readDamaged(p, t.TempDir(), pipeline.ReadOptions{})
	if got.panicked != nil || got.err == nil || !strings.Contains(got.err.Error(), "snappy") {
		t.Fatalf("panic %v, error %v", got.panicked, got.err)
	}
	if got.allocated > 64<<20 {
		t.Errorf("%d MB allocated: %v", got.allocated>>20, got.err)
	}
}

// TestRowBomb: a batch of a few bytes that claims 2^40 rows (of a type
// that needs no buffers) is refused instead of yielding rows for ever.
func TestRowBomb(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.Null, Nullable: true}}, nil)
	col := array.NewNull(1 << 40)
	rec := array.NewRecord(schema, []arrow.Array{col}, 1<<40)
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema))
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	src, err := NewArrowStreamSource(bytes.NewReader(buf.Bytes()), "bomb.arrows", pipeline.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	_, err = src.Next()
	if err == nil || !strings.Contains(err.Error(), "rows in 0 bytes") {
		t.Fatalf("%d-byte stream: %v, want a refused batch", buf.Len(), err)
	}
}
