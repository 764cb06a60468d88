package pipeline

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

type scanned struct {
	raws   []string
	errs   []string // element-level errors
	offset []int64
	lines  []int64
}

func scanAll(t *testing.T, src Source) (scanned, error) {
	t.Helper()
	var s scanned
	for {
		el, err := src.Next()
		if err == io.EOF {
			return s, nil
		}
		if err != nil {
			return s, err
		}
		s.raws = append(s.raws, string(el.Raw))
		s.offset = append(s.offset, el.Offset)
		s.lines = append(s.lines, el.Line)
		if el.Err != nil {
			s.errs = append(s.errs, string(el.Err.Reason))
		} else {
			s.errs = append(s.errs, "")
		}
	}
}

func TestValueScanner(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		max     int64
		want    []string
		errs    []string
		wantErr string
	}{
		{"array", `[{"a":1}, {"b":"x]}\"{"}]`, 0, []string{`{"a":1}`, `{"b":"x]}\"{"}`}, nil, ""},
		{"empty array", " [ ] \n", 0, nil, nil, ""},
		{"pretty", "[\n  {\n    \"a\": [1, 2]\n  },\n  {}\n]", 0, []string{"{\n    \"a\": [1, 2]\n  }", "{}"}, nil, ""},
		{"scalars", `[1, "s", null, [2]]`, 0, []string{"1", `"s"`, "null", "[2]"}, nil, ""},
		{"single object", `{"id":"x"}`, 0, []string{`{"id":"x"}`}, nil, ""},
		{"object stream", "{\"a\":1}\n{\"b\":2}\n", 0, []string{`{"a":1}`, `{"b":2}`}, nil, ""},
		{"too large skipped", `[{"a":"0123456789"},{"b":1}]`, 12, []string{"", `{"b":1}`}, []string{"too-large", ""}, ""},
		{"empty input: no records", "  ", 0, nil, nil, ""},
		{"not json", "hello", 0, nil, nil, "expected a JSON array or object"},
		{"unclosed array", `[{"a":1}`, 0, []string{`{"a":1}`}, nil, "not closed"},
		{"truncated element", `[{"a":"x`, 0, nil, nil, "inside record 0"},
		{"missing comma", `[{"a":1} {"b":2}]`, 0, []string{`{"a":1}`}, nil, "expected ',' or ']'"},
		{"trailing comma", `[{"a":1},]`, 0, []string{`{"a":1}`}, nil, "trailing ','"},
		{"data after array", `[{"a":1}] x`, 0, []string{`{"a":1}`}, nil, "after the top-level array"},
		{"garbage in stream", "{\"a\":1}\nnope", 0, []string{`{"a":1}`}, nil, "expected a JSON object after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// One byte per read: every boundary falls across a refill.
			src := &streamSource{name: "t", next: newValueScanner(iotest.OneByteReader(strings.NewReader(tt.in)), tt.max).Next}
			got, err := scanAll(t, src)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if strings.Join(got.raws, "|") != strings.Join(tt.want, "|") {
				t.Errorf("elements = %q, want %q", got.raws, tt.want)
			}
			if tt.errs != nil && strings.Join(got.errs, "|") != strings.Join(tt.errs, "|") {
				t.Errorf("element errors = %q, want %q", got.errs, tt.errs)
			}
		})
	}
}

func TestSyntaxErrorNamesPlace(t *testing.T) {
	in := "[\n{\"id\":\"a\"},\n{\"id\":\"b\"}\n{\"id\":\"c\"}]"
	src := &streamSource{name: "t", next: newValueScanner(strings.NewReader(in), 0).Next}
	_, err := scanAll(t, src)
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want *SyntaxError", err)
	}
	if se.Offset != 25 || se.Index != 2 {
		t.Errorf("offset %d index %d, want 25 and 2 (%v)", se.Offset, se.Index, se)
	}
}

func TestLineScanner(t *testing.T) {
	in := "{\"a\":1}\r\n\n   \n{\"b\":\n{\"c\":\"" + strings.Repeat("x", 50) + "\"}\n{\"d\":4}"
	src := &streamSource{name: "t", next: newLineScanner(iotest.HalfReader(strings.NewReader(in)), 40).Next}
	got, err := scanAll(t, src)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`{"a":1}`, `{"b":`, ``, `{"d":4}`}
	if strings.Join(got.raws, "|") != strings.Join(want, "|") {
		t.Errorf("lines = %q, want %q", got.raws, want)
	}
	if l := got.lines; len(l) != 4 || l[0] != 1 || l[1] != 4 || l[2] != 5 || l[3] != 6 {
		t.Errorf("line numbers = %v, want [1 4 5 6]", l)
	}
	if got.errs[2] != "too-large" {
		t.Errorf("errs = %q", got.errs)
	}
	if got.offset[3] != int64(strings.Index(in, `{"d"`)) {
		t.Errorf("offset of last line = %d", got.offset[3])
	}
}

func TestOpenDetectsFormatAndCompression(t *testing.T) {
	dir := t.TempDir()
	records := "[{\"id\":\"1\",\"conversations\":[]},{\"id\":\"2\",\"conversations\":[]}]"
	lines := "{\"id\":\"1\",\"conversations\":[]}\n{\"id\":\"2\",\"conversations\":[]}\n"
	var gz, zs bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write([]byte(records))
	gw.Close()
	zw, _ := zstd.NewWriter(&zs)
	zw.Write([]byte(lines))
	zw.Close()
	files := map[string][]byte{
		"a.json":        []byte(records),
		"a.jsonl":       []byte(lines),
		"a.json.gz":     gz.Bytes(),
		"a.jsonl.zst":   zs.Bytes(),
		"misnamed.json": zs.Bytes(), // zstd JSONL under a .json name: magic bytes and value stream
		"noext":         []byte(lines),
		"noext2":        []byte("\n  " + records),
	}
	reg := NewRegistry(JSONFormats()...)
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			src, err := reg.Open(path, nil, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			got, err := scanAll(t, src)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.raws) != 2 || !strings.Contains(got.raws[1], `"2"`) {
				t.Errorf("elements = %q", got.raws)
			}
		})
	}
	t.Run("stdin", func(t *testing.T) {
		src, err := reg.Open("-", bytes.NewReader(gz.Bytes()), ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := scanAll(t, src)
		if err != nil || len(got.raws) != 2 {
			t.Fatalf("got %q, %v", got.raws, err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		_, err := reg.Open(filepath.Join(dir, "nope.json"), nil, ReadOptions{})
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v", err)
		}
	})
}
