package tokenize

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/internal/chat"
	"github.com/sharegpt/sharegpt/internal/tokenizer"
	"github.com/sharegpt/sharegpt/pipeline"
)

// benchConversations are the records of the ShareGPT V3 sample (1,000
// real conversations, cleaned and split at 2048 tokens).
func benchConversations(b *testing.B) []conversation {
	var out []conversation
	for _, c := range dataConversations(b) {
		if strings.HasSuffix(c.file, "sharegpt_v3_sample_1000.json") {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		b.Skip("sharegpt_v3_sample_1000.json not found")
	}
	return out
}

// benchEncode renders and tokenizes every conversation of the sample on
// one goroutine, so the figures are per core: conversations/s, and
// tokens/s counting the tokens written (BOS, template and text).
func benchEncode(b *testing.B, template string, legacy bool) {
	convs := benchConversations(b)
	tmpl, err := chat.Lookup(template)
	if err != nil {
		b.Fatal(err)
	}
	enc, err := NewEncoder(tokenizer.Default(), tmpl, legacy)
	if err != nil {
		b.Fatal(err)
	}
	var tokens, bytes int
	rendered := make([]chat.Rendered, len(convs))
	for i, c := range convs {
		system, msgs := lenientMessages(tmpl, c.turns)
		r, _ := tmpl.Render(system, msgs)
		rendered[i] = r
		bytes += len(r.Text)
		tokens += len(enc.Encode(&r).IDs)
	}
	b.SetBytes(int64(bytes))
	b.ResetTimer()
	for range b.N {
		for _, c := range convs {
			system, msgs := lenientMessages(tmpl, c.turns)
			r, _ := tmpl.Render(system, msgs)
			enc.Encode(&r)
		}
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(len(convs))*float64(b.N)/sec, "conversations/s")
	b.ReportMetric(float64(tokens)*float64(b.N)/sec, "tokens/s")
}

func BenchmarkEncodeVicuna(b *testing.B)       { benchEncode(b, "vicuna_v1.1", false) }
func BenchmarkEncodeVicunaLegacy(b *testing.B) { benchEncode(b, "vicuna_v1.1", true) }
func BenchmarkEncodeLlama2(b *testing.B)       { benchEncode(b, "llama-2", false) }
func BenchmarkEncodeChatML(b *testing.B)       { benchEncode(b, "chatml", false) }

// BenchmarkTokenizeOnly is the tokenizer alone on the same rendered texts
// (tokenizer.Encode of the whole string, no labels): what the template and
// labels cost on top.
func BenchmarkTokenizeOnly(b *testing.B) {
	convs := benchConversations(b)
	tmpl, _ := chat.Lookup("vicuna_v1.1")
	tok := tokenizer.Default()
	var texts []string
	var tokens, bytes int
	for _, c := range convs {
		system, msgs := lenientMessages(tmpl, c.turns)
		r, _ := tmpl.Render(system, msgs)
		texts = append(texts, r.Text)
		bytes += len(r.Text)
		tokens += tok.Count(r.Text)
	}
	b.SetBytes(int64(bytes))
	b.ResetTimer()
	for range b.N {
		for _, s := range texts {
			tok.Encode(s)
		}
	}
	b.ReportMetric(float64(tokens)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkRows is the whole stage per record (roles, template, tokens,
// labels, the JSON row) and, for Parquet, the table writer on top, on
// one goroutine: rows/s and tokens/s.
func BenchmarkRows(b *testing.B) {
	convs := benchConversations(b)
	st, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	var recs []*pipeline.Record
	var rows []*pipeline.Record
	tokens := 0
	for _, c := range convs {
		rec := pipeline.NewRecord(c.id, c.turns)
		ex, rerr := st.Encode(c.turns)
		if rerr != nil {
			continue
		}
		row, err := ex.Record(rec)
		if err != nil {
			b.Fatal(err)
		}
		recs, rows = append(recs, rec), append(rows, row)
		tokens += len(ex.IDs)
	}
	report := func(b *testing.B) {
		sec := b.Elapsed().Seconds()
		b.ReportMetric(float64(len(recs))*float64(b.N)/sec, "rows/s")
		b.ReportMetric(float64(tokens)*float64(b.N)/sec, "tokens/s")
	}
	b.Run("stage", func(b *testing.B) {
		for range b.N {
			for _, rec := range recs {
				ex, _ := st.Encode(rec.Conversations)
				if _, err := ex.Record(rec); err != nil {
					b.Fatal(err)
				}
			}
		}
		report(b)
	})
	tables := []struct {
		name string
		opts TableOptions
	}{
		{"parquet-rowgroup-100", TableOptions{Path: "t.parquet"}},
		{"parquet-rowgroup-1000", TableOptions{Path: "t.parquet", Write: pipeline.WriteOptions{RowGroupSize: 1000}}},
		{"arrow-stream", TableOptions{Path: "t.arrows"}},
	}
	for _, tc := range tables {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				o := tc.opts
				o.Path = filepath.Join(b.TempDir(), o.Path)
				sink, err := OpenTable(o)
				if err != nil {
					b.Fatal(err)
				}
				for _, row := range rows {
					if err := sink.Write(row); err != nil {
						b.Fatal(err)
					}
				}
				if err := sink.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			report(b)
		})
	}
}
