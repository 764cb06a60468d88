package nprand

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/internal/oracle"
)

func TestPermutationGolden(t *testing.T) {
	// np.random.seed(42); np.random.permutation(10), the vector every
	// numpy tutorial prints; FastChat's sample.py uses seed 42.
	tests := []struct {
		seed uint32
		n    int64
		want []uint32
	}{
		{42, 10, []uint32{8, 1, 5, 0, 7, 2, 9, 4, 3, 6}},
		{42, 0, []uint32{}},
		{42, 1, []uint32{0}},
		{0, 10, []uint32{2, 8, 4, 9, 1, 6, 7, 3, 0, 5}},
	}
	for _, tc := range tests {
		got, err := New(tc.seed).Permutation(tc.n)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("seed %d, n %d: %v, want %v", tc.seed, tc.n, got, tc.want)
		}
	}
	if _, err := New(0).Permutation(-1); err == nil {
		t.Error("a negative length was accepted")
	}
}

func TestIntervalSmall(t *testing.T) {
	r := New(7)
	for max := uint64(0); max < 300; max++ {
		if v := r.Interval(max); v > max {
			t.Fatalf("Interval(%d) = %d", max, v)
		}
	}
}

// TestUint32AgainstCPython checks the raw MT19937 stream against CPython's
// own C implementation (standard library only): the state np.random.seed
// makes is loaded with random.setstate and read with getrandbits(32).
func TestUint32AgainstCPython(t *testing.T) {
	python := oracle.Python
	if _, err := exec.LookPath(python); err != nil {
		if python, err = exec.LookPath("python3"); err != nil {
			oracle.Missing(t, "oracle unavailable: python3 not found, the MT19937 stream is not checked against CPython")
		}
	}
	prog := `import random, sys, json
seed = int(sys.argv[1])
key = [seed]
for i in range(1, 624):
    key.append((1812433253 * (key[-1] ^ (key[-1] >> 30)) + i) & 0xffffffff)
random.setstate((3, tuple(key) + (624,), None))
print(json.dumps([random.getrandbits(32) for _ in range(2000)]))
`
	for _, seed := range []uint32{0, 1, 42, 0xffffffff} {
		out, err := exec.Command(python, "-c", prog, strconv.FormatUint(uint64(seed), 10)).Output()
		if err != nil {
			t.Fatalf("python: %v", err)
		}
		var want []uint32
		if err := json.Unmarshal(out, &want); err != nil {
			t.Fatal(err)
		}
		r := New(seed)
		for i, w := range want {
			if got := r.Uint32(); got != w {
				t.Fatalf("seed %d: output %d is %d, CPython %d", seed, i, got, w)
			}
		}
	}
}

// numpy runs numpy's own code (Debian's python3-numpy) or skips.
func numpy(t *testing.T, prog string, args ...string) []byte {
	t.Helper()
	oracle.NeedModule(t, "numpy")
	out, err := exec.Command(oracle.Python, append([]string{"-c", prog}, args...)...).Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	return out
}

func TestPermutationAgainstNumpy(t *testing.T) {
	// The shuffle of a Python list (FastChat shuffles its list of dicts),
	// for lengths around powers of two, where the rejection mask changes.
	cases := []struct {
		seed uint32
		n    int64
	}{{42, 2}, {42, 3}, {42, 1000}, {42, 65537}, {0, 4096}, {123456789, 100003}}
	var args []string
	for _, tc := range cases {
		args = append(args, strconv.FormatUint(uint64(tc.seed), 10), strconv.FormatInt(tc.n, 10))
	}
	prog := `import sys, json, numpy as np
out = []
for seed, n in zip(sys.argv[1::2], sys.argv[2::2]):
    np.random.seed(int(seed))
    content = list(range(int(n)))
    np.random.shuffle(content)
    out.append(content)
print(json.dumps(out))
`
	var want [][]uint32
	if err := json.Unmarshal(numpy(t, prog, args...), &want); err != nil {
		t.Fatal(err)
	}
	for k, tc := range cases {
		got, err := New(tc.seed).Permutation(tc.n)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want[k]) {
			i := 0
			for i < len(got) && i < len(want[k]) && got[i] == want[k][i] {
				i++
			}
			t.Errorf("seed %d, n %d: differs from numpy at %d", tc.seed, tc.n, i)
		}
	}
}

func TestIntervalWideAgainstNumpy(t *testing.T) {
	// Ranges over 32 bits draw 64-bit values (two outputs, high first);
	// legacy randint uses the same masked rejection.
	maxes := []uint64{1 << 32, 1<<40 + 5, 1<<63 - 1, 0xffffffff, 1000}
	var args []string
	for _, m := range maxes {
		args = append(args, strconv.FormatUint(m, 10))
	}
	prog := `import sys, json, numpy as np
r = np.random.RandomState(2024)
out = []
for m in sys.argv[1:]:
    out.append([int(r.randint(0, int(m) + 1, dtype=np.uint64)) for _ in range(50)])
print(json.dumps(out))
`
	out := numpy(t, prog, args...)
	var want [][]uint64
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	r := New(2024)
	for i, m := range maxes {
		var got []string
		for range 50 {
			got = append(got, fmt.Sprint(r.Interval(m)))
		}
		var w []string
		for _, v := range want[i] {
			w = append(w, fmt.Sprint(v))
		}
		if strings.Join(got, ",") != strings.Join(w, ",") {
			t.Errorf("Interval(%d): %v, numpy %v", m, got[:3], w[:3])
		}
	}
}
