package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Generators of pathological records: small inputs that cost a careless
// decoder far more than their size. They are built in memory by the tests
// (no big files in the repository); TestWritePathologicalRecords writes them
// to files for measuring the built binary.

const recordHead = `{"id":"p","conversations":[{"from":"human","value":"hi"}],"meta":`

// deepObjects nests depth objects with keyLen-byte keys in "meta".
func deepObjects(depth, keyLen int) []byte {
	var b bytes.Buffer
	b.WriteString(recordHead)
	key := strings.Repeat("k", keyLen)
	for range depth {
		b.WriteString(`{"` + key + `":`)
	}
	b.WriteString("0")
	b.WriteString(strings.Repeat("}", depth))
	b.WriteString("}")
	return b.Bytes()
}

// deepArrays nests depth arrays in "meta", the innermost holding elems zeros.
func deepArrays(depth, elems int) []byte {
	var b bytes.Buffer
	b.WriteString(recordHead)
	b.WriteString(strings.Repeat("[", depth))
	for i := range elems {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('0')
	}
	b.WriteString(strings.Repeat("]", depth))
	b.WriteString("}")
	return b.Bytes()
}

// memberName returns a distinct three-letter name for i < 52*52*52.
func memberName(i int) string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	return string([]byte{letters[i/(52*52)%52], letters[i/52%52], letters[i%52]})
}

// wideRecord has n members of eight bytes each ("abc":0,) besides id and
// conversations; with dupAt >= 0 the last member repeats member dupAt.
func wideRecord(n, dupAt int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"id":"w","conversations":[{"from":"human","value":"hi"}]`)
	for i := range n {
		fmt.Fprintf(&b, `,"%s":0`, memberName(i))
	}
	if dupAt >= 0 {
		fmt.Fprintf(&b, `,"%s":1`, memberName(dupAt))
	}
	b.WriteString("}")
	return b.Bytes()
}

// wideTurn is a record whose one turn has n extra members.
func wideTurn(n, dupAt int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"id":"t","conversations":[{"from":"human","value":"hi"`)
	for i := range n {
		fmt.Fprintf(&b, `,"%s":0`, memberName(i))
	}
	if dupAt >= 0 {
		fmt.Fprintf(&b, `,"%s":1`, memberName(dupAt))
	}
	b.WriteString("}]}")
	return b.Bytes()
}

// manyTurns is a record of n one-letter turns.
func manyTurns(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"id":"m","conversations":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if i%2 == 0 {
			b.WriteString(`{"from":"human","value":"q"}`)
		} else {
			b.WriteString(`{"from":"gpt","value":"a"}`)
		}
	}
	b.WriteString("]}")
	return b.Bytes()
}

// hugeString is a record with one turn value of about n bytes: plain ASCII,
// or with escapes and non-ASCII text throughout.
func hugeString(n int, escaped bool) []byte {
	unit := "abcdefghij"
	if escaped {
		unit = `\n\u00e9\"é€x`
	}
	var b bytes.Buffer
	b.WriteString(`{"id":"s","conversations":[{"from":"human","value":"`)
	b.WriteString(strings.Repeat(unit, n/len(unit)))
	b.WriteString(`"}]}`)
	return b.Bytes()
}

// openBrackets is n bytes of "[" (or of `{"a":` after a record head): a
// value nested as deep as the record is long.
func openBrackets(n int, inRecord bool) []byte {
	if !inRecord {
		return bytes.Repeat([]byte("["), n)
	}
	return append([]byte(`{"id":"b","meta":`), bytes.Repeat([]byte(`{"a":`), n/5)...)
}

type pathological struct {
	name   string
	data   []byte
	reason Reason // "" when the record decodes
}

func pathologicalRecords() []pathological {
	return []pathological{
		{"deep objects, 500 levels of 2 KB keys", deepObjects(500, 2000), ""},
		{"deep objects, 2,000 levels of 1 KB keys", deepObjects(2000, 1000), ReasonInvalidJSON},
		{"deep arrays, 500 levels, 200K elements", deepArrays(500, 200_000), ""},
		{"deep arrays, 9,000 levels, 200K elements", deepArrays(9000, 200_000), ReasonInvalidJSON},
		{"80,000 members", wideRecord(80_000, -1), ""},
		{"80,000 members, the last a duplicate", wideRecord(80_000, 0), ReasonBadShape},
		{"a turn of 80,000 members", wideTurn(80_000, -1), ""},
		{"a turn of 80,000 members, the last a duplicate", wideTurn(80_000, 79_999), ReasonBadShape},
		{"100,000 turns", manyTurns(100_000), ""},
		{"16 MB string", hugeString(16<<20, false), ""},
		{"16 MB escaped string", hugeString(16<<20, true), ""},
		{"8 MB of [", openBrackets(8<<20, false), ReasonInvalidJSON},
		{`8 MB of {"a": in a record`, openBrackets(8<<20, true), ReasonInvalidJSON},
	}
}

// measure returns the bytes allocated by f and the time it took.
func measure(f func()) (uint64, time.Duration) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, took
}

// maxCostFactor bounds what decoding a record may allocate, as a multiple
// of its size; timeFor is a generous time bound (the decoder runs at
// hundreds of MB/s; the quadratic cases took seconds to minutes).
const maxCostFactor = 8

func timeFor(size int) time.Duration {
	return 2*time.Second + time.Duration(size)*time.Second/(5<<20)
}

func TestPathologicalRecordsCostLinear(t *testing.T) {
	for _, p := range pathologicalRecords() {
		t.Run(p.name, func(t *testing.T) {
			var err error
			alloc, took := measure(func() { _, err = DecodeRecord(p.data, StyleAuto) })
			t.Logf("%d bytes: allocated %d (%.2fx), %v", len(p.data), alloc, float64(alloc)/float64(len(p.data)), took)
			if p.reason == "" && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if p.reason != "" {
				de, ok := err.(*DecodeError)
				if !ok || de.Reason != p.reason {
					t.Fatalf("err = %v, want reason %s", err, p.reason)
				}
			}
			if alloc > maxCostFactor*uint64(len(p.data)) && !raceEnabled {
				t.Errorf("allocated %d bytes for a %d-byte record (%.1fx, bound %dx)", alloc, len(p.data), float64(alloc)/float64(len(p.data)), maxCostFactor)
			}
			if took > timeFor(len(p.data)) {
				t.Errorf("took %v for a %d-byte record (bound %v)", took, len(p.data), timeFor(len(p.data)))
			}
		})
	}
}

// TestPathologicalRecordsThroughRunner reads each record as JSONL through
// the runner (scanner, decoder, JSONL writer): what convert does with it.
func TestPathologicalRecordsThroughRunner(t *testing.T) {
	for _, p := range pathologicalRecords() {
		t.Run(p.name, func(t *testing.T) {
			input := append(append([]byte(nil), p.data...), '\n')
			var rep *Report
			var err error
			alloc, took := measure(func() {
				src := &streamSource{name: "p.jsonl", next: newLineScanner(bytes.NewReader(input), DefaultMaxRecordBytes).Next}
				r := &Runner{Workers: 2, Out: &jsonlWriter{w: io.Discard}, AllowNoConversations: true}
				rep, err = r.Run(context.Background(), []Source{src})
			})
			t.Logf("%d bytes: allocated %d (%.2fx), %v", len(p.data), alloc, float64(alloc)/float64(len(p.data)), took)
			if err != nil {
				t.Fatal(err)
			}
			if got := rep.Stage(StageRead).Rejected[p.reason]; p.reason != "" && got != 1 {
				t.Errorf("rejected as %s: %d, want 1", p.reason, got)
			}
			// The scanner's 1 MiB window and the runner's batches are a
			// constant beside the record.
			if limit := maxCostFactor*uint64(len(p.data)) + 4<<20; alloc > limit {
				t.Errorf("allocated %d bytes for a %d-byte record (%.1fx)", alloc, len(p.data), float64(alloc)/float64(len(p.data)))
			}
			if took > timeFor(len(p.data)) {
				t.Errorf("took %v (bound %v)", took, timeFor(len(p.data)))
			}
		})
	}
}

// TestDuplicateMembersLinear: the duplicate-member check is linear in the
// number of members, finds a duplicate wherever it is, and reports the
// same error for small and large records.
func TestDuplicateMembersLinear(t *testing.T) {
	for _, n := range []int{3, 40, 80_000} {
		for _, dup := range []int{0, n / 2, n - 1} {
			for _, gen := range []struct {
				name string
				f    func(n, dupAt int) []byte
				path string
			}{{"record", wideRecord, ""}, {"turn", wideTurn, "conversations[0]."}} {
				data := gen.f(n, dup)
				var err error
				_, took := measure(func() { _, err = DecodeRecord(data, StyleAuto) })
				de, ok := err.(*DecodeError)
				want := fmt.Sprintf("duplicate member %q", memberName(dup))
				if !ok || de.Reason != ReasonBadShape || de.Path != gen.path+memberName(dup) || de.Msg != want {
					t.Errorf("%s of %d members, duplicate of %d: err = %v, want bad-shape at %s%s: %s", gen.name, n, dup, err, gen.path, memberName(dup), want)
				} else if de.Offset != len(data)-len(`1}`)-len(`]}`)*btoi(gen.name == "turn") {
					t.Errorf("%s of %d members: offset %d, want that of the duplicate's value (%d)", gen.name, n, de.Offset, len(data)-2)
				}
				if took > timeFor(len(data)) {
					t.Errorf("%s of %d members: took %v", gen.name, n, took)
				}
			}
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestSmallRecordsAllocationFree checks that the duplicate-member check
// costs a small record no allocation: decoding a record of a few members
// allocates only what the record holds.
func TestSmallRecordsAllocationFree(t *testing.T) {
	data := []byte(`{"id":"abc","model":"gpt4","lang":"en","a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"conversations":[{"from":"human","value":"hi","w":1,"x":2},{"from":"gpt","value":"yo"}]}`)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := DecodeRecord(data, StyleAuto); err != nil {
			t.Fatal(err)
		}
	})
	// The record, id, 11 field keys and values, the fields slice, the
	// turns slice, 2 values, 1 turn's 2 fields' keys and values and slice;
	// role names are interned.
	if allocs > 32 {
		t.Errorf("%v allocations to decode a small record, want at most 32", allocs)
	}
}

// TestNestingLimit: values may nest MaxDepth levels (the record counting
// as one); deeper ones are rejected as invalid-json naming the limit,
// wherever they are, without recursion.
func TestNestingLimit(t *testing.T) {
	nest := func(levels int) string { return strings.Repeat("[", levels) + strings.Repeat("]", levels) }
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"record field at the limit", `{"a":` + nest(MaxDepth-1) + `}`, true},
		{"record field over the limit", `{"a":` + nest(MaxDepth) + `}`, false},
		{"turn field at the limit", `{"conversations":[{"from":"a","value":"b","x":` + nest(MaxDepth-3) + `}]}`, true},
		{"turn field over the limit", `{"conversations":[{"from":"a","value":"b","x":` + nest(MaxDepth-2) + `}]}`, false},
		{"wrong kind over the limit", `{"conversations":[{"from":` + nest(MaxDepth) + `}]}`, false},
		{"record not an object, over the limit", nest(MaxDepth + 1), false},
		{"record not an object, at the limit", nest(MaxDepth), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeRecord([]byte(tt.in), StyleAuto)
			de, _ := err.(*DecodeError)
			if tt.ok {
				if de != nil && de.Reason == ReasonInvalidJSON {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if de == nil || de.Reason != ReasonInvalidJSON || !strings.Contains(de.Msg, fmt.Sprintf("deeper than %d levels", MaxDepth)) {
				t.Fatalf("err = %v, want invalid-json naming the limit", err)
			}
		})
	}
}

// TestErrorPathsInsideValues: the field path of an encoding error deep in
// a kept value is computed when the error is found.
func TestErrorPathsInsideValues(t *testing.T) {
	tests := []struct{ in, path string }{
		{"{\"meta\":{\"a\":[1,{\"b\":\"\xff\"}]}}", "meta.a[1].b"},
		{`{"meta":[[0],[1,"\ud800"]]}`, "meta[1][1]"},
		{"{\"conversations\":[{\"from\":\"a\",\"value\":\"b\"},{\"from\":\"a\",\"value\":\"b\",\"x\":{\"y\":[\"\xc3\"]}}]}", "conversations[1].x.y[0]"},
		{"{\"meta\":{\"k\\u00e9\":{\"\xff\":1}}}", "meta.ké"},
		{"{\"meta\":" + strings.Repeat(`{"a":`, 100) + "\"\xff\"" + strings.Repeat("}", 100) + "}", "meta" + strings.Repeat(".a", 100)},
	}
	for _, tt := range tests {
		_, err := DecodeRecord([]byte(tt.in), StyleAuto)
		de, ok := err.(*DecodeError)
		if !ok || de.Reason != ReasonInvalidUTF8 || de.Path != tt.path {
			t.Errorf("%.60q: err = %v, want invalid-utf8 at %s", tt.in, err, tt.path)
		}
	}
}

// TestWriteRecordIndentStreams: indented output grows with nesting depth
// times the number of values (as Python's), so it is written in chunks and
// never held whole.
func TestWriteRecordIndentStreams(t *testing.T) {
	data := deepArrays(200, 20_000)
	rec, err := DecodeRecord(data, StyleAuto)
	if err != nil {
		t.Fatal(err)
	}
	want := AppendRecordIndent([]byte("[\n  "), rec, OutShareGPT, 1)
	var out bytes.Buffer
	out.Grow(len(want))
	var buf []byte
	alloc, _ := measure(func() {
		buf, err = WriteRecordIndent(&out, append(buf, "[\n  "...), rec, OutShareGPT, 1)
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("streamed output differs from AppendRecordIndent's (%d vs %d bytes)", out.Len(), len(want))
	}
	t.Logf("%d-byte record, %d bytes written, %d allocated", len(data), out.Len(), alloc)
	if alloc > 1<<20 || cap(buf) > 1<<20 {
		t.Errorf("allocated %d bytes, buffer of %d, to write %d bytes", alloc, cap(buf), out.Len())
	}
	// A failing writer stops the encoding with its error.
	_, err = WriteRecordIndent(failWriter{}, nil, rec, OutShareGPT, 1)
	if err == nil || err.Error() != "disk full" {
		t.Errorf("err = %v, want the writer's", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, fmt.Errorf("disk full") }

// TestWritePathologicalRecords writes the records above as JSONL files to
// the folder named by SHAREGPT_PATHOLOGICAL_DIR, for measuring the built
// binary (scripts/peakrss.py); it does nothing otherwise.
func TestWritePathologicalRecords(t *testing.T) {
	dir := os.Getenv("SHAREGPT_PATHOLOGICAL_DIR")
	if dir == "" {
		t.Skip("SHAREGPT_PATHOLOGICAL_DIR not set")
	}
	files := map[string][]byte{
		"deep-objects-2000x1k.jsonl":   deepObjects(2000, 1000),
		"deep-objects-500x4k.jsonl":    deepObjects(500, 4000),
		"deep-objects-9000x1k.jsonl":   deepObjects(9000, 1000),
		"deep-arrays-9000-200k.jsonl":  deepArrays(9000, 200_000),
		"deep-arrays-500-200k.jsonl":   deepArrays(500, 200_000),
		"wide-80k.jsonl":               wideRecord(80_000, -1),
		"wide-turn-80k.jsonl":          wideTurn(80_000, -1),
		"turns-100k.jsonl":             manyTurns(100_000),
		"string-60m.jsonl":             hugeString(60<<20, false),
		"string-escaped-60m.jsonl":     hugeString(60<<20, true),
		"brackets-60m.json":            append([]byte("["), openBrackets(60<<20, false)...),
		"brackets-closed-60m.json":     []byte("[" + strings.Repeat("[", 30<<20) + strings.Repeat("]", 30<<20) + "]"),
		"number-4m-digits.jsonl":       []byte(`{"id":"n","conversations":[],"n_tokens":1` + strings.Repeat("7", 4_000_000) + "}"),
		"brackets-in-record-60m.jsonl": openBrackets(60<<20, true),
	}
	for name, data := range files {
		if !strings.HasSuffix(name, ".json") {
			data = append(data, '\n')
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
