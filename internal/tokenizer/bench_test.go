package tokenizer

import (
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// benchTurns returns the turns of the ShareGPT V3 sample, or generated
// English-like text when the shared data is absent.
func benchTurns(b *testing.B) []string {
	turns, err := turnTexts(filepath.Join(sharedDataDir(), "sharegpt", "sharegpt_v3_sample_1000.json"))
	if err != nil || len(turns) == 0 {
		b.Logf("shared data unavailable (%v); using generated text", err)
		s := strings.Repeat("The quick brown fox jumps over the lazy dog.\n    if x:\n        return 中文 😀\n", 100)
		return []string{s}
	}
	return turns
}

func benchEncode(b *testing.B, texts []string) {
	tok := Default()
	var bytes, tokens int
	for _, s := range texts {
		bytes += len(s)
		tokens += tok.Count(s)
	}
	var dst []int
	b.SetBytes(int64(bytes))
	b.ResetTimer()
	for range b.N {
		for _, s := range texts {
			dst = tok.AppendEncode(dst[:0], s)
		}
	}
	b.ReportMetric(float64(tokens)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(tokens)/float64(b.N), "ns/token")
}

// BenchmarkEncodeShareGPT encodes every turn of the ShareGPT sample.
func BenchmarkEncodeShareGPT(b *testing.B) { benchEncode(b, benchTurns(b)) }

// sizedText cuts ShareGPT text into pieces of n bytes (on rune boundaries)
// holding 256 KB in all, so that 1 KB and 64 KB inputs cover the same text.
func sizedText(b *testing.B, n int) []string {
	all := strings.Join(benchTurns(b), "\n")
	for len(all) < 256<<10 {
		all += all
	}
	all = all[:256<<10]
	return cut(all, n)
}

// cut splits s into pieces of at most n bytes on rune boundaries,
// dropping a short tail.
func cut(s string, n int) []string {
	var out []string
	for len(s) >= n {
		k := n
		for k < len(s) && k > 0 && !utf8.RuneStart(s[k]) {
			k--
		}
		out = append(out, s[:k])
		s = s[k:]
	}
	return out
}

func BenchmarkEncode1KB(b *testing.B)  { benchEncode(b, sizedText(b, 1<<10)) }
func BenchmarkEncode64KB(b *testing.B) { benchEncode(b, sizedText(b, 64<<10)) }

// BenchmarkEncodeCJK64KB: Chinese text has no spaces, so it is one chunk
// merged with the heap.
func BenchmarkEncodeCJK64KB(b *testing.B) {
	turns, err := turnTexts(filepath.Join(sharedDataDir(), "multilingual", "sharegpt_zh_1k.jsonl"))
	if err != nil {
		b.Skip(err)
	}
	var sb strings.Builder
	for _, t := range turns {
		sb.WriteString(strings.ReplaceAll(t, " ", ""))
		if sb.Len() > 256<<10 {
			break
		}
	}
	benchEncode(b, cut(sb.String(), 64<<10))
}

func BenchmarkCountShareGPT(b *testing.B) {
	tok := Default()
	texts := benchTurns(b)
	tokens := 0
	for _, s := range texts {
		tokens += tok.Count(s)
	}
	b.ResetTimer()
	for range b.N {
		for _, s := range texts {
			tok.Count(s)
		}
	}
	b.ReportMetric(float64(tokens)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

func BenchmarkEncodeOffsetsShareGPT(b *testing.B) {
	tok := Default()
	texts := benchTurns(b)
	tokens := 0
	for _, s := range texts {
		tokens += tok.Count(s)
	}
	b.ResetTimer()
	for range b.N {
		for _, s := range texts {
			tok.EncodeOffsets(s)
		}
	}
	b.ReportMetric(float64(tokens)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}
