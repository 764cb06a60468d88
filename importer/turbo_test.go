package importer

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestTurboStreamExpansionBounded checks that a payload whose values are
// shared along exponentially many paths is refused at once, not expanded:
// 60 levels of objects whose two members both point at the next level
// stand for 2^60 values in 1.4 KB.
func TestTurboStreamExpansionBounded(t *testing.T) {
	const levels = 60
	var b strings.Builder
	b.WriteString(`[{"_1":3},"a","b"`)
	for i := range levels {
		fmt.Fprintf(&b, `,{"_1":%d,"_2":%d}`, i+4, i+4)
	}
	b.WriteString(`,"leaf"]`)
	start := time.Now()
	_, err := DecodeTurboStream([]byte(b.String()), 64<<20)
	if err == nil || !strings.Contains(err.Error(), "expands to over") {
		t.Fatalf("error %v, want the expansion refused", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("refusing took %v", d)
	}
	// The same sharing a few levels deep is fine.
	small := `[{"_1":3},"a","b",{"_1":4,"_2":4},{"_1":5,"_2":5},"leaf"]`
	v, err := DecodeTurboStream([]byte(small), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(v); got != "map[a:map[a:map[a:leaf b:leaf] b:map[a:leaf b:leaf]]]" {
		t.Errorf("decoded %s", got)
	}
}
