package augment

import (
	"bufio"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLatencyQuantiles(t *testing.T) {
	tests := []struct {
		name    string
		samples []time.Duration
		q       float64
		want    float64 // seconds, within 5%
	}{
		{"empty", nil, 0.5, 0},
		{"one sample", []time.Duration{250 * time.Millisecond}, 0.99, 0.25},
		{"p50 of 1..100 ms", ramp(100), 0.5, 0.050},
		{"p90 of 1..100 ms", ramp(100), 0.9, 0.090},
		{"p99 of 1..100 ms", ramp(100), 0.99, 0.099},
		{"sub-millisecond", []time.Duration{200 * time.Microsecond}, 0.5, 0.001},
		{"an hour", []time.Duration{time.Hour}, 0.5, 3600},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h latencyHist
			for _, d := range tc.samples {
				h.add(d)
			}
			got := h.quantile(tc.q)
			if math.Abs(got-tc.want) > tc.want*0.05+1e-9 {
				t.Errorf("quantile(%g) = %g s, want %g s within 5%%", tc.q, got, tc.want)
			}
		})
	}
}

func ramp(n int) []time.Duration {
	var out []time.Duration
	for i := 1; i <= n; i++ {
		out = append(out, time.Duration(i)*time.Millisecond)
	}
	return out
}

func TestReadEndpointsFile(t *testing.T) {
	tests := []struct {
		name, text string
		want       []EndpointSpec
		err        string
	}{
		{"urls, caps and comments", "# gpus\nhttp://a:8000/v1 16\n\n  https://b/v1  \n", []EndpointSpec{{"http://a:8000/v1", 16}, {"https://b/v1", 0}}, ""},
		{"empty", "# none yet\n", nil, ""},
		{"not a URL", "a:8000/v1\n", nil, "endpoints.txt:1: want an http:// or https:// URL"},
		{"bad cap", "http://a/v1\nhttp://b/v1 zero\n", nil, `endpoints.txt:2: concurrency "zero": want a positive integer`},
		{"zero cap", "http://b/v1 0\n", nil, `endpoints.txt:1: concurrency "0"`},
		{"three fields", "http://b/v1 2 x\n", nil, "endpoints.txt:1: want URL [CONCURRENCY]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "endpoints.txt")
			if err := os.WriteFile(path, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := ReadEndpointsFile(path)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || len(got) != len(tc.want) {
				t.Fatalf("%+v, %v; want %+v", got, err, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("line %d: %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestEndpointFault(t *testing.T) {
	tests := []struct {
		cause string
		want  bool
	}{
		{CauseConnection, true}, {CauseTimeout, true}, {CauseBadResponse, true},
		{"http-500", true}, {"http-503", true}, {"http-429", false}, {"http-404", false},
		{CauseContext, false}, {CauseTooLarge, false}, {CauseNoEndpoint, false},
	}
	for _, tc := range tests {
		if got := endpointFault(&attemptError{cause: tc.cause}); got != tc.want {
			t.Errorf("endpointFault(%s) = %v, want %v", tc.cause, got, tc.want)
		}
	}
}

func TestReadLineLimit(t *testing.T) {
	in := "short\n" + strings.Repeat("x", 100) + "\nlast"
	r := bufio.NewReaderSize(strings.NewReader(in), 16)
	var got []string
	for {
		line, err := readLine(r, 50)
		switch {
		case errors.Is(err, errLongLine):
			got = append(got, "LONG")
			continue
		case len(line) > 0:
			got = append(got, strings.TrimSuffix(string(line), "\n"))
		}
		if err != nil {
			break
		}
	}
	if strings.Join(got, ",") != "short,LONG,last" {
		t.Errorf("lines %v, want short, LONG, last", got)
	}
}
