package stats

import (
	"context"
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/pipeline"
)

func TestDistQuantiles(t *testing.T) {
	tests := []struct {
		name              string
		values            []int64
		median, p90, mean int64
	}{
		{"small exact", []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 5, 9, 5},
		{"single", []int64{5000}, 5000, 5000, 5000},
		{"large within 1/16", seq(1, 10000), 5000, 9000, 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Dist
			for _, v := range tt.values {
				d.add(v)
			}
			d.finish()
			near := func(got, want int64) bool { return got >= want-want/16-1 && got <= want+want/16+1 }
			if !near(d.Median, tt.median) || !near(d.P90, tt.p90) || !near(int64(d.Mean), tt.mean) {
				t.Errorf("median %d p90 %d mean %.1f; want about %d %d %d", d.Median, d.P90, d.Mean, tt.median, tt.p90, tt.mean)
			}
			if d.Min != tt.values[0] || d.Max != tt.values[len(tt.values)-1] {
				t.Errorf("min %d max %d", d.Min, d.Max)
			}
		})
	}
}

func seq(lo, hi int64) []int64 {
	var out []int64
	for v := lo; v <= hi; v++ {
		out = append(out, v)
	}
	return out
}

func TestBucketRoundTrip(t *testing.T) {
	for _, v := range []int64{0, 31, 32, 33, 100, 1023, 1024, 99999, 1 << 40} {
		got := bucketValue(bucket(v))
		if got < v-v/16 || got > v+v/16 {
			t.Errorf("bucket value of %d is %d", v, got)
		}
	}
}

type words struct{}

func (words) Count(s string) int { return len(strings.Fields(s)) }

func TestCollector(t *testing.T) {
	c := NewCollector(words{})
	recs := []*pipeline.Record{
		pipeline.NewRecord("a", []pipeline.Turn{{From: "human", Value: "one two"}, {From: "gpt", Value: strings.Repeat("w ", 1500)}}),
		pipeline.NewRecord("b", []pipeline.Turn{{From: "human", Value: "ß"}}),
	}
	for _, r := range recs {
		var out pipeline.Out
		if err := c.Process(context.Background(), r, &out); err != nil {
			t.Fatal(err)
		}
	}
	s := c.Stats()
	if s.Records != 2 || s.Unit != "tokens" || s.Roles["gpt"].Length.Sum != 1500 || s.Roles["human"].Chars != 8 {
		t.Errorf("stats = %+v, gpt %+v, human %+v", s, s.Roles["gpt"], s.Roles["human"])
	}
	if s.Histogram[0].Count != 1 || s.Histogram[1].Count != 1 {
		t.Errorf("histogram = %+v", s.Histogram)
	}
	var b strings.Builder
	s.WriteText(&b)
	if !strings.Contains(strings.Join(strings.Fields(b.String()), " "), "[1024, 2048) 1 50.0% ####") || strings.Contains(b.String(), " \n") {
		t.Errorf("text:\n%s", b.String())
	}
}
