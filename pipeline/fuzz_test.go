package pipeline

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
)

func addSeeds(f *testing.F) {
	f.Add([]byte(`{"id":"a","conversations":[{"from":"human","value":"hi \u00e9 \ud83d\ude00"},{"from":"gpt","value":"yo"}],"model":"gpt4"}`))
	f.Add([]byte(`{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a","name":"x"}],"meta":{"a":[1,2.5e3,-0,null,true]}}`))
	f.Add([]byte(`[{"id":"1","conversations":[]},{"id":"2"}]`))
	f.Add([]byte(`{"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"x"}},{"text":"b","type":"text"}]},{"content":[],"role":"assistant"}]}`))
	f.Add([]byte("{\"a\":1}\n{\"b\":\"\\\"\"}\n\n{"))
	f.Add([]byte(`{"id":"x\ud800","conversations":[{"value":"v","from":"f"}]}`))
	if data, err := os.ReadFile("../testdata/sharegpt/dialogstudio_example.json"); err == nil {
		f.Add(data[:4000])
	}
	// Deep and wide records (see pathological_test.go), around the limits.
	f.Add(deepObjects(MaxDepth-2, 3))
	f.Add(deepObjects(MaxDepth, 3))
	f.Add(deepArrays(MaxDepth-1, 20))
	f.Add(deepArrays(MaxDepth+1, 20))
	f.Add([]byte(`{"a":` + strings.Repeat(`[{"b":`, 100) + "\"\xff\"" + strings.Repeat("}]", 100) + "}"))
	f.Add(wideRecord(manyMembers+4, -1))
	f.Add(wideRecord(manyMembers+4, manyMembers+2))
	f.Add(wideTurn(manyMembers+4, 3))
	f.Add(manyTurns(40))
	f.Add(openBrackets(2000, false))
}

// FuzzDecodeRecord checks that decoding never panics and that whatever
// decodes re-encodes (compact and indented) to the same record.
func FuzzDecodeRecord(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := DecodeRecord(data, StyleAuto)
		if err != nil {
			de, ok := err.(*DecodeError)
			if !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			// encoding/json agrees on what is not JSON (it knows no
			// nesting limit below 10,000 levels).
			if de.Reason == ReasonInvalidJSON && json.Valid(data) && !strings.Contains(de.Msg, "nesting deeper") {
				t.Fatalf("rejected valid JSON: %v", err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON")
		}
		compact := AppendRecord(nil, rec, OutShareGPT)
		for _, enc := range [][]byte{compact, AppendRecordIndent(nil, rec, OutShareGPT, 1)} {
			again, err := DecodeRecord(enc, StyleAuto)
			if err != nil {
				t.Fatalf("re-decoding %q: %v", enc, err)
			}
			if got := AppendRecord(nil, again, OutShareGPT); !bytes.Equal(got, compact) {
				t.Fatalf("round trip changed the record:\n%q\n%q", compact, got)
			}
		}
	})
}

// FuzzScanners checks that the array/stream and line scanners never panic,
// hand out non-empty elements at increasing offsets, and end.
func FuzzScanners(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, next := range []func() (Element, error){
			newValueScanner(bytes.NewReader(data), 64).Next,
			newLineScanner(bytes.NewReader(data), 64).Next,
		} {
			last := int64(-1)
			for i := 0; ; i++ {
				if i > len(data)+1 {
					t.Fatal("scanner does not end")
				}
				el, err := next()
				if err != nil {
					if err != io.EOF {
						if _, ok := err.(*SyntaxError); !ok {
							t.Fatalf("error of type %T: %v", err, err)
						}
					}
					break
				}
				if el.Offset <= last || (el.Err == nil && len(el.Raw) == 0) {
					t.Fatalf("element %d at offset %d (last %d), %d bytes", i, el.Offset, last, len(el.Raw))
				}
				last = el.Offset
			}
		}
	})
}
