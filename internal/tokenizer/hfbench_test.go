package tokenizer

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var rustSpeed sync.Map // model name -> float64 tokens/s

// rustTokensPerSecond runs encode.mjs bench: the Rust tokenizers on one
// thread (RAYON_NUM_THREADS=1), the same texts, the best of 3 rounds.
func rustTokensPerSecond(b *testing.B, name string, texts []string) float64 {
	if v, ok := rustSpeed.Load(name); ok {
		return v.(float64)
	}
	in := filepath.Join(b.TempDir(), "in.jsonl")
	var sb strings.Builder
	for _, s := range texts {
		j, _ := json.Marshal(s)
		sb.Write(j)
		sb.WriteByte('\n')
	}
	if err := os.WriteFile(in, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	abs, _ := filepath.Abs(filepath.Join(modelDir(name), "tokenizer.json"))
	cmd := exec.Command("node", "encode.mjs", "bench", abs, in, "3")
	cmd.Dir = tokenizersDir()
	cmd.Env = append(os.Environ(), "RAYON_NUM_THREADS=1", "TOKENIZERS_PARALLELISM=false")
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("encode.mjs bench: %v", err)
	}
	var r struct {
		Tokens      int     `json:"tokens"`
		TokensPerS  float64 `json:"tokens_per_s"`
		SecondsBest float64 `json:"seconds"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		b.Fatalf("encode.mjs bench: %v: %s", err, out)
	}
	rustSpeed.Store(name, r.TokensPerS)
	return r.TokensPerS
}

// BenchmarkHFEncode encodes every turn of the ShareGPT sample with the
// Llama 3 and Qwen 3 tokenizer.json files on one goroutine and reports
// tokens/s beside the Rust tokenizers' (rust-tokens/s), measured on one
// thread on the same texts in the same run.
func BenchmarkHFEncode(b *testing.B) {
	texts, err := turnTexts(filepath.Join(sharedDataDir(), "sharegpt", "sharegpt_v3_sample_1000.json"))
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"llama3", "qwen3"} {
		b.Run(name, func(b *testing.B) {
			tok := loadHF(b, name)
			tokens := 0
			for _, s := range texts {
				tokens += tok.Count(s)
			}
			rust := rustTokensPerSecond(b, name, texts)
			var dst []int
			b.ResetTimer()
			for range b.N {
				for _, s := range texts {
					dst = tok.AppendEncode(dst[:0], s)
				}
			}
			b.ReportMetric(float64(tokens)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
			b.ReportMetric(rust, "rust-tokens/s")
		})
	}
}
