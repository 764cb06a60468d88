package clean

import (
	"context"
	"sync"
	"testing"

	"github.com/sharegpt/sharegpt/internal/corpus"
	"github.com/sharegpt/sharegpt/pipeline"
)

var (
	rawOnce  sync.Once
	rawRecs  []*pipeline.Record
	rawBytes int64
	rawErr   error
)

// rawDump is a raw dump of 1,000 conversations drawn from the sample, as
// scripts/bench.sh and tools/gencorpus -html make them: assistant turns in
// share-page HTML, one turn in ten with scraper noise.
func rawDump(b testing.TB) ([]*pipeline.Record, int64) {
	rawOnce.Do(func() {
		var recs []*pipeline.Record
		if recs, rawErr = corpus.Load(context.Background(), mdSamplePath); rawErr != nil {
			return
		}
		gen, err := corpus.New(corpus.Options{Seed: 1, HTML: true, Noise: 0.1}, corpus.Source{Name: "sample", Weight: 1, Records: recs})
		if rawErr = err; err != nil {
			return
		}
		for range 1000 {
			rec, _, err := gen.Next()
			if rawErr = err; err != nil {
				return
			}
			rawRecs = append(rawRecs, rec)
			rawBytes += int64(len(pipeline.AppendRecord(nil, rec, pipeline.OutShareGPT)))
		}
	})
	if rawErr != nil {
		b.Skipf("raw dump: %v", rawErr)
	}
	return rawRecs, rawBytes
}

// benchStage runs the clean stage over the raw dump on one goroutine: MB/s
// of raw JSON per core, and records/s.
func benchStage(b *testing.B, opts Options) {
	recs, n := rawDump(b)
	s := NewStage(opts)
	ctx := context.Background()
	b.SetBytes(n)
	b.ReportAllocs()
	b.ResetTimer()
	start := benchCPUTime()
	defer func() { reportCPU(b, start, n) }()
	for i := 0; i < b.N; i++ {
		for _, r := range recs {
			var out pipeline.Out
			if err := s.Process(ctx, r.Clone(), &out); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(recs)*b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkStage: conversion and FastChat's filters, no language filter.
func BenchmarkStage(b *testing.B) { benchStage(b, Options{}) }

// BenchmarkStageLangAll: with --keep-lang en over all 75 candidates.
func BenchmarkStageLangAll(b *testing.B) { benchStage(b, langOptions(b, nil)) }

// BenchmarkStageLang8: with --keep-lang en and 8 candidate languages.
func BenchmarkStageLang8(b *testing.B) {
	benchStage(b, langOptions(b, []string{"en", "zh", "ko", "ja", "de", "fr", "es", "ru"}))
}

func langOptions(b *testing.B, candidates []string) Options {
	f, err := NewLanguageFilter(LanguageOptions{Keep: []string{"en"}, Candidates: candidates})
	if err != nil {
		b.Fatal(err)
	}
	return Options{Language: f}
}
