package pipeline

import (
	"strings"
	"testing"
)

func TestDecodeRecordErrors(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		style  InputStyle
		reason Reason
		path   string
		msg    string
	}{
		{"missing from", `{"id":"a","conversations":[{"value":"hi"}]}`, StyleAuto, ReasonBadShape, "conversations[0]", `missing "from"`},
		{"number value", `{"id":"a","conversations":[{"from":"human","value":"x"},{"from":"gpt","value":42}]}`, StyleAuto, ReasonBadShape, "conversations[1].value", "expected string, got number"},
		{"null value", `{"id":"a","conversations":[{"from":"human","value":null}]}`, StyleAuto, ReasonBadShape, "conversations[0].value", "got null"},
		{"numeric id", `{"id":7,"conversations":[]}`, StyleAuto, ReasonBadShape, "id", "expected string, got number"},
		{"turns not array", `{"id":"a","conversations":{"from":"human"}}`, StyleAuto, ReasonBadShape, "conversations", "expected array, got object"},
		{"turn not object", `{"id":"a","conversations":["hi"]}`, StyleAuto, ReasonBadShape, "conversations[0]", "expected object, got string"},
		{"record not object", `[1,2]`, StyleAuto, ReasonBadShape, "", "expected object, got array"},
		{"duplicate member", `{"id":"a","id":"b","conversations":[]}`, StyleAuto, ReasonBadShape, "id", "duplicate member"},
		{"two conversation lists", `{"messages":[],"conversations":[]}`, StyleAuto, ReasonBadShape, "conversations", "second conversation member"},
		{"missing content", `{"messages":[{"role":"user"}]}`, StyleAuto, ReasonBadShape, "messages[0]", `missing "content"`},
		{"text part without text", `{"messages":[{"role":"user","content":[{"type":"text"}]}]}`, StyleOpenAI, ReasonBadShape, "messages[0].content", `text content part 0 has no string "text"`},
		{"text part with a number", `{"messages":[{"role":"user","content":[{"type":"text","text":1}]}]}`, StyleOpenAI, ReasonBadShape, "messages[0].content", `text content part 0 has no string "text"`},
		{"part without type", `{"messages":[{"role":"user","content":[{"text":"x"}]}]}`, StyleOpenAI, ReasonBadShape, "messages[0].content", `content part 0 has no "type"`},
		{"part type not a string", `{"messages":[{"role":"user","content":[{"type":3}]}]}`, StyleOpenAI, ReasonBadShape, "messages[0].content", "expected string content part type, got number"},
		{"part not an object", `{"messages":[{"role":"user","content":["x"]}]}`, StyleOpenAI, ReasonBadShape, "messages[0].content", "expected content part object, got string"},
		{"invalid utf8 in a part", "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"\xff\"}]}]}", StyleOpenAI, ReasonInvalidUTF8, "messages[0].content[0].text", "invalid UTF-8"},
		{"raw invalid utf8", "{\"id\":\"a\",\"conversations\":[{\"from\":\"human\",\"value\":\"ok \xff\"}]}", StyleAuto, ReasonInvalidUTF8, "conversations[0].value", "invalid UTF-8 at byte 3"},
		{"invalid utf8 after escape", "{\"id\":\"a\",\"conversations\":[{\"from\":\"human\",\"value\":\"\\n\xc3\"}]}", StyleAuto, ReasonInvalidUTF8, "conversations[0].value", "invalid UTF-8"},
		{"lone surrogate", `{"id":"a","conversations":[{"from":"human","value":"x\ud800y"}]}`, StyleAuto, ReasonInvalidUTF8, "conversations[0].value", "unpaired surrogate"},
		{"invalid utf8 in extra field", "{\"id\":\"a\",\"meta\":{\"k\":\"\xfe\"},\"conversations\":[]}", StyleAuto, ReasonInvalidUTF8, "meta.k", "invalid UTF-8"},
		{"truncated", `{"id":"a","conversations":[{"from":"human"`, StyleAuto, ReasonInvalidJSON, "", "unexpected end"},
		{"missing colon", `{"id" "a"}`, StyleAuto, ReasonInvalidJSON, "", "expected ':'"},
		{"bad literal", `{"id":"a","x":tru}`, StyleAuto, ReasonInvalidJSON, "", "invalid literal"},
		{"bad number", `{"x":01}`, StyleAuto, ReasonInvalidJSON, "", "expected ',' or '}'"},
		{"control char", "{\"id\":\"a\nb\"}", StyleAuto, ReasonInvalidJSON, "", "control character"},
		{"bad escape", `{"id":"\q"}`, StyleAuto, ReasonInvalidJSON, "", "invalid escape"},
		{"trailing data", `{"id":"a"} x`, StyleAuto, ReasonInvalidJSON, "", "unexpected data after the record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeRecord([]byte(tt.in), tt.style)
			de, ok := err.(*DecodeError)
			if !ok {
				t.Fatalf("err = %v, want a *DecodeError", err)
			}
			if de.Reason != tt.reason || de.Path != tt.path || !strings.Contains(de.Msg, tt.msg) {
				t.Errorf("got reason %q path %q msg %q; want %q %q containing %q", de.Reason, de.Path, de.Msg, tt.reason, tt.path, tt.msg)
			}
		})
	}
}

func TestDecodeRecordStyles(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		style     InputStyle
		wantTurns string // from:value pairs
		wantOut   string // compact ShareGPT output
	}{
		{
			"sharegpt with extra fields",
			`{"model":"gpt4","id":"x","conversations":[{"from":"human","value":"hi","weight":0},{"value":"yo","from":"gpt"}],"extra":[1,{"a":null}]}`,
			StyleAuto, "human:hi gpt:yo",
			`{"model":"gpt4","id":"x","conversations":[{"from":"human","value":"hi","weight":0},{"value":"yo","from":"gpt"}],"extra":[1,{"a":null}]}`,
		},
		{
			"openai messages mapped",
			`{"messages":[{"role":"system","content":"be nice"},{"role":"user","content":"hi"},{"role":"assistant","content":"yo","name":"bot"},{"role":"tool","content":"{}"}]}`,
			StyleAuto, "system:be nice human:hi gpt:yo tool:{}",
			`{"conversations":[{"from":"system","value":"be nice"},{"from":"human","value":"hi"},{"from":"gpt","value":"yo","name":"bot"},{"from":"tool","value":"{}"}]}`,
		},
		{
			"openai conversation member",
			`{"id":"c","conversation":[{"role":"user","content":"q"}]}`,
			StyleOpenAI, "human:q",
			`{"id":"c","conversations":[{"from":"human","value":"q"}]}`,
		},
		{
			"sharegpt style keeps messages as a field",
			`{"id":"c","messages":[{"role":"user","content":"q"}],"conversations":[]}`,
			StyleShareGPT, "",
			`{"id":"c","messages":[{"role":"user","content":"q"}],"conversations":[]}`,
		},
		{
			"escapes decoded and re-encoded",
			`{"id":"\u00e9\ud83d\ude00","conversations":[{"from":"human","value":"a\"b\\c\/d\u0001\t"}]}`,
			StyleAuto, "human:a\"b\\c/d\x01\t",
			`{"id":"é😀","conversations":[{"from":"human","value":"a\"b\\c/d\u0001\t"}]}`,
		},
		{
			"no conversations",
			`{"id":"t","lang":"en","text":"<|user|>: hi"}`,
			StyleAuto, "",
			`{"id":"t","lang":"en","text":"<|user|>: hi"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := DecodeRecord([]byte(tt.in), tt.style)
			if err != nil {
				t.Fatal(err)
			}
			var turns []string
			for _, tn := range rec.Conversations {
				turns = append(turns, tn.From+":"+tn.Value)
			}
			if got := strings.Join(turns, " "); got != tt.wantTurns {
				t.Errorf("turns = %q, want %q", got, tt.wantTurns)
			}
			if got := string(AppendRecord(nil, rec, OutShareGPT)); got != tt.wantOut {
				t.Errorf("output:\n got %s\nwant %s", got, tt.wantOut)
			}
		})
	}
}

func TestOpenAIOutputStyle(t *testing.T) {
	rec, err := DecodeRecord([]byte(`{"id":"x","conversations":[{"from":"system","value":"s"},{"from":"human","value":"q"},{"from":"gpt","value":"a"},{"from":"bing","value":"b"}]}`), StyleAuto)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"x","messages":[{"role":"system","content":"s"},{"role":"user","content":"q"},{"role":"assistant","content":"a"},{"role":"bing","content":"b"}]}`
	if got := string(AppendRecord(nil, rec, OutOpenAI)); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestPythonIndentFormat(t *testing.T) {
	rec, err := DecodeRecord([]byte(`{"id":"x","conversations":[],"meta":{"a":[1,2.50,1e5,-0,1E-7,12345678901234567890],"b":{},"c":[]},"t":true}`), StyleAuto)
	if err != nil {
		t.Fatal(err)
	}
	// As Python's json.dump(indent=2, ensure_ascii=False) writes the record
	// as an element of a top-level array (floats in repr form).
	want := `{
    "id": "x",
    "conversations": [],
    "meta": {
      "a": [
        1,
        2.5,
        100000.0,
        0,
        1e-07,
        12345678901234567890
      ],
      "b": {},
      "c": []
    },
    "t": true
  }`
	if got := string(AppendRecordIndent(nil, rec, OutShareGPT, 1)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestAppendStringPythonEscapes(t *testing.T) {
	got := string(AppendString(nil, "q\"b\\n\n\r\t\b\f\x00\x1f\x7f é \u2028 😀"))
	want := `"q\"b\\n\n\r\t\b\f\u0000\u001f` + "\x7f é \u2028 😀\""
	if got != want {
		t.Errorf("got %s want %s", got, want)
	}
}

func TestRecordEditing(t *testing.T) {
	rec, err := DecodeRecord([]byte(`{"conversations":[{"from":"human","value":"q"}],"model":"gpt4"}`), StyleAuto)
	if err != nil {
		t.Fatal(err)
	}
	if rec.HasID() || rec.Model() != "gpt4" {
		t.Fatalf("HasID %v model %q", rec.HasID(), rec.Model())
	}
	seg := rec.WithTurns("abc_0", rec.Conversations[:1])
	seg.SetField("n_tokens", []byte("12"))
	want := `{"id":"abc_0","conversations":[{"from":"human","value":"q"}],"model":"gpt4","n_tokens":12}`
	if got := string(AppendRecord(nil, seg, OutShareGPT)); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if rec.HasID() || len(rec.Fields) != 1 {
		t.Error("WithTurns changed the original record")
	}
}
