package selectexpr

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/pipeline"

	"github.com/sharegpt/sharegpt/internal/oracle"
)

func record(t *testing.T, js string) *pipeline.Record {
	t.Helper()
	rec, err := pipeline.DecodeRecord([]byte(js), pipeline.StyleAuto)
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return rec
}

const (
	gpt4    = `{"id": "a", "conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "Hello"}], "model": "gpt4"}`
	noModel = `{"id": "b", "conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "Hello"}, {"from": "human", "value": "more"}, {"from": "gpt", "value": "OK", "weight": 0}]}`
	null    = `{"id": "c", "conversations": [], "model": null, "lang": "en"}`
	gpt35   = `{"id": "d", "conversations": [{"from": "system", "value": "Be brief."}, {"from": "human", "value": "héllo 😀"}], "model": "gpt-3.5-turbo", "score": 4.5, "tags": ["x", 2, null], "meta": {"src": "web", "ok": true}, "my-field": 1}`
	noID    = `{"text": "no conversation at all", "model": "GPT4"}`
	openai  = `{"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}], "model": "gpt4"}`
)

func TestMatch(t *testing.T) {
	tests := []struct {
		expr string
		rec  string
		want bool
	}{
		// FastChat's extract_gpt4_only: model is "gpt4" or None.
		{`model == "gpt4" || model == null`, gpt4, true},
		{`model == "gpt4" || model == null`, noModel, true},
		{`model == "gpt4" || model == null`, null, true},
		{`model == "gpt4" || model == null`, gpt35, false},
		{`model == "gpt4" || model == null`, noID, false},
		{`model == "gpt4" or model == null`, openai, true},
		{`lower(model) == "gpt4"`, noID, true},
		{`has(model)`, null, true},
		{`has(model)`, noModel, false},
		{`!has(model)`, noModel, true},
		{`not has(model)`, noModel, true},
		{`model != "gpt4"`, noModel, true},
		{`model != null`, null, false},
		{`id == "a"`, gpt4, true},
		{`id == null`, noID, true},
		{`has(id)`, noID, false},
		// Turns.
		{`len(conversations) == 4`, noModel, true},
		{`len(conversations) >= 2 && len(conversations) < 4`, gpt4, true},
		{`len(conversations) == 0`, null, true},
		{`len(conversations) == null`, noID, true},
		{`conversations[0].from == "system"`, gpt35, true},
		{`conversations[-1].value == "héllo 😀"`, gpt35, true},
		{`conversations[-1].weight == 0`, noModel, true},
		{`conversations[4].from == null`, noModel, true},
		{`conversations[-5].from == null`, noModel, true},
		{`conversations[0].from == "human"`, openai, true},
		{`conversations.from == null`, gpt4, true},
		{`len(conversations[1]) == 3`, noModel, false},
		{`len(conversations[3]) == 3`, noModel, true},
		// Characters are code points, as Python counts them.
		{`len(conversations[1].value) == 7`, gpt35, true},
		{`chars() == 16`, gpt35, true},
		{`chars() == 0`, noID, true},
		// Other members, nested.
		{`score > 4`, gpt35, true},
		{`score >= 4.5 && score <= 4.5`, gpt35, true},
		{`score < 4.5`, gpt35, false},
		{`score == "4.5"`, gpt35, false},
		{`tags[0] == "x" && tags[1] == 2 && tags[2] == null && tags[3] == null`, gpt35, true},
		{`has(tags[2]) && !has(tags[3])`, gpt35, true},
		{`len(tags) == 3 && len(meta) == 2`, gpt35, true},
		{`meta.src == "web" && meta.ok`, gpt35, true},
		{`meta.ok == true`, gpt35, true},
		{`meta`, gpt35, false},
		{`meta == meta`, gpt35, false},
		{`["my-field"] == 1`, gpt35, true},
		{`["meta"]["src"] == "web"`, gpt35, true},
		{`model > "gpt-3"`, gpt35, true},
		{`model < 5`, gpt35, false},
		{`model > null`, gpt35, false},
		// Functions.
		{`contains(model, "3.5")`, gpt35, true},
		{`contains(tags, "x") && contains(tags, 2) && contains(tags, null)`, gpt35, true},
		{`contains(tags, "y")`, gpt35, false},
		{`contains(model, 3)`, gpt35, false},
		{`matches(conversations[0].value, "(?i)^be")`, gpt35, true},
		{`matches(score, ".")`, gpt35, false},
		{`index() == 7`, gpt4, true},
		// Logic and precedence: && binds tighter than ||.
		{`true || false && false`, gpt4, true},
		{`(true || false) && false`, gpt4, false},
		{`!true || true`, gpt4, true},
		{`!(true || true)`, gpt4, false},
		{`!!true`, gpt4, true},
		{`(model == "gpt4") == true`, gpt4, true},
		{`null == null`, gpt4, true},
		{"1e2 == 100 && -0.5 < 0", gpt4, true},
		{`"\u00e9" == "é"`, gpt4, true},
	}
	for _, tc := range tests {
		e, err := Parse(tc.expr)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.expr, err)
			continue
		}
		if got := e.Match(record(t, tc.rec), 7); got != tc.want {
			t.Errorf("%s on %.40s...: %v, want %v", tc.expr, tc.rec, got, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ expr, want string }{
		{``, "column 1: empty expression"},
		{`   `, "column 4: empty expression"},
		{`model = "gpt4"`, "column 7: unexpected '='; compare with '=='"},
		{`a | b`, "column 3: unexpected '|'; 'or' is '||'"},
		{`a & b`, "column 3: unexpected '&'; 'and' is '&&'"},
		{`model == 'gpt4'`, "column 10: strings are written in double quotes"},
		{`model == "gpt4`, "column 10: unterminated string"},
		{`model == "\x"`, `column 10: invalid string "\x"`},
		{`model ==`, "column 9: expected a value, found the end"},
		{`model == "a" model`, `column 14: expected an operator or the end, found "model"`},
		{`(model == "a"`, "column 14: expected ')', found the end"},
		{`model == "a")`, "column 13: expected an operator or the end, found ')'"},
		{`a == b == c`, "column 8: comparisons do not chain"},
		{`"gpt4"`, "column 1: a string is not a condition"},
		{`model == "a" || 3`, "column 17: a number is not a condition"},
		{`null`, "column 1: null is not a condition"},
		{`len(conversations)`, "column 1: len() is a number, not a condition"},
		{`lower(model)`, "column 1: lower() is a string, not a condition"},
		{`!chars()`, "column 2: chars() is a number"},
		{`foo(model)`, "column 1: unknown function foo"},
		{`len()`, "column 1: len takes 1 argument(s), not 0"},
		{`contains(a)`, "column 1: contains takes 2 argument(s), not 1"},
		{`has(a, b)`, "column 1: has takes 1 argument(s), not 2"},
		{`has("model")`, "column 1: has takes a path"},
		{`matches(a, b)`, "column 1: matches takes a string literal pattern"},
		{`matches(a, "(")`, "column 12: pattern: error parsing regexp"},
		{`a.1 == 2`, `column 3: expected a member name`},
		{`a[1.5] == 2`, "column 3: index 1.5 is not an integer"},
		{`a[x] == 2`, `column 3: expected an index or a "name"`},
		{`[0] == 2`, "column 1: a path starts with a member name"},
		{`01 == 1`, `column 1: invalid number "01"`},
		{`1. == 1`, `column 1: invalid number "1."`},
		{`-x == 1`, `column 1: invalid number "-x"`},
		{`2x == 1`, `column 1: invalid number "2x"`},
		{`1e999 == 1`, "column 1: number 1e999 out of range"},
		{`model == #`, "column 10: unexpected character '#'"},
		{`and == 1`, `column 1: expected a value, found "and"`},
		{strings.Repeat("(", 300) + "true" + strings.Repeat(")", 300), "nested too deeply"},
		{strings.Repeat("!", 300) + "true", "nested too deeply"},
		{strings.Repeat(" ", MaxLength+1), "expression longer than"},
		{`(a == 1) || ("x")`, "column 14: a string is not a condition"},
		{`contains(a, 1 || b)`, "column 13: a number is not a condition"},
	}
	for _, tc := range tests {
		_, err := Parse(tc.expr)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%.40q): %v, want a syntax error", tc.expr, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%.40q): %q, want %q", tc.expr, err, tc.want)
		}
	}
}

func TestString(t *testing.T) {
	tests := []struct{ expr, want string }{
		{`model=="gpt4"||model==null`, `model == "gpt4" || model == null`},
		{`a or b and not c`, `a || b && !c`},
		{`(a || b) && c`, `(a || b) && c`},
		{`a || (b || c)`, `a || (b || c)`},
		{`(a || b) || c`, `a || b || c`},
		{`!(a == 1)`, `!a == 1`},
		{`!a == 1`, `!a == 1`},
		{`!(!(a))`, `!!a`},
		{`!(a && b)`, `!(a && b)`},
		{`((a))`, `a`},
		{`(a == 1) == (b != 2)`, `(a == 1) == (b != 2)`},
		{`["my-field"].x[0]["y z"] == 1e2`, `["my-field"].x[0]["y z"] == 100`},
		{`["null"] == null`, `["null"] == null`},
		{`["len"] == 1`, `len == 1`},
		{`x == "a\"b\u00e9\n"`, `x == "a\"bé\n"`},
		{`contains( tags ,"x" )`, `contains(tags, "x")`},
		{`x == -0.5e-3`, `x == -0.0005`},
	}
	for _, tc := range tests {
		e, err := Parse(tc.expr)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.expr, err)
			continue
		}
		if got := e.String(); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.expr, got, tc.want)
		}
		again, err := Parse(e.String())
		if err != nil || again.String() != e.String() {
			t.Errorf("%q does not parse back: %v", e.String(), err)
		}
	}
}

// runStage runs the stage over inputs into output and returns the report.
func runStage(t *testing.T, st *Stage, inputs []string, output string, stdin string) (*pipeline.Report, string) {
	t.Helper()
	var stdout bytes.Buffer
	dir := t.TempDir()
	job := &pipeline.Job{
		Command:              "convert",
		Registry:             pipeline.NewRegistry(pipeline.JSONFormats()...),
		Inputs:               inputs,
		Output:               output,
		RejectsPath:          filepath.Join(dir, "rejects.jsonl"),
		Stages:               []pipeline.Stage{st},
		AllowNoConversations: true,
		Stdin:                strings.NewReader(stdin),
		Stdout:               &stdout,
	}
	rep, err := job.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rj, err := os.ReadFile(job.RejectsPath)
	if err != nil {
		t.Fatal(err)
	}
	if output == "-" {
		return rep, stdout.String() + "REJECTS\n" + string(rj)
	}
	return rep, string(rj)
}

func TestStage(t *testing.T) {
	sel, err := Parse(`model == "gpt4" || model == null`)
	if err != nil {
		t.Fatal(err)
	}
	input := strings.Join([]string{gpt4, noModel, null, gpt35, noID, openai}, "\n")
	tests := []struct {
		name     string
		opts     Options
		wantOut  []string
		rejected int64
		details  Details
	}{
		{"select", Options{Select: sel, FirstTurns: -1}, []string{`"id":"a"`, `"id":"b"`, `"id":"c"`, `{"conversations":[{"from":"human","value":"Q"}`}, 2,
			Details{Select: sel.String()}},
		{"first two turns", Options{FirstTurns: 2}, []string{
			`{"id":"b","conversations":[{"from":"human","value":"hi"},{"from":"gpt","value":"Hello"}]}`,
			`"conversations":[],"model":null`,
			`{"text":"no conversation at all","model":"GPT4"}`,
		}, 0, Details{RecordsCut: 1, TurnsDropped: 2}},
		{"zero turns", Options{FirstTurns: 0}, []string{`{"id":"a","conversations":[],"model":"gpt4"}`}, 0,
			Details{RecordsCut: 4, TurnsDropped: 10}},
		{"both", Options{Select: sel, FirstTurns: 1}, []string{`{"id":"b","conversations":[{"from":"human","value":"hi"}]}`}, 2,
			Details{Select: sel.String(), RecordsCut: 3, TurnsDropped: 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := New(tc.opts)
			rep, out := runStage(t, st, []string{"-"}, "-", input)
			for _, w := range tc.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %s:\n%s", w, out)
				}
			}
			if rep.RecordsIn != 6 || rep.Rejected != tc.rejected || rep.Stage(StageName).Rejected[ReasonNotSelected] != tc.rejected {
				t.Errorf("report: %d in, %d rejected, want 6 and %d", rep.RecordsIn, rep.Rejected, tc.rejected)
			}
			if tc.rejected > 0 && !strings.Contains(out, `"reason":"not-selected"`) {
				t.Errorf("rejects lack the reason:\n%s", out)
			}
			if d := st.Details(); d != tc.details {
				t.Errorf("details %+v, want %+v", d, tc.details)
			}
		})
	}
}

// TestAgainstFastChat runs FastChat's extract_gpt4_only.py and
// extract_single_round.py logic with Python on the real ShareGPT sample
// (with "model" members added) and compares the output files byte for byte.
func TestAgainstFastChat(t *testing.T) {
	python, err := exec.LookPath("/usr/bin/python3")
	if err != nil {
		if python, err = exec.LookPath("python3"); err != nil {
			oracle.Missing(t, "oracle unavailable: python3 not found, FastChat's extract scripts are not compared")
		}
	}
	dir := t.TempDir()
	prog := `import json, sys
src, dir = sys.argv[1], sys.argv[2]
content = json.load(open(src, "r"))
models = ["gpt4", "gpt-3.5-turbo", None, "GPT4", "absent", "gpt4"]
for i, c in enumerate(content):
    m = models[i % len(models)]
    if m != "absent":
        c["model"] = m
json.dump(content, open(dir + "/input.json", "w"), indent=2, ensure_ascii=False)

# extract_gpt4_only
new_content = []
for c in content:
    model = c.get("model", None)
    if model == "gpt4" or model is None:
        new_content.append(c)
json.dump(new_content, open(dir + "/gpt4.json", "w"), indent=2, ensure_ascii=False)

# extract_single_round
for c in content:
    c["conversations"] = c["conversations"][:2]
json.dump(content, open(dir + "/single.json", "w"), indent=2, ensure_ascii=False)
`
	if out, err := exec.Command(python, "-c", prog, "../../testdata/sharegpt/sharegpt_v3_sample_1000.json", dir).CombinedOutput(); err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	sel, err := Parse(`model == "gpt4" || model == null`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts Options
		kept int64
	}{
		{"gpt4", Options{Select: sel, FirstTurns: -1}, 666},
		{"single", Options{FirstTurns: 2}, 1000},
	} {
		out := filepath.Join(dir, "ours_"+tc.name+".json")
		rep, _ := runStage(t, New(tc.opts), []string{filepath.Join(dir, "input.json")}, out, "")
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(dir, tc.name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: output differs from FastChat's (%d bytes, FastChat %d)", tc.name, len(got), len(want))
		}
		if rep.Kept != tc.kept {
			t.Errorf("%s: kept %d, want %d", tc.name, rep.Kept, tc.kept)
		}
	}
}
