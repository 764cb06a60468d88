package pipeline

import "testing"

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"500MB", 500_000_000, true}, {"1GiB", 1 << 30, true}, {"64k", 64 << 10, true}, {"1000", 1000, true},
		{"1.5 GB", 1_500_000_000, true}, {"10KiB", 10240, true}, {"2m", 2 << 20, true}, {"100B", 100, true},
		{"", 0, false}, {"lots", 0, false}, {"-1MB", 0, false}, {"0", 0, false}, {"5XB", 0, false},
	} {
		got, err := ParseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
