package tokenize

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/internal/chat"
	"github.com/sharegpt/sharegpt/internal/tokenizer"
)

// TestLabelsRealData checks the labels of every conversation of the real
// data, in every template, legacy and not:
//
//   - the tokens tile the text: each token's exact text (surface) is the
//     bytes its span covers, but for the dummy prefix "▁" of a piece of
//     text encoded with one;
//   - the labelled tokens of each reply are contiguous, their surfaces
//     joined are the reply and its closing end token, preceded at most by
//     separator spaces of the template that the first token absorbs ("▁It"
//     holds the space after "ASSISTANT:"), and every other token is
//     IgnoreIndex;
//   - tokenizer.Decode of each reply's labels gives back exactly the
//     assistant's text (plus the closing token text when the tokenizer has
//     no such control token, as "<|im_end|>" with LLaMA); Decode drops
//     control tokens like </s>, and the leading space of the first piece
//     (so a reply that itself starts with a space, which the real data
//     never has, decodes without that space).
//
// vicuna_v1.1 (not legacy) is checked on every conversation, the other
// templates and legacy mode on every 8th unless ORACLE_FULL is set (and
// not at all with -short).
func TestLabelsRealData(t *testing.T) {
	convs := dataConversations(t)
	tok := tokenizer.Default()
	var cases, replies, labelled int
	for _, name := range chat.Names() {
		tmpl, _ := chat.Lookup(name)
		ctrl := controlIDs(tok, tmpl)
		for _, legacy := range []bool{false, true} {
			enc, err := NewEncoder(tok, tmpl, legacy)
			if err != nil {
				t.Fatal(err)
			}
			bad := 0
			for k, cv := range convs {
				other := name != DefaultTemplate || legacy
				if other && (testing.Short() || os.Getenv("ORACLE_FULL") == "" && k%8 != 0) {
					continue
				}
				system, msgs := lenientMessages(tmpl, cv.turns)
				r, err := tmpl.Render(system, msgs)
				if err != nil {
					t.Fatal(err)
				}
				toks := enc.Encode(&r)
				if err := checkLabels(tok, ctrl, legacy, &r, msgs, &toks); err != nil {
					bad++
					if bad <= 3 {
						t.Errorf("%s, %s legacy=%v: %v", cv, name, legacy, err)
					}
				}
				cases++
				replies += len(r.Replies)
				labelled += toks.LabelCount()
			}
			if bad > 0 {
				t.Errorf("%s legacy=%v: %d of %d conversations wrong", name, legacy, bad, len(convs))
			}
		}
	}
	t.Logf("%d conversations, %d renderings: %d replies, %d labelled tokens are exactly the replies",
		len(convs), cases, replies, labelled)
}

// checkLabels verifies toks against the rendered text r (see
// TestLabelsRealData).
func checkLabels(tok *tokenizer.Tokenizer, ctrl map[string]int, legacy bool, r *chat.Rendered, msgs []chat.Message, toks *Tokens) error {
	if len(toks.IDs) != len(toks.Labels) || len(toks.IDs) != len(toks.Spans) {
		return fmt.Errorf("lengths differ: %d ids, %d labels, %d spans", len(toks.IDs), len(toks.Labels), len(toks.Spans))
	}
	if toks.IDs[0] != int32(tok.BOS()) || toks.Labels[0] != IgnoreIndex {
		return fmt.Errorf("first token %d label %d, want BOS unlabelled", toks.IDs[0], toks.Labels[0])
	}
	// Tiling.
	pos := 0
	for i := 1; i < len(toks.IDs); i++ {
		sp := toks.Spans[i]
		if sp.Start != pos {
			return fmt.Errorf("token %d (%q) starts at %d, the previous ended at %d", i, tok.Piece(int(toks.IDs[i])), sp.Start, pos)
		}
		got, want := surface(tok, toks.IDs[i]), r.Text[sp.Start:sp.End]
		if got != want && got != " "+want {
			return fmt.Errorf("token %d %q covers %q", i, tok.Piece(int(toks.IDs[i])), want)
		}
		if got == " "+want && !dummyAllowed(r, ctrl, legacy, sp.Start) {
			return fmt.Errorf("token %d %q has a dummy prefix at byte %d, inside text", i, tok.Piece(int(toks.IDs[i])), sp.Start)
		}
		pos = sp.End
	}
	if pos != len(r.Text) {
		return fmt.Errorf("tokens cover %d of %d bytes", pos, len(r.Text))
	}
	// Labels per reply.
	var replyTexts []string
	for _, m := range msgs {
		if m.Role == chat.Assistant {
			replyTexts = append(replyTexts, m.Content)
		}
	}
	inReply := make([]bool, len(toks.IDs))
	for k, rep := range r.Replies {
		if rep.Len() == 0 {
			continue
		}
		first, last := -1, -1
		for i := 1; i < len(toks.IDs); i++ {
			sp := toks.Spans[i]
			if sp.Start < rep.End && max(sp.End, sp.Start+1) > rep.Start {
				if first < 0 {
					first = i
				} else if i != last+1 {
					return fmt.Errorf("reply %d: labelled tokens not contiguous", k)
				}
				last = i
				inReply[i] = true
			}
		}
		if first < 0 {
			return fmt.Errorf("reply %d: no token", k)
		}
		var sur strings.Builder
		var ids []int
		for i := first; i <= last; i++ {
			if toks.Labels[i] != toks.IDs[i] {
				return fmt.Errorf("reply %d: token %d %q has label %d", k, i, tok.Piece(int(toks.IDs[i])), toks.Labels[i])
			}
			sur.WriteString(surface(tok, toks.IDs[i]))
			ids = append(ids, int(toks.IDs[i]))
		}
		lead := r.Text[toks.Spans[first].Start:rep.Start]
		if strings.Trim(lead, " ") != "" {
			return fmt.Errorf("reply %d: first labelled token %q reaches into the template's %q", k, tok.Piece(int(toks.IDs[first])), lead)
		}
		if want := lead + r.Text[rep.Start:rep.End]; sur.String() != want {
			return fmt.Errorf("reply %d: labelled tokens are %q, want %q", k, sur.String(), want)
		}
		// Decode: control specials vanish, other special strings stay.
		var wb strings.Builder
		p := rep.Start
		for _, sp := range r.Specials {
			if _, ok := ctrl[r.Text[sp.Start:sp.End]]; ok && sp.Start >= rep.Start && sp.End <= rep.End {
				wb.WriteString(r.Text[p:sp.Start])
				p = sp.End
			}
		}
		wb.WriteString(r.Text[p:rep.End])
		want := wb.String()
		if !strings.HasPrefix(want, replyTexts[k]) {
			return fmt.Errorf("reply %d span %q does not start with the reply", k, want)
		}
		// SentencePiece's Decode drops the leading space of the first
		// piece: a reply that starts with a space, when that space is not
		// absorbed with the template's, decodes without it.
		got := tok.Decode(ids)
		if got != want && (lead != "" || !strings.HasPrefix(want, " ") || got != want[1:]) {
			return fmt.Errorf("reply %d: labels decode to %q, want %q", k, got, want)
		}
	}
	for i := range toks.IDs {
		if !inReply[i] && toks.Labels[i] != IgnoreIndex {
			return fmt.Errorf("token %d %q outside the replies has label %d", i, tok.Piece(int(toks.IDs[i])), toks.Labels[i])
		}
	}
	return nil
}

// dummyAllowed reports whether a token starting at byte pos may carry a
// dummy prefix: at the start of the text, and in legacy mode after a
// control special.
func dummyAllowed(r *chat.Rendered, ctrl map[string]int, legacy bool, pos int) bool {
	if pos == 0 {
		return true
	}
	if !legacy {
		return false
	}
	for _, sp := range r.Specials {
		if _, ok := ctrl[r.Text[sp.Start:sp.End]]; ok && sp.End == pos {
			return true
		}
	}
	return false
}
