package split

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/sharegpt/sharegpt/internal/tokenizer"
	"github.com/sharegpt/sharegpt/pipeline"
)

// benchRecords returns the conversations of the ShareGPT V3 sample.
func benchRecords(b *testing.B) [][]pipeline.Turn {
	data, err := os.ReadFile("../testdata/sharegpt/sharegpt_v3_sample_1000.json")
	if err != nil {
		b.Skipf("real data unavailable: %v", err)
	}
	var recs []struct {
		Conversations []pipeline.Turn `json:"conversations"`
	}
	if err := json.Unmarshal(data, &recs); err != nil {
		b.Fatal(err)
	}
	var out [][]pipeline.Turn
	for _, r := range recs {
		out = append(out, r.Conversations)
	}
	return out
}

// benchPlan splits every record of the sample on one goroutine, so the
// figures are per core: records/s, and tokens/s counting the tokens of
// every turn's text.
func benchPlan(b *testing.B, opts Options) {
	recs := benchRecords(b)
	tok := tokenizer.Default()
	var tokens, bytes int
	for _, r := range recs {
		for _, t := range r {
			tokens += tok.Count(t.Value)
			bytes += len(t.Value)
		}
	}
	st, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(bytes))
	b.ResetTimer()
	for range b.N {
		for _, r := range recs {
			st.Plan(r)
		}
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(len(recs))*float64(b.N)/sec, "records/s")
	b.ReportMetric(float64(tokens)*float64(b.N)/sec, "tokens/s")
}

// BenchmarkSplitFastChat is the default: FastChat's counting at 2048.
func BenchmarkSplitFastChat(b *testing.B) { benchPlan(b, Options{}) }

// BenchmarkSplitFastChat512 cuts most long records.
func BenchmarkSplitFastChat512(b *testing.B) { benchPlan(b, Options{MaxLength: 512}) }

// BenchmarkSplitTemplate counts the templated segments (each pair's text
// is encoded once, plus once more with the system prompt per segment).
func BenchmarkSplitTemplate(b *testing.B) { benchPlan(b, Options{Count: CountTemplate}) }
