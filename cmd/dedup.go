package cmd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sharegpt/sharegpt/dedup"
	"github.com/sharegpt/sharegpt/pipeline"
)

func newDedupCmd(ios *IOStreams) *cobra.Command {
	var f ioFlags
	var opt dedup.Options
	var (
		key, mode, keep, shingle string
		clusters, memLimit       string
		against                  []string
		signatures, decisions    string
		merge                    bool
	)
	c := &cobra.Command{
		Use:   "dedup [INPUT...]",
		Short: "Remove exact and near-duplicate conversations",
		Long: `Dedup removes duplicate conversations: exact duplicates (equal normalised
keys) and, in near mode (the default), near duplicates found by MinHash LSH
and verified by their estimated Jaccard similarity. Duplicates form clusters
(union-find); one record of each cluster is kept (--keep) and the others are
rejected with reason "duplicate", naming the kept record's id ("related") and
the similarity. --against drops records that duplicate any record of other
files (a test set, last month's dump) without writing those files' records:
reason "duplicate-against".

The inputs are read twice: once to compute a compact state per record (key
hash, MinHash signature, length), once to write. Stdin is spooled to a
temporary file for the second reading. The chosen LSH parameters and their
detection curve are printed on stderr (and in --report) unless -q.

Sharded runs (N machines, each with --shard i/N) give exactly the records an
unsharded run keeps, in three steps: each shard writes its pass-1 state
(--signatures FILE, no records written); one merge reads every state file
(--merge STATE... --decisions FILE [--clusters FILE]) and decides; each
shard then filters its part with the decisions (--decisions FILE -o OUT).`,
		Example: `  sharegpt dedup sharegpt.json -o deduped.json --rejects dups.jsonl --clusters clusters.jsonl
  sharegpt dedup --key first-turn --mode exact train.jsonl -o train.dedup.jsonl
  sharegpt dedup --against test.json train.json -o train.clean.json
  sharegpt dedup --shingle char --ngram 3 zh.jsonl -o zh.dedup.jsonl
  sharegpt dedup --shard 3/8 dump.jsonl --signatures sig-3.bin
  sharegpt dedup --merge sig-*.bin --decisions decisions.jsonl --clusters clusters.jsonl
  sharegpt dedup --shard 3/8 dump.jsonl --decisions decisions.jsonl -o dedup-3.jsonl`,
		RunE: func(c *cobra.Command, args []string) error {
			var err error
			if opt.Key, err = dedup.ParseKey(key); err != nil {
				return usageError(err)
			}
			if opt.Mode, err = dedup.ParseMode(mode); err != nil {
				return usageError(err)
			}
			if opt.Keep, err = dedup.ParseKeep(keep); err != nil {
				return usageError(err)
			}
			if opt.Shingle, err = dedup.ParseShingle(shingle); err != nil {
				return usageError(err)
			}
			if memLimit != "" {
				if opt.MemoryLimit, err = pipeline.ParseSize(memLimit); err != nil {
					return usageError(fmt.Errorf("--memory-limit: %w", err))
				}
			}
			if opt.Threshold == 0 {
				return usageError(fmt.Errorf("--threshold must be in (0, 1], got 0"))
			}
			if slices.Contains(against, "-") {
				return usageError(fmt.Errorf("--against cannot read stdin"))
			}
			if (merge || signatures != "") && len(against) > 0 {
				return usageError(fmt.Errorf("--against cannot be sharded: dedup the merged output against it"))
			}
			if merge {
				return dedupMerge(ios, opt, append(slices.Clone(f.inputs), args...), decisions, clusters, f.quiet)
			}
			job, err := f.job("dedup", args, ios)
			if err != nil {
				return err
			}
			job.Protect = append(slices.Clone(against), decisions)
			switch {
			case signatures != "":
				job.Output = "" // pass 1 writes the state, no records
				job.OtherFiles = []string{signatures}
				return dedup.SignShard(c.Context(), opt, job, signatures)
			case decisions != "":
				if err := dedup.FilterShard(job, decisions); err != nil {
					return err
				}
				_, err = f.run(c.Context(), job, ios)
				return err
			}
			job.OtherFiles = []string{clusters}
			if clusters == "-" && job.Output == "-" {
				return usageError(fmt.Errorf("--clusters - needs -o to name a file: records go to stdout"))
			}
			d, err := dedup.New(opt)
			if err != nil {
				return usageError(err)
			}
			defer d.Close()
			_, err = d.Run(c.Context(), job, dedup.RunOptions{
				Against:      against,
				ClustersPath: clusters,
				Final: func(ctx context.Context, job *pipeline.Job) (*pipeline.Report, error) {
					return f.run(ctx, job, ios)
				},
			})
			if err != nil {
				return err
			}
			if !f.quiet { // one write at the end, as every command's summary
				var b bytes.Buffer
				printDedupParams(&b, d)
				st := d.Stats()
				fmt.Fprintf(&b, "dedup: %d clusters, %d duplicates, %d duplicates of --against records; %d candidate pairs, %d verified; %d state bytes per record, %.1f MB in memory, %.1f MB spilled\n",
					st.Clusters, st.Duplicates, st.AgainstMatches, st.CandidatePairs, st.VerifiedPairs,
					st.BytesPerRecord, float64(st.StateBytes)/1e6, float64(st.SpilledBytes)/1e6)
				ios.ErrOut.Write(b.Bytes())
			}
			return nil
		},
	}
	f.bind(c, true)
	fl := c.Flags()
	fl.StringVar(&key, "key", "conversation", "what is compared: conversation, first-turn (first human turn), human (all human turns), gpt (all gpt turns) or id")
	fl.StringVar(&mode, "mode", "near", "exact (equal normalised keys) or near (MinHash LSH; includes exact)")
	fl.StringVar(&keep, "keep", "first", "which record of a cluster is kept: first, longest (characters) or most-turns; ties go to the earliest")
	fl.BoolVar(&opt.Normalize, "normalize", true, "compare text in Unicode NFC, case folded, white space collapsed (--normalize=false compares raw text)")
	fl.BoolVar(&opt.StripPunct, "strip-punct", false, "with --normalize, treat punctuation and symbols as white space")
	fl.Float64Var(&opt.Threshold, "threshold", dedup.DefaultThreshold, "near mode: Jaccard similarity of shingle sets at or above which records are duplicates")
	fl.IntVar(&opt.NGram, "ngram", dedup.DefaultNGram, "near mode: shingle length in words or characters")
	fl.StringVar(&shingle, "shingle", "word", "near mode: shingle unit, word or char (for languages written without spaces)")
	fl.IntVar(&opt.Permutations, "permutations", dedup.DefaultPermutations, "near mode: MinHash signature length")
	fl.IntVar(&opt.Bands, "bands", 0, "near mode: LSH bands (default: derived from --threshold and --permutations)")
	fl.IntVar(&opt.Rows, "rows", 0, "near mode: LSH rows per band (default: derived, with --bands)")
	fl.StringVar(&clusters, "clusters", "", "write the clusters as JSONL to this file: cluster, kept id, members with their similarity to the kept one")
	fl.StringArrayVar(&against, "against", nil, "drop records that duplicate a record of this file (repeatable); its records are never written")
	fl.StringVar(&memLimit, "memory-limit", "", "keep at most this much signature state in memory (512MB, 2GiB); the rest is spilled to --temp-dir")
	fl.StringVar(&opt.TempDir, "temp-dir", "", "directory for spilled state and spooled stdin (default: the system's)")
	fl.StringVar(&signatures, "signatures", "", "sharded runs: write this shard's pass-1 state to FILE and no records")
	fl.BoolVar(&merge, "merge", false, "sharded runs: read the inputs as --signatures files of every shard, find the duplicates and write --decisions")
	fl.StringVar(&decisions, "decisions", "", "sharded runs: with --merge, write the decisions to FILE; otherwise filter this shard with them")
	return c
}

// printDedupParams prints the chosen parameters and the detection curve.
func printDedupParams(w io.Writer, d *dedup.Deduper) {
	o := d.Options()
	norm := "raw text"
	if o.Normalize {
		norm = "normalised (NFC, case folded, white space collapsed"
		if o.StripPunct {
			norm += ", punctuation stripped"
		}
		norm += ")"
	}
	if o.Mode == dedup.ModeExact {
		fmt.Fprintf(w, "dedup: exact duplicates by %s, %s; keep %s; %d state bytes per record (+ id)\n", o.Key, norm, o.Keep, d.BytesPerRecord())
		return
	}
	p := d.Params()
	fmt.Fprintf(w, "dedup: near duplicates by %s, %s %d-grams, %s; threshold %.2f; keep %s\n", o.Key, o.Shingle, o.NGram, norm, o.Threshold, o.Keep)
	fmt.Fprintf(w, "dedup: MinHash LSH: %d permutations, %d bands x %d rows (false-positive area %.4f, false-negative area %.4f); %d state bytes per record (+ id)\n",
		p.Permutations, p.Bands, p.Rows, p.FalsePositive, p.FalseNegative, d.BytesPerRecord())
	var s, cand, det strings.Builder
	for _, c := range p.Curve {
		fmt.Fprintf(&s, " %6.2f", c.Similarity)
		fmt.Fprintf(&cand, " %6.3f", c.Candidate)
		fmt.Fprintf(&det, " %6.3f", c.Detected)
	}
	fmt.Fprintf(w, "dedup:   similarity         %s\n", s.String())
	fmt.Fprintf(w, "dedup:   1-(1-s^r)^b        %s  (becomes a candidate)\n", cand.String())
	fmt.Fprintf(w, "dedup:   and verified       %s  (estimate >= threshold)\n", det.String())
}

// dedupMerge merges the shards' states and writes the decisions.
func dedupMerge(ios *IOStreams, opt dedup.Options, states []string, decisions, clusters string, quiet bool) error {
	if decisions == "" {
		return usageError(fmt.Errorf("--merge needs --decisions FILE"))
	}
	if len(states) == 0 {
		return usageError(fmt.Errorf("--merge needs the --signatures files of every shard as inputs"))
	}
	st, err := dedup.Merge(opt, dedup.MergeOptions{States: states, Decisions: decisions, Clusters: clusters, Stdout: ios.Out})
	if err != nil {
		return err
	}
	if !quiet {
		fmt.Fprintf(ios.ErrOut, "dedup --merge: %d records from %d shards: %d clusters, %d duplicates; %d candidate pairs, %d verified\n",
			st.Records, len(states), st.Clusters, st.Duplicates, st.CandidatePairs, st.VerifiedPairs)
	}
	return nil
}
