package pipeline

import (
	"fmt"
	"testing"
)

func TestOptionError(t *testing.T) {
	tests := []struct {
		err         *OptionError
		bare, flags string
	}{
		{OptionErrorf("{threshold} must be in (0, 1], got %g", 1.5), "threshold must be in (0, 1], got 1.5", "--threshold must be in (0, 1], got 1.5"},
		{OptionErrorf("{bands} × {rows} (%d) is more than {permutations} (%d)", 400, 256), "bands × rows (400) is more than permutations (256)", "--bands × --rows (400) is more than --permutations (256)"},
		{OptionErrorf("bad value %q", "{x}"), `bad value "{x}"`, `bad value "{x}"`}, // arguments are never rewritten
	}
	for _, tt := range tests {
		if tt.err.Error() != tt.bare || tt.err.Flags() != tt.flags {
			t.Errorf("got %q / %q, want %q / %q", tt.err.Error(), tt.err.Flags(), tt.bare, tt.flags)
		}
	}
	wrapped := fmt.Errorf("dedup: %w", OptionErrorf("{ngram} must be at least 1"))
	if wrapped.Error() != "dedup: ngram must be at least 1" {
		t.Errorf("wrapped: %q", wrapped)
	}
}
