// Package stats reports what a conversation dataset holds: records, turns
// per conversation, characters per role, turn lengths, and a histogram of
// conversation lengths in FastChat's bins (characters, or tokens when a
// counter is given).
//
// A [Collector] is a pipeline stage: it observes records and passes them
// on unchanged, so stats can run over any input or at the end of a chain.
package stats

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/sharegpt/sharegpt/internal/lengthhist"
	"github.com/sharegpt/sharegpt/pipeline"
)

// Counter counts the tokens of a text (a tokenizer); nil counts characters.
type Counter interface {
	Count(text string) int
}

// Collector gathers statistics; it is safe for concurrent use.
type Collector struct {
	counter Counter
	mu      sync.Mutex
	s       Stats
	hist    lengthhist.Histogram
}

// NewCollector returns a collector; counter may be nil.
func NewCollector(counter Counter) *Collector {
	c := &Collector{counter: counter}
	c.s.Unit = "chars"
	if counter != nil {
		c.s.Unit = "tokens"
	}
	c.s.Roles = map[string]*RoleStats{}
	return c
}

// Name implements pipeline.Stage.
func (c *Collector) Name() string { return "stats" }

// Process implements pipeline.Stage: it observes rec and keeps it.
func (c *Collector) Process(_ context.Context, rec *pipeline.Record, out *pipeline.Out) error {
	type turnLen struct {
		role         string
		chars, units int64
	}
	lens := make([]turnLen, len(rec.Conversations))
	var total int64
	for i, t := range rec.Conversations {
		chars := int64(utf8.RuneCountInString(t.Value))
		units := chars
		if c.counter != nil {
			units = int64(c.counter.Count(t.Value))
		}
		lens[i] = turnLen{t.From, chars, units}
		total += units
	}
	c.mu.Lock()
	s := &c.s
	s.Records++
	s.Turns.add(int64(len(rec.Conversations)))
	s.Length.add(total)
	c.hist.Add(total)
	for _, l := range lens {
		r := s.Roles[l.role]
		if r == nil {
			r = &RoleStats{}
			s.Roles[l.role] = r
		}
		r.Turns++
		r.Chars += l.chars
		r.Length.add(l.units)
	}
	c.mu.Unlock()
	out.Keep(rec)
	return nil
}

// Stats returns what was collected.
func (c *Collector) Stats() *Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s
	s.Histogram = c.hist.Bins()
	s.Turns.finish()
	s.Length.finish()
	for _, r := range s.Roles {
		r.Length.finish()
	}
	return &s
}

// Stats describes a dataset.
type Stats struct {
	Records   int64                 `json:"records"`
	Unit      string                `json:"unit"` // "chars" or "tokens"
	Turns     Dist                  `json:"turns_per_conversation"`
	Length    Dist                  `json:"conversation_length"`
	Roles     map[string]*RoleStats `json:"roles"`
	Histogram []lengthhist.Bin      `json:"histogram"`
}

// RoleStats describes the turns of one role.
type RoleStats struct {
	Turns  int64 `json:"turns"`
	Chars  int64 `json:"chars"`
	Length Dist  `json:"turn_length"`
}

// Dist summarises a distribution of non-negative integers with bounded
// memory: exact count, sum, min and max; median and p90 from log-spaced
// buckets (within 1/16 of the true value).
type Dist struct {
	Count   int64   `json:"count"`
	Sum     int64   `json:"sum"`
	Min     int64   `json:"min"`
	Max     int64   `json:"max"`
	Mean    float64 `json:"mean"`
	Median  int64   `json:"median"`
	P90     int64   `json:"p90"`
	buckets map[int]int64
}

// bucket maps v to a bucket: exact below 32, then 16 per power of two.
func bucket(v int64) int {
	if v < 32 {
		return int(v)
	}
	e := bits.Len64(uint64(v)) - 1 // v in [2^e, 2^(e+1))
	sub := (v >> (e - 4)) & 15
	return 32 + (e-5)*16 + int(sub)
}

// bucketValue is the middle of a bucket.
func bucketValue(b int) int64 {
	if b < 32 {
		return int64(b)
	}
	e := (b-32)/16 + 5
	sub := int64((b - 32) % 16)
	lo := int64(1)<<e + sub<<(e-4)
	return lo + (int64(1)<<(e-4))/2
}

func (d *Dist) add(v int64) {
	if d.Count == 0 || v < d.Min {
		d.Min = v
	}
	if v > d.Max {
		d.Max = v
	}
	d.Count++
	d.Sum += v
	if d.buckets == nil {
		d.buckets = map[int]int64{}
	}
	d.buckets[bucket(v)]++
}

func (d *Dist) finish() {
	if d.Count == 0 {
		return
	}
	d.Mean = math.Round(float64(d.Sum)/float64(d.Count)*100) / 100
	d.Median = d.quantile(0.5)
	d.P90 = d.quantile(0.9)
}

func (d *Dist) quantile(q float64) int64 {
	rank := int64(math.Ceil(q * float64(d.Count)))
	var seen int64
	for b := 0; b < 32+64*16; b++ {
		seen += d.buckets[b]
		if seen >= rank {
			v := bucketValue(b)
			return min(max(v, d.Min), d.Max)
		}
	}
	return d.Max
}

// WriteText writes the human-readable summary.
func (s *Stats) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "records\t%d\n", s.Records)
	fmt.Fprintf(tw, "turns per conversation\t%s\n", s.Turns.text())
	fmt.Fprintf(tw, "conversation length (%s)\t%s\n", s.Unit, s.Length.text())
	for _, role := range sortedRoles(s.Roles) {
		r := s.Roles[role]
		fmt.Fprintf(tw, "%s turns\t%d, %d chars; length (%s) %s\n", role, r.Turns, r.Chars, s.Unit, r.Length.text())
	}
	fmt.Fprintf(tw, "\nlength (%s)\tconversations\n", s.Unit)
	for _, b := range s.Histogram {
		to := "inf"
		if b.To >= 0 {
			to = fmt.Sprint(b.To)
		}
		share := 0.0
		if s.Records > 0 {
			share = 100 * float64(b.Count) / float64(s.Records)
		}
		bar := strings.Repeat("#", int(share/2))
		if bar != "" {
			bar = " " + bar
		}
		fmt.Fprintf(tw, "[%d, %s)\t%d\t%5.1f%%%s\n", b.From, to, b.Count, share, bar)
	}
	return tw.Flush()
}

func (d Dist) text() string {
	if d.Count == 0 {
		return "-"
	}
	return fmt.Sprintf("mean %.1f, median %d, p90 %d, min %d, max %d", d.Mean, d.Median, d.P90, d.Min, d.Max)
}

func sortedRoles(m map[string]*RoleStats) []string {
	order := []string{pipeline.RoleSystem, pipeline.RoleHuman, pipeline.RoleGPT}
	var out []string
	for _, r := range order {
		if m[r] != nil {
			out = append(out, r)
		}
	}
	var rest []string
	for r := range m {
		if r != pipeline.RoleSystem && r != pipeline.RoleHuman && r != pipeline.RoleGPT {
			rest = append(rest, r)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// ReportDetails implements pipeline.DetailedStage: the run report holds the
// statistics.
func (c *Collector) ReportDetails() any { return c.Stats() }
