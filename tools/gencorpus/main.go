// Command gencorpus writes a large, deterministic ShareGPT dataset for
// benchmarks from real records: Markdown records, or (-html) a raw dump
// whose assistant turns are share-page HTML, with optional scraper noise,
// exact re-shares and near-duplicates. See package internal/corpus.
//
//	go run ./tools/gencorpus -size 1GB -o big.json
//	go run ./tools/gencorpus -html -n 5000 -noise 0.1 -o raw-5k.json
//	go run ./tools/gencorpus -html -mosaic -size 1GB -dup 0.04 -near 0.03 \
//	    -from testdata/sharegpt/sharegpt_v3_sample_1000.json:0.85,testdata/multilingual/sharegpt_zh_1k.jsonl:0.1,testdata/sharegpt/vicuna_long_multilingual_sample.json:0.05 \
//	    -o raw-1g.json
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sharegpt/sharegpt/internal/corpus"
	"github.com/sharegpt/sharegpt/pipeline"
)

func main() {
	var (
		size  = flag.String("size", "", "approximate output size (KB, MB, GB); default 100MB unless -n is given")
		n     = flag.Int("n", 0, "number of records (instead of -size)")
		from  = flag.String("from", "testdata/sharegpt/sharegpt_v3_sample_1000.json", "comma-separated source files, each optionally PATH:WEIGHT")
		out   = flag.String("o", "-", "output file (.json or .jsonl)")
		opts  corpus.Options
		seed  = flag.Uint64("seed", 1, "random seed")
		stats = flag.Bool("stats", false, "print how many records of each kind were written")
	)
	flag.BoolVar(&opts.HTML, "html", false, "render assistant turns as share-page HTML (a raw dump)")
	flag.Float64Var(&opts.Noise, "noise", 0, "share of turns with scraper noise (with -html)")
	flag.Float64Var(&opts.Dup, "dup", 0, "share of exact re-shares")
	flag.Float64Var(&opts.Near, "near", 0, "share of near-duplicate re-shares")
	flag.BoolVar(&opts.Mosaic, "mosaic", false, "make every original distinct: assistant turns completed from another conversation")
	flag.Parse()
	opts.Seed = *seed
	if err := run(context.Background(), *from, *out, *size, *n, opts, *stats); err != nil {
		fmt.Fprintln(os.Stderr, "gencorpus:", err)
		os.Exit(1)
	}
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"KB": 1e3, "MB": 1e6, "GB": 1e9} {
		if strings.HasSuffix(strings.ToUpper(s), suffix) {
			s, mult = s[:len(s)-2], m
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	return int64(n * float64(mult)), err
}

func sources(ctx context.Context, list string) ([]corpus.Source, error) {
	var out []corpus.Source
	for _, item := range strings.Split(list, ",") {
		path, weight := item, 1.0
		if i := strings.LastIndexByte(item, ':'); i > 0 {
			w, err := strconv.ParseFloat(item[i+1:], 64)
			if err != nil {
				return nil, fmt.Errorf("-from %s: bad weight: %w", item, err)
			}
			path, weight = item[:i], w
		}
		recs, err := corpus.Load(ctx, path)
		if err != nil {
			return nil, err
		}
		out = append(out, corpus.Source{Name: filepath.Base(path), Weight: weight, Records: recs})
	}
	return out, nil
}

func run(ctx context.Context, from, out, size string, n int, opts corpus.Options, stats bool) error {
	if size == "" && n == 0 {
		size = "100MB"
	}
	limit := int64(-1)
	if size != "" {
		var err error
		if limit, err = parseSize(size); err != nil {
			return fmt.Errorf("bad -size: %w", err)
		}
	}
	srcs, err := sources(ctx, from)
	if err != nil {
		return err
	}
	gen, err := corpus.New(opts, srcs...)
	if err != nil {
		return err
	}
	reg := pipeline.NewRegistry(pipeline.JSONFormats()...)
	w, err := reg.Create(out, os.Stdout, pipeline.WriteOptions{})
	if err != nil {
		return err
	}
	var kinds [3]int
	for i := 0; (n == 0 || i < n) && (limit < 0 || w.Bytes() < limit); i++ {
		rec, kind, err := gen.Next()
		if err == nil {
			err = w.Write(rec)
		}
		if err != nil {
			w.Abort()
			return err
		}
		kinds[kind]++
	}
	if err := w.Commit(); err != nil {
		return err
	}
	if stats {
		fmt.Fprintf(os.Stderr, "records %d: original %d, exact re-shares %d, near-duplicates %d; %d bytes\n",
			kinds[0]+kinds[1]+kinds[2], kinds[0], kinds[1], kinds[2], w.Bytes())
	}
	return nil
}
