// Command gencorpus writes a large, deterministic JSON array of ShareGPT
// records for benchmarks, by repeating real records under new ids.
//
//	go run ./tools/gencorpus -size 1GB -o big.json
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/sharegpt/sharegpt/pipeline"
)

func main() {
	size := flag.String("size", "100MB", "approximate output size (KB, MB, GB)")
	src := flag.String("from", "testdata/sharegpt/sharegpt_v3_sample_1000.json", "records to repeat")
	out := flag.String("o", "-", "output file")
	flag.Parse()
	if err := run(*src, *out, *size); err != nil {
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

func run(src, out, size string) error {
	limit, err := parseSize(size)
	if err != nil {
		return fmt.Errorf("bad -size: %w", err)
	}
	reg := pipeline.NewRegistry(pipeline.JSONFormats()...)
	var recs []*pipeline.Record
	job := &pipeline.Job{Command: "gen", Registry: reg, Inputs: []string{src}, Stages: []pipeline.Stage{collect{&recs}}, Workers: 1}
	if _, err := job.Run(context.Background()); err != nil {
		return err
	}
	w, err := reg.Create(out, os.Stdout, pipeline.WriteOptions{})
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(os.Stderr)
	defer bw.Flush()
	for i := 0; w.Bytes() < limit; i++ {
		r := recs[i%len(recs)].Clone()
		r.SetID(fmt.Sprintf("%s-%d", r.ID, i/len(recs)))
		if err := w.Write(r); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Commit()
}

// collect is an ordered stage that keeps every record in memory.
type collect struct{ recs *[]*pipeline.Record }

func (collect) Name() string { return "collect" }
func (collect) Ordered()     {}
func (c collect) Process(_ context.Context, r *pipeline.Record, out *pipeline.Out) error {
	*c.recs = append(*c.recs, r)
	out.Keep(r)
	return nil
}
