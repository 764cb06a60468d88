package selectexpr

import (
	"testing"

	"github.com/sharegpt/sharegpt/pipeline"
)

// FuzzParse checks that any input parses or fails with a SyntaxError, never
// panics, and that a parsed expression prints to a form that parses back to
// itself and evaluates without panicking.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`model == "gpt4" || model == null`,
		`len(conversations) >= 4 && lang == "en"`,
		`has(plugins) || matches(conversations[0].value, "(?i)\\bopenai\\b")`,
		`!(id == "x1" or id == "x2")`,
		`["my-field"].x[-1]["y z"] == 1e2`,
		`contains(tags, null) && lower(model) != "gpt4" && chars() < 1024 && index() >= 0`,
		`(a == 1) == (b != 2)`,
		`"\ud83d\ude00" == x`,
	} {
		f.Add(s)
	}
	recs := []string{gpt4, noModel, null, gpt35, noID, openai}
	var decoded []*pipeline.Record
	for _, r := range recs {
		rec, err := pipeline.DecodeRecord([]byte(r), pipeline.StyleAuto)
		if err != nil {
			f.Fatal(err)
		}
		decoded = append(decoded, rec)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("Parse(%q): %T %v, want a *SyntaxError", s, err, err)
			}
			return
		}
		canon := e.String()
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its form %q fails: %v", s, canon, err)
		}
		if again.String() != canon {
			t.Fatalf("%q prints as %q, which prints as %q", s, canon, again.String())
		}
		for i, rec := range decoded {
			if e.Match(rec, int64(i)) != again.Match(rec, int64(i)) {
				t.Fatalf("%q and its form %q disagree on record %d", s, canon, i)
			}
		}
	})
}
