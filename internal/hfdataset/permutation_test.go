package hfdataset

import (
	"encoding/json"
	"os/exec"
	"slices"
	"testing"

	"github.com/sharegpt/sharegpt/internal/oracle"
)

func TestPermutationMatchesNumpy(t *testing.T) {
	cases := []struct {
		n    int
		seed uint32
	}{
		{0, 0}, {1, 0}, {2, 0}, {10, 0}, {1000, 0}, {2978, 0}, {100003, 0},
		{10, 1}, {1000, 42}, {5000, 4294967295},
	}
	oracle.NeedModule(t, "numpy")
	for _, tc := range cases {
		prog := "import json, numpy as np\n" +
			"np.random.seed(" + itoa(int(tc.seed)) + ")\n" +
			"print(json.dumps(np.random.permutation(" + itoa(tc.n) + ").tolist()))\n"
		out, err := exec.Command(oracle.Python, "-c", prog).Output()
		if err != nil {
			t.Fatalf("numpy: %v", err)
		}
		var want []int
		if err := json.Unmarshal(out, &want); err != nil {
			t.Fatalf("numpy output: %v", err)
		}
		got, err := Permutation(tc.n, tc.seed)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("n=%d seed=%d: %d values, numpy %d", tc.n, tc.seed, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("n=%d seed=%d: perm[%d] = %d, numpy %d", tc.n, tc.seed, i, got[i], want[i])
			}
		}
	}
}

// TestPermutationFixed pins values numpy 1.24 gives, so the test says
// something without numpy too.
func TestPermutationFixed(t *testing.T) {
	got, err := Permutation(10, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []int{2, 8, 4, 9, 1, 6, 7, 3, 0, 5}
	if !slices.Equal(got, want) {
		t.Errorf("Permutation(10, 0) = %v, want %v", got, want)
	}
}

func TestSplitPoint(t *testing.T) {
	for _, tc := range []struct {
		n     int
		ratio float64
		want  int
	}{{1000, 0.99, 990}, {11, 0.9, 9}, {0, 0.99, 0}, {3, 1, 3}, {7, 0.5, 3}} {
		if got := SplitPoint(tc.n, tc.ratio); got != tc.want {
			t.Errorf("SplitPoint(%d, %v) = %d, want %d", tc.n, tc.ratio, got, tc.want)
		}
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
