package columnar

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/pipeline"
)

// The fuzz targets read arbitrary bytes as each columnar format: whatever
// the bytes, a reader returns records, rejects or one read error; it never
// panics, and never allocates what a damaged length claims. They are seeded
// with the valid files the tests write (and the fixtures), and a few
// truncated and damaged copies of each. make fuzz runs them.

func FuzzParquetReader(f *testing.F) {
	fuzzReader(f, ".parquet", func(t *testing.T, path string) (pipeline.Source, func(), error) {
		file, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		src, err := OpenParquet(file, path, pipeline.ReadOptions{})
		return src, func() { file.Close() }, err
	})
}

func FuzzArrowFileReader(f *testing.F) {
	fuzzReader(f, ".arrow", func(t *testing.T, path string) (pipeline.Source, func(), error) {
		file, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		src, err := OpenArrow(file, path, pipeline.ReadOptions{})
		return src, func() { file.Close() }, err
	})
}

func FuzzArrowStreamReader(f *testing.F) {
	fuzzReader(f, ".arrows", func(t *testing.T, path string) (pipeline.Source, func(), error) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		src, err := NewArrowStreamSource(bytes.NewReader(data), path, pipeline.ReadOptions{})
		return src, func() {}, err
	})
}

// fuzzSeeds are the seed files of one extension: written by the tests,
// the fixtures, and some damaged copies.
func fuzzSeeds(f *testing.F, ext string) [][]byte {
	var out [][]byte
	seeds := seedFiles(f)
	fixtures, _ := filepath.Glob("../../testdata/columnar/*" + ext)
	for _, p := range fixtures {
		seeds[filepath.Base(p)] = readFile(f, p)
	}
	for name, data := range seeds {
		if filepath.Ext(name) != ext {
			continue
		}
		out = append(out, data)
		// A few damaged copies of each kind, so that the corpus starts
		// near the interesting edges.
		variants := mutations(data, 1)
		for _, vname := range slices.Sorted(maps.Keys(variants)) {
			kind, nth, _ := strings.Cut(vname, "-")
			if i, _ := strconv.Atoi(nth); (kind == "cut" && i%(len(data)/4+1) < len(data)/120+1) || (kind != "cut" && i < 2) {
				out = append(out, variants[vname])
			}
		}
	}
	return out
}

func fuzzReader(f *testing.F, ext string, open func(t *testing.T, path string) (pipeline.Source, func(), error)) {
	for _, seed := range fuzzSeeds(f, ext) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "in"+ext)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		src, done, err := open(t, path)
		defer done()
		if err != nil {
			var re *readError
			if !errors.As(err, &re) {
				t.Fatalf("open: %T %v, want a read error", err, err)
			}
			checkMessage(t, err)
			return
		}
		defer src.Close()
		for {
			_, err := src.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				var ie *pipeline.InputError
				if !errors.As(err, &ie) {
					t.Fatalf("next: %T %v, want an input error", err, err)
				}
				checkMessage(t, err)
				// The source stays failed.
				if _, again := src.Next(); again != err {
					t.Fatalf("next after an error: %v, want %v", again, err)
				}
				break
			}
		}
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; n > 128<<20 {
			t.Fatalf("%d MB allocated reading %d bytes", n>>20, len(data))
		}
	})
}

func checkMessage(t *testing.T, err error) {
	t.Helper()
	if msg := err.Error(); strings.Contains(msg, "\n") || strings.Contains(msg, "goroutine ") {
		t.Fatalf("error not on one line: %q", msg)
	}
}
