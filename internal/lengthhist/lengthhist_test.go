package lengthhist

import (
	"reflect"
	"testing"
)

func TestHistogram(t *testing.T) {
	var h Histogram
	for _, n := range []int64{0, 1, 1023, 1024, 2047, 4096, 32767, 32768, 1 << 40, -5} {
		h.Add(n)
	}
	want := []Bin{{0, 1024, 4}, {1024, 2048, 2}, {2048, 4096, 0}, {4096, 8192, 1}, {8192, 16384, 0}, {16384, 32768, 1}, {32768, -1, 2}}
	if got := h.Bins(); !reflect.DeepEqual(got, want) {
		t.Errorf("Bins() = %v\nwant %v", got, want)
	}
}
