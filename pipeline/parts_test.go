package pipeline

import "testing"

// TestContentParts: a text given as a list of content parts is read as
// its text parts joined, keeps its parts (and counts those that are not
// text), and is written back as it was, in either output style, until a
// stage changes the text.
func TestContentParts(t *testing.T) {
	const in = `{"messages":[{"role":"user","content":[{"type":"text","text":"Look:"},{"type":"image_url","image_url":{"url":"data:x"}},{"type":"text","text":"what is it?"}]},{"content":[{"type":"text","text":"A cat."}],"role":"assistant"}]}`
	tests := []struct {
		name    string
		value   [2]string
		nonText [2]int
		edit    func(r *Record)
		compact string
		style   OutputStyle
	}{
		{
			name: "as read, ShareGPT output", value: [2]string{"Look:\nwhat is it?", "A cat."}, nonText: [2]int{1, 0},
			compact: `{"conversations":[{"from":"human","value":[{"type":"text","text":"Look:"},{"type":"image_url","image_url":{"url":"data:x"}},{"type":"text","text":"what is it?"}]},{"value":[{"type":"text","text":"A cat."}],"from":"gpt"}]}`,
		},
		{
			name: "as read, OpenAI output", value: [2]string{"Look:\nwhat is it?", "A cat."}, nonText: [2]int{1, 0}, style: OutOpenAI,
			compact: `{"messages":[{"role":"user","content":[{"type":"text","text":"Look:"},{"type":"image_url","image_url":{"url":"data:x"}},{"type":"text","text":"what is it?"}]},{"content":[{"type":"text","text":"A cat."}],"role":"assistant"}]}`,
		},
		{
			name: "text changed: one text part, then the others", value: [2]string{"Look:\nwhat is it?", "A cat."}, nonText: [2]int{1, 0}, style: OutOpenAI,
			edit:    func(r *Record) { r.Conversations[0].Value = "What is this?" },
			compact: `{"messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:x"}}]},{"content":[{"type":"text","text":"A cat."}],"role":"assistant"}]}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := DecodeRecord([]byte(in), StyleAuto)
			if err != nil {
				t.Fatal(err)
			}
			for i, turn := range rec.Conversations {
				if turn.Value != tc.value[i] || turn.NonText != tc.nonText[i] || turn.Parts == nil {
					t.Errorf("turn %d: value %q, %d non-text parts, parts %s", i, turn.Value, turn.NonText, turn.Parts)
				}
			}
			if tc.edit != nil {
				tc.edit(rec)
			}
			got := string(AppendRecord(nil, rec, tc.style))
			if got != tc.compact {
				t.Errorf("compact\n got %s\nwant %s", got, tc.compact)
			}
			// The indented form is the same record.
			indented := AppendRecordIndent(nil, rec, tc.style, 1)
			again, err := DecodeRecord(indented, StyleAuto)
			if err != nil {
				t.Fatalf("%s: %v", indented, err)
			}
			if s := string(AppendRecord(nil, again, tc.style)); s != tc.compact {
				t.Errorf("indented then compact\n got %s\nwant %s", s, tc.compact)
			}
			// ... and indented exactly as the record the compact form reads as.
			want, err := DecodeRecord([]byte(tc.compact), StyleAuto)
			if err != nil {
				t.Fatal(err)
			}
			if w := AppendRecordIndent(nil, want, tc.style, 1); string(w) != string(indented) {
				t.Errorf("indented\n got %s\nwant %s", indented, w)
			}
		})
	}
}

// TestContentPartsStyles: lists are read under "content" and "value" alike,
// and a string text has no parts.
func TestContentPartsStyles(t *testing.T) {
	for _, tc := range []struct {
		in    string
		style InputStyle
		value string
		parts bool
	}{
		{`{"conversations":[{"from":"human","value":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}`, StyleShareGPT, "a\nb", true},
		{`{"messages":[{"role":"user","content":[]}]}`, StyleOpenAI, "", true},
		{`{"messages":[{"role":"user","content":"s"}]}`, StyleOpenAI, "s", false},
	} {
		rec, err := DecodeRecord([]byte(tc.in), tc.style)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if tu := rec.Conversations[0]; tu.Value != tc.value || (tu.Parts != nil) != tc.parts {
			t.Errorf("%s: value %q parts %s", tc.in, tu.Value, tu.Parts)
		}
	}
}
