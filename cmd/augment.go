package cmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/sharegpt/sharegpt/augment"
	"github.com/sharegpt/sharegpt/internal/lang"
	"github.com/sharegpt/sharegpt/pipeline"
)

// augmentFlags are augment's flags: bound straight into augment.Options,
// but for those that need parsing or loading first.
type augmentFlags struct {
	opts                                  augment.Options
	method, pivots, roles, tokenizer      string
	promptFile, refusalPhrases, languages string
	extraBody                             string
	dryRun                                bool
}

func newAugmentCmd(ios *IOStreams) *cobra.Command {
	var f ioFlags
	af := augmentFlags{opts: augment.DefaultOptions()}
	c := &cobra.Command{
		Use:   "augment [INPUT...]",
		Short: "Backtranslate or paraphrase turns through a locally hosted chat model",
		Long: `Augment makes new conversations from existing ones through a chat model served
over the OpenAI API (FastChat's openai_api_server, vLLM, llama.cpp's
llama-server, Ollama). --method backtranslate translates each selected turn
into each --pivot language and back; --method paraphrase rewrites it with the
same meaning. Each record is written, followed by its augmented copies
(ORIGINALID#bt-de-0, ORIGINALID#para-0) with the fields augmented_from and
augmentation (method, pivot, model, prompt version, similarity).

Code blocks, inline code, URLs and tables are replaced by placeholders before
a text is sent and restored afterwards. Reject reasons: placeholder-missing,
placeholder-altered, empty-answer, refusal, truncated, wrong-language,
length-ratio, too-similar, too-different (chrF outside [--min-sim,
--max-sim]), request-failed, stopped; with --drop-original also
nothing-to-augment and missing-id.

Every answer is stored in the --cache directory before it is used: rerun the
same command after an interruption, a kill or a stop, and only the requests
that never got an answer are sent; the output is that of an uninterrupted run.
Connection errors, timeouts, malformed answers, 429 and 5xx are retried with
backoff (honouring Retry-After); after --max-consecutive-failures requests in
a row failed for good, or when --max-requests or --max-total-tokens is spent,
no more requests are sent, everything finished so far is written, and the
command says so (exit status 1 after failures, 0 after a budget). The API key
is read from OPENAI_API_KEY and never printed.

Several servers: repeat --base-url (or list them in an --endpoints file, one
"URL [CONCURRENCY]" a line, read again on SIGHUP), e.g. one llama-server or
vLLM per GPU. Every endpoint must serve the same --model (checked at the
start). Each request goes to the endpoint with the fewest requests in flight
(at most --endpoint-concurrency each, --concurrency in all); an endpoint that
fails (connection refused, timeout, 5xx) is taken out, probed on GET
/v1/models with backoff and gets traffic again once healthy; its requests
are retried at once on another endpoint. The run finishes while one endpoint
lives; when none does it stops as above. The summary shows each endpoint's
requests, failures, latency percentiles and tokens/s.

Offline batch (vllm run_batch, the OpenAI Batch API): --emit-batch DIR writes
the requests the cache cannot answer as Batch API JSONL shards
(--shard-rows lines each; custom_id is the cache key) and a manifest, and
sends nothing; --ingest-batch reads the batch's output into the cache and
then writes the output offline, as the online path would with the same
answers. Backtranslation takes two rounds (into the pivot, then back): the
command says which round is next.`,
		Example: `  sharegpt augment -i clean.jsonl -o augmented.jsonl --base-url http://127.0.0.1:8000/v1 --pivot de,fr,zh
  sharegpt augment -i clean.jsonl -o para.jsonl --method paraphrase --roles all --rejects rejected.jsonl
  sharegpt augment -i clean.jsonl --pivot de --dry-run | head
  sharegpt augment -i clean.jsonl -o aug.jsonl --model vicuna-7b --base-url http://gpu0:8000/v1 --base-url http://gpu1:8000/v1 --concurrency 32 --endpoint-concurrency 16
  sharegpt augment -i clean.jsonl -o aug.jsonl --model vicuna-7b --endpoints servers.txt   # kill -HUP to re-read it
  sharegpt augment -i clean.jsonl --model vicuna-7b --emit-batch batch1 --shard-rows 20000
  sharegpt augment -i clean.jsonl -o aug.jsonl --model vicuna-7b --ingest-batch 'results1/*.jsonl' --emit-batch batch2
  sharegpt augment -i clean.jsonl -o aug.jsonl --model vicuna-7b --ingest-batch results1/ --ingest-batch results2/`,
		RunE: func(c *cobra.Command, args []string) error {
			opts, err := af.options(c)
			if err != nil {
				return usageError(err)
			}
			if opts.EmitBatch != "" {
				// --shard-rows sizes the batch files: no output is written.
				opts.ShardRows, f.shardRows = int(f.shardRows), 0
			}
			job, err := f.job("augment", args, ios)
			if err != nil {
				return err
			}
			if af.dryRun {
				opts.DryRun = ios.Out
				job.Output = ""
			}
			if !f.quiet {
				opts.Log = ios.ErrOut
			}
			if err := opts.Validate(); err != nil {
				return usageError(err)
			}
			aug, err := augment.New(c.Context(), opts)
			if err != nil {
				return err
			}
			rep, err := runAugment(c.Context(), &f, job, aug, ios)
			if err != nil {
				return err
			}
			st := aug.Stats()
			if !f.quiet {
				rep.WriteTable(ios.ErrOut)
				st.WriteText(ios.ErrOut)
			}
			stop := aug.Stopped()
			if stop == nil {
				return nil
			}
			msg := fmt.Sprintf("augment stopped: %s; everything finished so far is written and its answers are cached in %s: rerun the same command to go on", stop.Detail, opts.CacheDir)
			if stop.Cause == augment.StopFailures {
				return &exitError{code: ExitFailure, err: fmt.Errorf("%s", msg)}
			}
			fmt.Fprintf(ios.ErrOut, "sharegpt: %s\n", msg)
			return nil
		},
	}
	f.bind(c, true)
	fl := c.Flags()
	fl.StringArrayVar(&af.opts.BaseURLs, "base-url", nil, "OpenAI-compatible API root; repeat for several servers of the same model (default "+augment.DefaultBaseURL+")")
	fl.StringVar(&af.opts.EndpointsFile, "endpoints", "", `file of API roots, one "URL [CONCURRENCY]" a line (e.g. "http://gpu1:8000/v1 16"), read again on SIGHUP`)
	fl.IntVar(&af.opts.EndpointConcurrency, "endpoint-concurrency", 0, "requests in flight on each endpoint at most, e.g. 16 (default: --concurrency)")
	fl.StringVar(&af.opts.EmitBatch, "emit-batch", "", "write the requests the cache cannot answer as OpenAI Batch API JSONL shards (--shard-rows requests each, default 50000) and a manifest into this new directory (e.g. batch1), and send nothing")
	fl.StringArrayVar(&af.opts.IngestBatch, "ingest-batch", nil, "batch output file, directory of *.jsonl or quoted glob (e.g. 'results/*.jsonl') to read into the cache; repeatable; then the output is written offline")
	fl.BoolVar(&af.opts.Offline, "offline", false, "contact no server: take every answer from the cache and reject the rest as stopped (e.g. after --ingest-batch)")
	fl.StringVar(&af.opts.Model, "model", "", "model name (default: the first model the server lists)")
	fl.DurationVar(&af.opts.Timeout, "timeout", augment.DefaultTimeout, "time limit of one request")
	fl.Float64Var(&af.opts.Temperature, "temperature", augment.DefaultTemperature, "sampling temperature")
	fl.IntVar(&af.opts.MaxTokens, "max-tokens", 0, "answer token limit of each request (default: 4 x the tokens sent + 64)")
	fl.StringVar(&af.tokenizer, "tokenizer", "", tokenizerUsage+"; counts the tokens sent for the default --max-tokens")
	fl.Int64Var(&af.opts.MaxResponseBytes, "max-response-bytes", 0, "most bytes read of an answer; a longer one fails, unretried (default: 256 x its max_tokens + 64 KiB)")
	fl.StringVar(&af.extraBody, "extra-body", "", `JSON object merged into every request (e.g. '{"top_p":0.9,"seed":1}'); part of the cache key`)
	fl.StringVar(&af.method, "method", string(augment.Backtranslate), "backtranslate or paraphrase")
	fl.StringVar(&af.pivots, "pivot", "de", "pivot languages for backtranslate (ISO 639-1, comma-separated)")
	fl.StringVar(&af.roles, "roles", "human", "turns to rewrite: human, gpt or all")
	fl.IntVar(&af.opts.Variants, "variants", 1, "augmented records per record and pivot (distinct requests; use a temperature above 0)")
	fl.StringVar(&af.promptFile, "prompt-file", "", "JSON file of versioned prompt templates replacing the built-in ones")
	fl.BoolVar(&af.opts.DropOriginal, "drop-original", false, "write only the augmented records")
	fl.Float64Var(&af.opts.MinSim, "min-sim", augment.DefaultMinSim, "reject answers whose chrF to the source is below this (drifted)")
	fl.Float64Var(&af.opts.MaxSim, "max-sim", augment.DefaultMaxSim, "reject answers whose chrF to the source is above this (adds nothing)")
	fl.Float64Var(&af.opts.MinLengthRatio, "min-length-ratio", augment.DefaultMinLengthRatio, "reject answers shorter than this times the source")
	fl.Float64Var(&af.opts.MaxLengthRatio, "max-length-ratio", augment.DefaultMaxLengthRatio, "reject answers longer than this times the source")
	fl.StringVar(&af.languages, "languages", "", "candidate languages for detection (ISO 639-1, comma-separated; \"common\": 24 languages common in ShareGPT, twice as fast; default all 75)")
	fl.StringVar(&af.refusalPhrases, "refusal-phrases", "", "file of refusal phrases, one per line, replacing the built-in list")
	fl.IntVar(&af.opts.Concurrency, "concurrency", augment.DefaultConcurrency, "requests in flight")
	fl.Float64Var(&af.opts.RPS, "rps", 0, "requests per second at most (0: no limit)")
	fl.IntVar(&af.opts.Retries, "retries", augment.DefaultRetries, "retries of a request after a connection error, timeout, malformed answer, 429 or 5xx")
	fl.IntVar(&af.opts.MaxConsecutiveFailures, "max-consecutive-failures", augment.DefaultMaxConsecutiveFailures, "stop sending after this many requests in a row failed for good")
	fl.StringVar(&af.opts.CacheDir, "cache", "", "answer cache directory (default: the user cache directory's sharegpt/augment)")
	fl.Int64Var(&af.opts.MaxRequests, "max-requests", 0, "budget: stop after sending this many requests, retries included (0: no limit)")
	fl.Int64Var(&af.opts.MaxTotalTokens, "max-total-tokens", 0, "budget: stop once this many tokens (prompt + completion) are used (0: no limit)")
	fl.BoolVar(&af.dryRun, "dry-run", false, "print the requests that would be sent (JSONL on stdout) and send nothing")
	return c
}

// options turns the flags into augment options.
func (af *augmentFlags) options(c *cobra.Command) (augment.Options, error) {
	o := af.opts
	var err error
	if o.Method, err = augment.ParseMethod(af.method); err != nil {
		return o, err
	}
	if o.Roles, err = augment.ParseRoles(af.roles); err != nil {
		return o, err
	}
	o.Pivots = nil
	if o.Method == augment.Backtranslate {
		if o.Pivots, err = augment.ParsePivots(af.pivots); err != nil {
			return o, fmt.Errorf("--pivot: %w", err)
		}
	} else if c.Flags().Changed("pivot") {
		return o, fmt.Errorf("--pivot applies only to --method backtranslate")
	}
	if af.languages != "" {
		if o.Languages, err = lang.Parse(af.languages); err != nil {
			return o, fmt.Errorf("--languages: %w", err)
		}
	}
	if o.ExtraBody, err = augment.ParseExtraBody(af.extraBody); err != nil {
		return o, fmt.Errorf("--extra-body: %w", err)
	}
	if af.promptFile != "" {
		if o.Prompts, err = augment.LoadPrompts(af.promptFile); err != nil {
			return o, err
		}
	}
	if af.refusalPhrases != "" {
		if o.RefusalPhrases, err = readLines(af.refusalPhrases); err != nil {
			return o, fmt.Errorf("--refusal-phrases: %w", err)
		}
	}
	if o.CacheDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return o, fmt.Errorf("no --cache given and no user cache directory: %w", err)
		}
		o.CacheDir = filepath.Join(dir, "sharegpt", "augment")
	}
	o.APIKey = os.Getenv("OPENAI_API_KEY")
	if o.IngestBatch, err = augment.ExpandBatchFiles(o.IngestBatch); err != nil {
		return o, fmt.Errorf("--ingest-batch: %w", err)
	}
	if af.tokenizer != "" {
		tok, err := loadTokenizer(af.tokenizer)
		if err != nil {
			return o, err
		}
		o.Tokenizer = tok
	}
	return o, nil
}

// runAugment runs the job with a progress bar for people that shows
// requests and tokens per second.
func runAugment(ctx context.Context, f *ioFlags, job *pipeline.Job, aug *augment.Augmenter, ios *IOStreams) (*pipeline.Report, error) {
	if !ios.StderrTTY || f.quiet {
		return aug.Run(ctx, job)
	}
	bar := newProgressBar(ios, job.Inputs)
	var records int64
	progress := make(chan [2]int64, 1)
	job.Progress = func(recs, bytes int64) {
		select {
		case <-progress:
		default:
		}
		progress <- [2]int64{recs, bytes}
	}
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case p := <-progress:
				records = p[0]
				bar.Set64(p[1])
			case <-tick.C:
			case <-done:
				return
			}
			st := aug.Stats()
			bar.Describe(fmt.Sprintf("%d records, %d requests (%.1f/s, %.0f tok/s), %d cached, %d retries, %d failed",
				records, st.Requests, st.RequestsPerSec, st.TokensPerSec, st.CacheHits, st.Retries, st.FailedRequests))
		}
	}()
	rep, err := aug.Run(ctx, job)
	close(done)
	bar.Finish()
	bar.Clear()
	return rep, err
}
