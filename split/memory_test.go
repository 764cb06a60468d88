package split

import (
	"runtime"
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/pipeline"
)

// TestPlanMemory: counting the tokens of a conversation with a 4 MB reply
// allocates at most a few copies of its text (the templated prompt), not
// a multiple of its tokens, in both counting modes.
func TestPlanMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode: counts a 4 MB conversation")
	}
	var b strings.Builder
	for i := 0; b.Len() < 4<<20; i++ {
		b.WriteString("The reply goes on, with code: for i := range 10 { fmt.Println(i * 2) }\n")
		b.WriteString(strings.Repeat("=", i%300) + " 中文 😀\n")
	}
	reply := b.String()
	turns := []pipeline.Turn{{From: "human", Value: "Write a long reply."}, {From: "gpt", Value: reply}}
	for _, c := range []Counting{CountFastChat, CountTemplate} {
		st, err := New(Options{Count: c})
		if err != nil {
			t.Fatal(err)
		}
		st.Plan(turns[:2]) // warm up the tokenizer's pool
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		segs, _ := st.Plan(turns)
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%s: %d bytes of reply, %d tokens: %d bytes allocated", c, len(reply), segs[0].Tokens, alloc)
		if limit := uint64(3*len(reply) + 4<<20); alloc > limit {
			t.Errorf("%s: counting a %d-byte reply allocated %d bytes, want at most %d", c, len(reply), alloc, limit)
		}
	}
}
