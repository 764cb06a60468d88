package tokenize

import (
	"encoding/json"
	"github.com/sharegpt/sharegpt/internal/oracle"
	"os"
	"slices"
	"testing"

	"github.com/sharegpt/sharegpt/internal/tokenizer"
	"github.com/sharegpt/sharegpt/pipeline"
)

// TestAxolotlFixture compares this package's vicuna_v1.1 ids with the ids
// axolotl produced for the same conversation
// (testdata/sharegpt/axolotl_conversation.vicuna_v1_1.tokenized.json,
// axolotl's tests/fixtures/conversation.tokenized.json: 6 rounds, 1,970
// tokens there, 1,946 here, 1,951 with Legacy).
//
// Where and why they differ. axolotl (its ShareGPT strategy over
// FastChat's get_turns) does not tokenize the templated string as one
// string: it encodes each part separately, each with its own dummy prefix,
// and concatenates:
//
//	system + " "              → "... questions" "." "▁"
//	"USER: " + text + " "     → "▁US" "ER" ":" ... "?" "▁"
//	"ASSISTANT: " + reply + "</s>", then EOS
//	                          → "▁A" "SS" "IST" "ANT" ":" "▁It" ... ".</" "s" ">" EOS
//
// (the test rebuilds the fixture exactly this way, ids and labels). Three
// differences follow, and only these:
//
//  1. A separator space at the end of a part becomes a token of its own:
//     axolotl has "." "▁" "▁US" and "?" "▁" "▁A" where the one string has
//     "." "▁US" and "?" "▁A" (7 extra "▁" tokens, 29871: one after the
//     system message, one after each of the 6 user turns). A model trained
//     on these sees a "▁" token before every role tag that it never sees
//     when the same prompt is tokenized as one string at inference.
//  2. The template's "</s>" is encoded as text (".</" "s" ">", the "."
//     merging with "</") and an EOS id follows it: each of the 6 replies
//     ends with 2 extra tokens, labelled, so the model learns to write the
//     characters "</s>" before stopping. This is the bug FastChat avoids by
//     treating "</s>" as a special token; here it is the EOS id, once.
//  3. After EOS, "USER" has a dummy prefix in axolotl ("▁US" "ER", 2
//     tokens) and none here ("USER", 1 token), 5 times: axolotl encodes the
//     part on its own (like Hugging Face's legacy=True); this package
//     encodes the string as SentencePiece does, with the dummy prefix only
//     at its start. With Legacy this difference disappears.
//
// 1,946 + 7 + 12 + 5 = 1,970. Labels agree on every token the two share:
// both label from the first token of each reply ("▁It", which holds the
// space after "ASSISTANT:") through its EOS and nothing else, so axolotl
// labels 1,798 tokens and this package 1,786 (the 12 "</s>"-as-text
// tokens).
func TestAxolotlFixture(t *testing.T) {
	data, err := os.ReadFile("../testdata/sharegpt/axolotl_conversation.json")
	if err != nil {
		oracle.Missing(t, "axolotl fixture: %v", err)
	}
	var rec struct {
		Conversations []pipeline.Turn `json:"conversations"`
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	data, err = os.ReadFile("../testdata/sharegpt/axolotl_conversation.vicuna_v1_1.tokenized.json")
	if err != nil {
		oracle.Missing(t, "axolotl fixture: %v", err)
	}
	var ax struct {
		InputIDs      []int32 `json:"input_ids"`
		AttentionMask []int32 `json:"attention_mask"`
		Labels        []int32 `json:"labels"`
	}
	if err := json.Unmarshal(data, &ax); err != nil {
		t.Fatal(err)
	}
	tok := tokenizer.Default()

	// The explanation, as code: axolotl's ids and labels are the parts
	// encoded one by one.
	rebuilt, rebuiltLabels := axolotlParts(tok, rec.Conversations)
	if !slices.Equal(rebuilt, ax.InputIDs) || !slices.Equal(rebuiltLabels, ax.Labels) {
		t.Fatalf("the per-part encoding does not rebuild axolotl's fixture\n%s", diffIDs(tok, toInts(rebuilt), toInts(ax.InputIDs)))
	}

	tests := []struct {
		legacy                bool
		n, labelled           int
		extraSpace, eosAsText int // differences 1 and 2, per occurrence
		dummyAfterEOS         int // difference 3
	}{
		{legacy: false, n: 1946, labelled: 1786, extraSpace: 7, eosAsText: 6, dummyAfterEOS: 5},
		{legacy: true, n: 1951, labelled: 1786, extraSpace: 7, eosAsText: 6, dummyAfterEOS: 0},
	}
	for _, tc := range tests {
		st, err := New(Options{Legacy: tc.legacy})
		if err != nil {
			t.Fatal(err)
		}
		ex, rerr := st.Encode(rec.Conversations)
		if rerr != nil {
			t.Fatal(rerr)
		}
		if len(ex.IDs) != tc.n || ex.LabelCount() != tc.labelled || ex.Cut != 0 {
			t.Errorf("legacy=%v: %d tokens, %d labelled, %d cut; want %d, %d, 0", tc.legacy, len(ex.IDs), ex.LabelCount(), ex.Cut, tc.n, tc.labelled)
		}
		// Turn axolotl's sequence into ours by undoing the three
		// differences, counting each; labels must then agree too.
		id := func(piece string) int32 {
			v, ok := tok.ID(piece)
			if !ok {
				t.Fatalf("no piece %q", piece)
			}
			return int32(v)
		}
		space, us, er, user, a, dot := id("▁"), id("▁US"), id("ER"), id("USER"), id("▁A"), id(".")
		eosText := []int32{id(".</"), id("s"), id(">"), id("</s>")}
		eos := int32(tok.EOS())
		ids, labels := slices.Clone(ax.InputIDs), slices.Clone(ax.Labels)
		var extraSpace, eosAsText, dummyAfterEOS int
		for i := 0; i < len(ids); i++ {
			switch {
			case ids[i] == space && i+1 < len(ids) && (ids[i+1] == us || ids[i+1] == a):
				ids, labels = slices.Delete(ids, i, i+1), slices.Delete(labels, i, i+1)
				extraSpace++
				i--
			case i+3 < len(ids) && slices.Equal(ids[i:i+4], eosText):
				ids = slices.Replace(ids, i, i+3, dot)
				labels = slices.Replace(labels, i, i+3, dot)
				eosAsText++
			case !tc.legacy && i+2 < len(ids) && slices.Equal(ids[i:i+3], []int32{eos, us, er}):
				ids = slices.Replace(ids, i+1, i+3, user)
				labels = slices.Replace(labels, i+1, i+3, IgnoreIndex)
				dummyAfterEOS++
			}
		}
		if extraSpace != tc.extraSpace || eosAsText != tc.eosAsText || dummyAfterEOS != tc.dummyAfterEOS {
			t.Errorf("legacy=%v: %d extra spaces, %d </s> as text, %d dummy prefixes after EOS; want %d, %d, %d",
				tc.legacy, extraSpace, eosAsText, dummyAfterEOS, tc.extraSpace, tc.eosAsText, tc.dummyAfterEOS)
		}
		if !slices.Equal(ids, ex.IDs) {
			t.Errorf("legacy=%v: axolotl's ids with the three differences undone still differ\n%s", tc.legacy, diffIDs(tok, toInts(ex.IDs), toInts(ids)))
		}
		if !slices.Equal(labels, ex.Labels) {
			t.Errorf("legacy=%v: labels differ beyond the three differences", tc.legacy)
		}
	}
	for i, m := range ax.AttentionMask {
		if m != 1 {
			t.Fatalf("axolotl attention_mask[%d] = %d; the comparison assumes an unpadded row", i, m)
		}
	}
}

// axolotlParts encodes a vicuna_v1.1 conversation the way axolotl does:
// each part on its own, with a dummy prefix, BOS first, EOS after each
// assistant part; labels on an assistant part after its role tag.
func axolotlParts(tok *tokenizer.Tokenizer, turns []pipeline.Turn) (ids, labels []int32) {
	const system = "A chat between a curious user and an artificial intelligence assistant. " +
		"The assistant gives helpful, detailed, and polite answers to the user's questions."
	add := func(text string, label bool) {
		for _, id := range tok.Encode(text) {
			ids = append(ids, int32(id))
			if label {
				labels = append(labels, int32(id))
			} else {
				labels = append(labels, IgnoreIndex)
			}
		}
	}
	ids, labels = []int32{int32(tok.BOS())}, []int32{IgnoreIndex}
	add(system+" ", false)
	for _, t := range turns {
		if t.From == pipeline.RoleHuman {
			add("USER: "+t.Value+" ", false)
			continue
		}
		role := len(tok.Encode("ASSISTANT:"))
		start := len(ids)
		add("ASSISTANT: "+t.Value+"</s>", true)
		for i := start; i < start+role; i++ {
			labels[i] = IgnoreIndex
		}
		ids, labels = append(ids, int32(tok.EOS())), append(labels, int32(tok.EOS()))
	}
	return ids, labels
}

func toInts(xs []int32) []int {
	out := make([]int, len(xs))
	for i, x := range xs {
		out[i] = int(x)
	}
	return out
}
