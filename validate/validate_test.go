package validate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/sharegpt/sharegpt/pipeline"
)

// checkAll runs a validator over data read in format, as the validate
// command does, and returns the violations by record index.
func checkAll(t *testing.T, v *Validator, format string, data []byte, maxBytes int64) map[int64][]Violation {
	t.Helper()
	f, err := pipeline.NewRegistry(pipeline.JSONFormats()...).Lookup(format)
	if err != nil {
		t.Fatal(err)
	}
	src := f.NewSource(bytes.NewReader(data), "in."+format, pipeline.ReadOptions{MaxRecordBytes: maxBytes})
	got := map[int64][]Violation{}
	if err := v.Check(context.Background(), src, func(viol Violation) { got[viol.Index] = append(got[viol.Index], viol) }); err != nil {
		t.Fatal(err)
	}
	return got
}

func newValidator(t testing.TB, opts Options) *Validator {
	t.Helper()
	v, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

type convertReject struct {
	Index  int64  `json:"index"`
	Reason string `json:"reason"`
	Detail string `json:"detail"`
}

type discard struct{}

func (discard) Write(*pipeline.Record) error { return nil }

// convertAll runs data through what convert runs (the runner with no
// stage, records without conversations allowed) and returns its read
// rejects by record index.
func convertAll(t *testing.T, format string, data []byte, maxBytes int64) map[int64]convertReject {
	t.Helper()
	f, err := pipeline.NewRegistry(pipeline.JSONFormats()...).Lookup(format)
	if err != nil {
		t.Fatal(err)
	}
	var rejects bytes.Buffer
	r := &pipeline.Runner{Command: "convert", Workers: 2, Out: discard{}, AllowNoConversations: true,
		Rejects: pipeline.NewRejectWriter(&rejects, pipeline.OutShareGPT)}
	src := f.NewSource(bytes.NewReader(data), "in."+format, pipeline.ReadOptions{MaxRecordBytes: maxBytes})
	if _, err := r.Run(context.Background(), []pipeline.Source{src}); err != nil {
		t.Fatal(err)
	}
	got := map[int64]convertReject{}
	sc := bufio.NewScanner(&rejects)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rj convertReject
		if err := json.Unmarshal(sc.Bytes(), &rj); err != nil {
			t.Fatal(err)
		}
		got[rj.Index] = rj
	}
	return got
}

var readKinds = []string{KindInvalidJSON, KindInvalidUTF8, KindBadShape, KindTooLarge}

// malformed are records every command must judge alike. reason is what
// convert rejects them with ("" when it keeps them); arrayOK says the
// record can stand in a JSON array without breaking it.
var malformed = []struct {
	name, record, reason string
	arrayOK              bool
}{
	{"valid", `{"id":"ok","conversations":[{"from":"human","value":"hi"},{"from":"gpt","value":"yo"}]}`, "", true},
	{"valid openai (the schema wants conversations)", `{"id":"oa","messages":[{"role":"user","content":"hi"}]}`, "", true},
	{"no conversations (kept by convert)", `{"id":"nc","text":"hi"}`, "", true},
	{"duplicate id", `{"id":"a","id":"b","conversations":[]}`, "bad-shape", true},
	{"duplicate conversations", `{"id":"dc","conversations":[],"conversations":[]}`, "bad-shape", true},
	{"duplicate extra member", `{"id":"dm","model":"x","conversations":[],"model":"y"}`, "bad-shape", true},
	{"duplicate among many members", `{"id":"dw","conversations":[]` + members(40) + `,"m7":1}`, "bad-shape", true},
	{"duplicate turn role", `{"id":"dr","conversations":[{"from":"human","from":"gpt","value":"x"}]}`, "bad-shape", true},
	{"duplicate turn text", `{"id":"dt","conversations":[{"from":"human","value":"x","value":"y"}]}`, "bad-shape", true},
	{"duplicate turn member", `{"id":"du","conversations":[{"from":"human","value":"x","weight":1,"weight":0}]}`, "bad-shape", true},
	{"duplicate among many turn members", `{"id":"dv","conversations":[{"from":"human","value":"x"` + members(40) + `,"m39":0}]}`, "bad-shape", true},
	{"two conversation lists", `{"id":"tl","conversations":[],"messages":[]}`, "bad-shape", true},
	{"invalid UTF-8 in a value", "{\"id\":\"u1\",\"conversations\":[{\"from\":\"human\",\"value\":\"a\xffb\"}]}", "invalid-utf8", true},
	{"invalid UTF-8 in a member name", "{\"id\":\"u2\",\"conversations\":[],\"k\xc3\":1}", "invalid-utf8", true},
	{"invalid UTF-8 deep in an extra member", "{\"id\":\"u3\",\"conversations\":[],\"meta\":[{\"a\":[\"\xed\xa0\x80\"]}]}", "invalid-utf8", true},
	{"lone surrogate", `{"id":"u4","conversations":[{"from":"human","value":"x\ud800y"}]}`, "invalid-utf8", true},
	{"lone low surrogate in an id", `{"id":"\udc00","conversations":[]}`, "invalid-utf8", true},
	{"number as value", `{"id":"s1","conversations":[{"from":"human","value":42}]}`, "bad-shape", true},
	{"missing from", `{"id":"s2","conversations":[{"value":"hi"}]}`, "bad-shape", true},
	{"turn not an object", `{"id":"s3","conversations":["hi"]}`, "bad-shape", true},
	{"conversations not an array", `{"id":"s4","conversations":{"from":"human"}}`, "bad-shape", true},
	{"numeric id", `{"id":7,"conversations":[]}`, "bad-shape", true},
	{"record not an object", `[1,2]`, "bad-shape", true},
	{"openai turn without content", `{"id":"s5","messages":[{"role":"user"}]}`, "bad-shape", true},
	{"wrong kind, then broken JSON", `{"id":"s6","conversations":[{"from":1,"value":"x"}],"z":tru}`, "bad-shape", true},
	{"nested deeper than the limit", `{"id":"n1","conversations":[],"meta":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`, "invalid-json", true},
	{"bad literal", `{"id":"j1","conversations":[],"x":nul}`, "invalid-json", true},
	{"control character", "{\"id\":\"j2\",\"conversations\":[{\"from\":\"human\",\"value\":\"a\tb\"}]}", "invalid-json", true},
	{"truncated", `{"id":"j3","conversations":[{"from":"human"`, "invalid-json", false},
	{"trailing data", `{"id":"j4","conversations":[]} x`, "invalid-json", false},
	{"too large", `{"id":"big","conversations":[{"from":"human","value":"` + strings.Repeat("x", 2000) + `"}]}`, "too-large", true},
}

// members returns n members ,"m0":0,... to make an object wide.
func members(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `,"m%d":0`, i)
	}
	return b.String()
}

// TestSameVerdictAsConvert: validate reads records with the same readers
// and decoder as every other command, so a record convert rejects is a
// violation of validate with the same reason (or, for a wrong shape, the
// schema's violation at the same place), and a record convert keeps is
// never one of those.
func TestSameVerdictAsConvert(t *testing.T) {
	for _, format := range []string{"jsonl", "json"} {
		var recs []string
		var cases []int
		for i, m := range malformed {
			if format == "jsonl" || m.arrayOK {
				recs, cases = append(recs, m.record), append(cases, i)
			}
		}
		data := []byte(strings.Join(recs, "\n") + "\n")
		if format == "json" {
			data = []byte("[" + strings.Join(recs, ",\n") + "]")
		}
		const maxBytes = 2000
		conv := convertAll(t, format, data, maxBytes)
		val := checkAll(t, newValidator(t, Options{}), format, data, maxBytes)
		for idx, ci := range cases {
			m := malformed[ci]
			i := int64(idx)
			rj, rejected := conv[i]
			if rj.Reason != m.reason {
				t.Errorf("%s: %s: convert says %q (%s), want %q", format, m.name, rj.Reason, rj.Detail, m.reason)
			}
			var readViolations []Violation
			for _, viol := range val[i] {
				if slices.Contains(readKinds, viol.Kind) {
					readViolations = append(readViolations, viol)
				}
			}
			if !rejected {
				if len(readViolations) > 0 {
					t.Errorf("%s: %s: convert keeps it, validate says %v", format, m.name, readViolations)
				}
				continue
			}
			same := slices.ContainsFunc(val[i], func(viol Violation) bool {
				return viol.Kind == rj.Reason ||
					rj.Reason == KindBadShape && viol.Kind == KindSchema && strings.HasPrefix(rj.Detail, pathOrRecord(viol.Path)+": ")
			})
			if !same {
				t.Errorf("%s: %s: convert rejects it as %s (%s), validate says %v", format, m.name, rj.Reason, rj.Detail, val[i])
			}
		}
	}
}

func pathOrRecord(p string) string {
	if p == "" {
		return "record"
	}
	return p
}

func TestViolations(t *testing.T) {
	tests := []struct {
		name   string
		record string
		want   []string // "kind path: message"
	}{
		{"valid", `{"id":"a","conversations":[{"from":"human","value":"q"}],"model":"gpt4","lang":"en","n_tokens":3,"augmentation":{"how":"x"}}`, nil},
		{"missing id and conversations", `{"model":"m"}`, []string{"schema : missing properties 'id', 'conversations'"}},
		{"empty id", `{"id":"","conversations":[]}`, []string{"schema id: minLength: got 0, want 1"}},
		{"schema types", `{"id":"b","conversations":[],"model":5,"n_tokens":-1,"augmentation":[1]}`,
			[]string{"schema augmentation: got array, want object", "schema model: got number, want string", "schema n_tokens: minimum: got -1, want 0"}},
		{"turn faults", `{"id":"c","conversations":[{"from":"human","value":"q"},{"from":"","value":"a"},{"value":5,"from":"gpt"}]}`,
			[]string{"schema conversations[1].from: minLength: got 0, want 1", "schema conversations[2].value: got number, want string"}},
		{"missing from", `{"id":"d","conversations":[{"value":"hi"}]}`, []string{"schema conversations[0]: missing property 'from'"}},
		{"repeated member", `{"id":"e","conversations":[{"from":"human","value":"q","w":1,"w":2}]}`, []string{`bad-shape conversations[0].w: duplicate member "w"`}},
		{"repeated member and a schema fault", `{"id":"f","model":1,"model":2,"conversations":[]}`, []string{`bad-shape model: duplicate member "model"`, "schema model: got number, want string"}},
		{"invalid JSON after a wrong shape", `{"id":"g","conversations":7,"x":]`, []string{"bad-shape conversations: expected array, got number"}},
		{"invalid UTF-8 names its path", "{\"id\":\"h\",\"conversations\":[],\"meta\":{\"a\":[0,\"\xff\"]}}", []string{"invalid-utf8 meta.a[1]: invalid UTF-8 at byte 0 of the string"}},
		{"invalid JSON names its byte", `{"id":"i","conversations":[],"x":01}`, []string{"invalid-json : invalid JSON at byte 34: expected ',' or '}' in object"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkAll(t, newValidator(t, Options{}), "jsonl", []byte(tt.record+"\n"), 0)[0]
			var gotS []string
			for _, v := range got {
				gotS = append(gotS, v.Kind+" "+v.Path+": "+v.Msg)
			}
			if !slices.Equal(gotS, tt.want) {
				t.Errorf("got  %q\nwant %q", gotS, tt.want)
			}
		})
	}
}

func TestDuplicateIDsAcrossSources(t *testing.T) {
	v := newValidator(t, Options{})
	checkAll(t, v, "jsonl", []byte(`{"id":"x","conversations":[]}`+"\n"), 0)
	got := checkAll(t, v, "json", []byte(`[{"id":"y","conversations":[]},{"id":"x","conversations":[]},{"id":"y","conversations":[{"value":"q"}]}]`), 0)
	want := map[int64][]string{
		1: {`duplicate-id id: duplicate id "x" (first seen in record 0)`},
		2: {"schema conversations[0]: missing property 'from'", `duplicate-id id: duplicate id "y" (first seen in record 1)`},
	}
	for i, w := range want {
		var gotS []string
		for _, v := range got[i] {
			gotS = append(gotS, v.Kind+" "+v.Path+": "+v.Msg)
			if v.ID == "" {
				t.Errorf("record %d: violation without the id: %v", i, v)
			}
		}
		if !slices.Equal(gotS, w) {
			t.Errorf("record %d: got %q, want %q", i, gotS, w)
		}
	}
	if len(got) != len(want) || v.Records() != 4 {
		t.Errorf("violations in %d records of %d, want 2 of 4", len(got), v.Records())
	}
}

func TestStrictRolesAndStyles(t *testing.T) {
	data := []byte(`{"id":"a","conversations":[{"from":"system","value":"s"},{"from":"human","value":"q"},{"from":"gpt","value":"a"}]}
{"id":"b","conversations":[{"from":"gpt","value":"a"}]}
{"id":"c","conversations":[],"messages":[{"role":"assistant","content":"x"}]}
`)
	got := checkAll(t, newValidator(t, Options{StrictRoles: true}), "jsonl", data, 0)
	if len(got[0]) != 0 || len(got[1]) != 1 || got[1][0].Kind != KindRoles || got[1][0].Path != "conversations[0].from" {
		t.Errorf("strict roles: %v", got)
	}
	// In the auto style (every command's default) a record with two
	// conversation lists is ambiguous; in the sharegpt style "messages" is
	// just another member.
	if len(got[2]) != 1 || got[2][0].Kind != KindBadShape {
		t.Errorf("auto style: %v", got[2])
	}
	got = checkAll(t, newValidator(t, Options{StrictRoles: true, Style: pipeline.StyleShareGPT}), "jsonl", data, 0)
	if len(got[2]) != 0 {
		t.Errorf("sharegpt style: %v", got[2])
	}
}

// recordSource hands out typed records, as the Parquet and Arrow readers do.
type recordSource struct{ recs []*pipeline.Record }

func (s *recordSource) Name() string { return "rows" }
func (s *recordSource) Close() error { return nil }
func (s *recordSource) Next() (pipeline.Element, error) {
	if len(s.recs) == 0 {
		return pipeline.Element{}, io.EOF
	}
	rec := s.recs[0]
	s.recs = s.recs[1:]
	return pipeline.Element{Rec: rec}, nil
}

func TestTypedRecords(t *testing.T) {
	good := pipeline.NewRecord("r1", []pipeline.Turn{{From: "human", Value: "q"}})
	bad := pipeline.NewRecord("r2", []pipeline.Turn{{From: "", Value: "q"}})
	bad.SetField("model", json.RawMessage(`3`))
	var got []string
	v := newValidator(t, Options{})
	err := v.Check(context.Background(), &recordSource{recs: []*pipeline.Record{good, bad}}, func(viol Violation) {
		got = append(got, viol.ID+" "+viol.Path+": "+viol.Msg)
	})
	want := []string{"r2 conversations[0].from: minLength: got 0, want 1", "r2 model: got number, want string"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("got %q (%v), want %q", got, err, want)
	}
}

// TestCustomSchemasSeeWhatTheyCheck: validate builds only the part of a
// record a schema can look at. For schemas of every kind of keyword, the
// violations must be exactly those of the schema validator given the whole
// record.
func TestCustomSchemasSeeWhatTheyCheck(t *testing.T) {
	schemas := []string{
		`{"type":"object","additionalProperties":false,"properties":{"id":{},"conversations":{}}}`,
		`{"type":"object","properties":{"meta":{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"array","items":{"type":"string","maxLength":2}}},"required":["a"]}}}`,
		`{"type":"object","patternProperties":{"^x_":{"type":"number","minimum":0}},"propertyNames":{"maxLength":8}}`,
		`{"type":"object","minProperties":4,"maxProperties":5,"dependentRequired":{"model":["lang"]}}`,
		`{"type":"object","properties":{"conversations":{"type":"array","minItems":3,"items":{"$ref":"#/$defs/t"}}},"$defs":{"t":{"type":"object","properties":{"from":{"enum":["human","gpt"]}}}}}`,
		`{"type":"object","properties":{"conversations":{"items":{"additionalProperties":{"type":"number"},"properties":{"from":true,"value":true}}}}}`,
		`{"anyOf":[{"required":["model"]},{"required":["lang"]}]}`,
		`{"type":"object","properties":{"meta":{"type":"array","uniqueItems":true}},"unevaluatedProperties":{"type":["string","array"]}}`,
		`{"$ref":"#/$defs/r","$defs":{"r":{"type":"object","required":["id"],"properties":{"meta":{"$ref":"#/$defs/m"}}},"m":{"type":"array","items":{"type":["array","integer"],"items":{"$ref":"#/$defs/m"}}}}}`,
		`{"type":"object","properties":{"meta":false,"model":{"const":"gpt4"}}}`,
	}
	records := []string{
		`{"id":"a","conversations":[{"from":"human","value":"q"},{"from":"gpt","value":"a","w":1}]}`,
		`{"id":"b","conversations":[{"from":"bing","value":"q","w":"x"}],"meta":{"a":1.5,"b":["ab","abc",1]},"x_1":-1,"x_long_name":2}`,
		`{"id":"c","conversations":[],"meta":[[1,2],[1,2],[[3,"s"]]],"model":"gpt3","text":"t"}`,
		`{"id":"d","conversations":[{"from":"human","value":"q"}],"model":"gpt4","lang":"en","meta":{"b":[]}}`,
		`{"id":"e","model":"m","meta":7,"x_":{"y":1}}`,
	}
	printer := newValidator(t, Options{}).printer
	for si, doc := range schemas {
		v := newValidator(t, Options{Schema: []byte(doc)})
		for ri, rec := range records {
			got := checkAll(t, v, "jsonl", []byte(rec+"\n"), 0)[0]
			var gotS []string
			for _, viol := range got {
				if viol.Kind != KindDuplicateID {
					gotS = append(gotS, viol.Path+": "+viol.Msg)
				}
			}
			inst, err := jsonschema.UnmarshalJSON(strings.NewReader(rec))
			if err != nil {
				t.Fatal(err)
			}
			var wantS []string
			if err := v.schema.Validate(inst); err != nil {
				var leaves []Violation
				ref := &Validator{printer: printer}
				ref.leaves(err.(*jsonschema.ValidationError), nil, 0, &leaves)
				for _, l := range leaves {
					wantS = append(wantS, l.Path+": "+l.Msg)
				}
			}
			// Lists of names in a message come in map order.
			for _, l := range [][]string{gotS, wantS} {
				for i, m := range l {
					parts := strings.FieldsFunc(m, func(r rune) bool { return r == ' ' || r == ',' })
					slices.Sort(parts)
					l[i] = strings.Join(parts, " ")
				}
				slices.Sort(l)
			}
			if !slices.Equal(gotS, wantS) {
				t.Errorf("schema %d, record %d:\n got  %q\n want %q", si, ri, gotS, wantS)
			}
		}
	}
}

// Pathological records (as in pipeline/pathological_test.go).
func deepObjects(depth, keyLen int) string {
	key := strings.Repeat("k", keyLen)
	return `{"id":"p","conversations":[{"from":"human","value":"hi"}],"meta":` +
		strings.Repeat(`{"`+key+`":`, depth) + "0" + strings.Repeat("}", depth) + "}"
}

func deepArrays(depth, elems int) string {
	return `{"id":"p","conversations":[{"from":"human","value":"hi"}],"meta":` +
		strings.Repeat("[", depth) + strings.Repeat("0,", elems) + "0" + strings.Repeat("]", depth) + "}"
}

func manyTurns(n int) string {
	return `{"id":"m","conversations":[` + strings.Repeat(`{"from":"human","value":"q"},`, n) + `{"from":"gpt","value":"a"}]}`
}

func wide(n int) string {
	var b strings.Builder
	b.WriteString(`{"id":"w","conversations":[{"from":"human","value":"hi"}]`)
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for i := range n {
		fmt.Fprintf(&b, `,"%c%c%c":[]`, letters[i/(52*52)%52], letters[i/52%52], letters[i%52])
	}
	return b.String() + "}"
}

// peakHeap runs f with garbage collected promptly (GOGC=10) and returns
// the most heap it held at once beyond what was live before, sampled
// every millisecond, and the bytes it allocated in all.
func peakHeap(f func()) (peak, total uint64) {
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/allocs:bytes"}}
	read := func() (uint64, uint64) {
		metrics.Read(sample)
		return sample[0].Value.Uint64(), sample[1].Value.Uint64()
	}
	runtime.GC()
	base, alloc0 := read()
	var max atomic.Uint64
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if h, _ := read(); h > max.Load() {
					max.Store(h)
				}
			}
		}
	}()
	f()
	h, alloc1 := read()
	close(done)
	<-stopped
	if h > max.Load() {
		max.Store(h)
	}
	if m := max.Load(); m > base {
		peak = m - base
	}
	return peak, alloc1 - alloc0
}

// TestValidateCostLinear: checking a record takes memory and time linear
// in its size, however it is nested, as reading it does. Memory is the
// most heap held at once with garbage collected promptly: what validate
// allocates in all can be several times more for a conversation of very
// many tiny turns, as the schema validator makes garbage for each, but it
// never holds more than a slice of them at once.
func TestValidateCostLinear(t *testing.T) {
	tests := []struct {
		name, record string
		kinds        []string
	}{
		{"deep objects, 500 levels of 2 KB keys", deepObjects(500, 2000), nil},
		{"deep objects, 2,000 levels of 1 KB keys", deepObjects(2000, 1000), []string{KindInvalidJSON}},
		{"deep arrays, 500 levels, 200K elements", deepArrays(500, 200_000), nil},
		{"deep arrays, 9,000 levels, 200K elements", deepArrays(9000, 200_000), []string{KindInvalidJSON}},
		{"80,000 members of empty arrays", wide(80_000), nil},
		{"100,000 turns", manyTurns(100_000), nil},
		{"a number of 4 million digits", `{"id":"n","conversations":[],"n_tokens":1` + strings.Repeat("7", 4_000_000) + `,"m":[1.` + strings.Repeat("3", 100_000) + `]}`, nil},
		{"a negative number of 4 million digits", `{"id":"n","conversations":[],"n_tokens":-1` + strings.Repeat("7", 4_000_000) + `}`, []string{KindSchema}},
		{"16 MB string", `{"id":"s","conversations":[{"from":"human","value":"` + strings.Repeat("abcdefgh\\n", 1<<20*16/10) + `"}]}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newValidator(t, Options{})
			data := []byte(tt.record + "\n")
			start := time.Now()
			got := checkAll(t, v, "jsonl", data, 0)
			took := time.Since(start)
			peak, total := peakHeap(func() { checkAll(t, newValidator(t, Options{}), "jsonl", data, 0) })
			t.Logf("%d bytes: peak heap %d (%.2fx), allocated %d (%.2fx), %v", len(data), peak, float64(peak)/float64(len(data)),
				total, float64(total)/float64(len(data)), took)
			var kinds []string
			for _, viol := range got[0] {
				kinds = append(kinds, viol.Kind)
			}
			if !slices.Equal(kinds, tt.kinds) {
				t.Errorf("violations %v, want kinds %v", got[0], tt.kinds)
			}
			// The reader's 1 MiB window is a constant beside the record.
			if limit := 8*uint64(len(data)) + 2<<20; peak > limit && !raceEnabled {
				t.Errorf("held %d bytes at once for a %d-byte record (%.1fx)", peak, len(data), float64(peak)/float64(len(data)))
			}
			if limit := 3*time.Second + time.Duration(len(data))*time.Second/(2<<20); took > limit && !raceEnabled {
				t.Errorf("took %v, bound %v", took, limit)
			}
		})
	}
}
