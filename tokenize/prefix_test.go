package tokenize

import (
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/internal/chat"
	"github.com/sharegpt/sharegpt/internal/tokenizer"
	"github.com/sharegpt/sharegpt/pipeline"
)

// TestEncodePrefix: EncodePrefix(r, limit) is Encode(r) cut to limit
// tokens (ids, labels and spans), and counts all of them.
func TestEncodePrefix(t *testing.T) {
	tok := tokenizer.Default()
	convs := dataConversations(t)
	for _, name := range []string{"vicuna_v1.1", "llama-2"} {
		tmpl, err := chat.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, legacy := range []bool{false, true} {
			enc, err := NewEncoder(tok, tmpl, legacy)
			if err != nil {
				t.Fatal(err)
			}
			for i, cv := range convs {
				if i%20 != 0 {
					continue
				}
				system, msgs := lenientMessages(tmpl, cv.turns)
				r, err := tmpl.Render(system, msgs)
				if err != nil {
					continue
				}
				full := enc.Encode(&r)
				for _, limit := range []int{0, 1, 2, 7, len(full.IDs) / 2, len(full.IDs) - 1, len(full.IDs), len(full.IDs) + 5} {
					got, n := enc.EncodePrefix(&r, max(limit, 0))
					want := full
					want.Truncate(max(limit, 0))
					if n != len(full.IDs) || !slices.Equal(got.IDs, want.IDs) || !slices.Equal(got.Labels, want.Labels) || !slices.Equal(got.Spans, want.Spans) {
						t.Fatalf("%s legacy=%v %s limit %d: EncodePrefix differs from Encode cut (n %d, want %d)", name, legacy, cv, limit, n, len(full.IDs))
					}
				}
			}
		}
	}
}

// TestEncodeMemory: tokenizing a conversation with a 4 MB reply
// allocates a few copies of its text (the rendered prompt, the text
// given to the tokenizer) and MaxLength tokens, not a multiple of its
// tokens: before, the stage held every token's id, label and span and
// the tokenizer about 125 bytes per byte of text.
func TestEncodeMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode: encodes a 4 MB conversation")
	}
	st, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := 0; b.Len() < 4<<20; i++ {
		b.WriteString("The reply goes on, with code: for i := range 10 { fmt.Println(i * 2) }\n")
		b.WriteString(strings.Repeat("=", i%300) + " 中文 😀\n")
	}
	reply := b.String()
	turns := []pipeline.Turn{{From: "human", Value: "Write a long reply."}, {From: "gpt", Value: reply}}
	st.Encode(turns[:2]) // warm up the tokenizer's pool
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ex, rerr := st.Encode(turns)
	runtime.ReadMemStats(&after)
	if rerr != nil {
		t.Fatal(rerr)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d bytes of reply, %d tokens (%d cut): %d bytes allocated", len(reply), len(ex.IDs)+ex.Cut, ex.Cut, alloc)
	if limit := uint64(3*len(reply) + 4<<20); alloc > limit {
		t.Errorf("encoding a %d-byte reply allocated %d bytes, want at most %d", len(reply), alloc, limit)
	}
}
