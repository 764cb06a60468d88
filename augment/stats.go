package augment

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// counters are the running totals of a run, safe for concurrent use.
type counters struct {
	start                time.Time
	requests             atomic.Int64 // HTTP attempts sent
	answers              atomic.Int64
	retries              atomic.Int64
	failovers            atomic.Int64 // attempts retried at once on another endpoint
	offlineMissing       atomic.Int64 // offline: requests the cache could not answer
	offlineMissingSecond atomic.Int64 // of which second hops of a backtranslation
	failedRequests       atomic.Int64
	cacheHits            atomic.Int64
	cacheCorrupt         atomic.Int64
	shared               atomic.Int64 // answers shared with an identical request in flight
	promptTokens         atomic.Int64
	completionTokens     atomic.Int64
	totalTokens          atomic.Int64
	drySend              atomic.Int64 // dry run: requests that would be sent
	dryCached            atomic.Int64 // dry run: requests answered by the cache

	mu       sync.Mutex
	failures map[string]int64 // failed attempts by cause
	skipped  map[string]int64 // turns or records not augmented, by why
	made     int64            // augmented records written
	tried    int64            // augmented records attempted
}

func newCounters() *counters {
	return &counters{start: time.Now(), failures: map[string]int64{}, skipped: map[string]int64{}}
}

func (c *counters) answer(u Usage) {
	c.answers.Add(1)
	c.promptTokens.Add(u.PromptTokens)
	c.completionTokens.Add(u.CompletionTokens)
	total := u.TotalTokens
	if total == 0 {
		total = u.PromptTokens + u.CompletionTokens
	}
	c.totalTokens.Add(total)
}

func (c *counters) failure(cause string) {
	c.mu.Lock()
	c.failures[cause]++
	c.mu.Unlock()
}

func (c *counters) skip(why string) {
	c.mu.Lock()
	c.skipped[why]++
	c.mu.Unlock()
}

// Stats is what a run did, for the report.
type Stats struct {
	Method        string `json:"method"`
	Model         string `json:"model"`
	PromptVersion string `json:"prompt_version"`
	// Requests counts the HTTP requests sent, retries included; Answers
	// the successful ones. CacheHits counts answers taken from the cache
	// and Shared those taken from an identical request of the same run.
	Requests int64 `json:"requests"`
	Answers  int64 `json:"answers"`
	Retries  int64 `json:"retries"`
	// Failovers counts attempts that took their endpoint out and were
	// sent again at once to another.
	Failovers      int64 `json:"failovers,omitempty"`
	FailedRequests int64 `json:"failed_requests"`
	CacheHits      int64 `json:"cache_hits"`
	CacheCorrupt   int64 `json:"cache_corrupt,omitempty"`
	Shared         int64 `json:"shared,omitempty"`
	// Failures counts failed attempts by cause: connection, timeout,
	// bad-response, http-429, http-500...
	Failures         map[string]int64 `json:"failures"`
	PromptTokens     int64            `json:"prompt_tokens"`
	CompletionTokens int64            `json:"completion_tokens"`
	TotalTokens      int64            `json:"total_tokens"`
	Seconds          float64          `json:"seconds"`
	RequestsPerSec   float64          `json:"requests_per_second"`
	TokensPerSec     float64          `json:"completion_tokens_per_second"`
	// Augmented records written, and attempted (one per record, pivot and
	// variant that had something to augment).
	Augmented int64 `json:"augmented"`
	Attempted int64 `json:"attempted"`
	// Skipped counts turns (and records) that were not sent, by why:
	// unknown-language, same-as-pivot, placeholder-collision, no-id,
	// nothing-to-augment.
	Skipped map[string]int64 `json:"skipped,omitempty"`
	// Stopped is why no more requests were sent ("" when the run
	// finished): max-requests, max-total-tokens, consecutive-failures.
	Stopped    string `json:"stopped,omitempty"`
	StopDetail string `json:"stop_detail,omitempty"`
	// Endpoints: each endpoint's requests, failures, latency and tokens
	// (with more than one endpoint).
	Endpoints []EndpointStats `json:"endpoints,omitempty"`
	// Offline runs: requests the cache could not answer (rejected as
	// stopped). Batch: what EmitBatch wrote and IngestBatch read.
	Offline        bool  `json:"offline,omitempty"`
	OfflineMissing int64 `json:"offline_missing,omitempty"`
	// OfflineMissingSecond: of those, second hops of a backtranslation
	// (whose pivot answer is in the cache: the next batch round).
	OfflineMissingSecond int64        `json:"offline_missing_second,omitempty"`
	Emitted              *EmitStats   `json:"emitted,omitempty"`
	Ingested             *IngestStats `json:"ingested,omitempty"`
	// A dry run's requests: to be sent, and already in the cache.
	DryRunSend   int64 `json:"dry_run_send,omitempty"`
	DryRunCached int64 `json:"dry_run_cached,omitempty"`
	DryRun       bool  `json:"dry_run,omitempty"`
}

func (c *counters) snapshot() Stats {
	s := Stats{
		Requests:             c.requests.Load(),
		Answers:              c.answers.Load(),
		Retries:              c.retries.Load(),
		Failovers:            c.failovers.Load(),
		OfflineMissing:       c.offlineMissing.Load(),
		OfflineMissingSecond: c.offlineMissingSecond.Load(),
		FailedRequests:       c.failedRequests.Load(),
		CacheHits:            c.cacheHits.Load(),
		CacheCorrupt:         c.cacheCorrupt.Load(),
		Shared:               c.shared.Load(),
		PromptTokens:         c.promptTokens.Load(),
		CompletionTokens:     c.completionTokens.Load(),
		TotalTokens:          c.totalTokens.Load(),
		Seconds:              time.Since(c.start).Seconds(),
		DryRunSend:           c.drySend.Load(),
		DryRunCached:         c.dryCached.Load(),
	}
	c.mu.Lock()
	s.Failures = maps.Clone(c.failures)
	s.Skipped = maps.Clone(c.skipped)
	s.Augmented, s.Attempted = c.made, c.tried
	c.mu.Unlock()
	if s.Seconds > 0 {
		s.RequestsPerSec = float64(s.Requests) / s.Seconds
		s.TokensPerSec = float64(s.CompletionTokens) / s.Seconds
	}
	return s
}

// WriteText writes the summary people read on stderr.
func (s Stats) WriteText(w io.Writer) error {
	var b strings.Builder
	if s.DryRun {
		fmt.Fprintf(&b, "augment: dry run: %d requests would be sent, %d are answered by the cache", s.DryRunSend, s.DryRunCached)
		if s.Model == "" {
			b.WriteString(" (no --model: the server's first model is used, so the cache was not consulted)")
		}
		b.WriteString("\n")
		if s.Method == string(Backtranslate) {
			b.WriteString("augment: dry run: each back-translation request follows its pivot answer and is listed only when that answer is cached\n")
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	if s.Ingested != nil {
		s.Ingested.writeText(&b)
	}
	if s.Emitted != nil {
		s.Emitted.writeText(&b)
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "augment: %s with %s (prompts %s): %d of %d augmented records kept\n", s.Method, s.Model, s.PromptVersion, s.Augmented, s.Attempted)
	fmt.Fprintf(&b, "augment: %d requests sent (%d answered, %d retries, %d failed for good), %d answers from the cache",
		s.Requests, s.Answers, s.Retries, s.FailedRequests, s.CacheHits)
	if s.Shared > 0 {
		fmt.Fprintf(&b, ", %d shared", s.Shared)
	}
	if s.Failovers > 0 {
		fmt.Fprintf(&b, ", %d failed over to another endpoint", s.Failovers)
	}
	b.WriteString("\n")
	if s.Offline {
		fmt.Fprintf(&b, "augment: offline: %d requests had no answer in the cache (rejected as stopped)\n", s.OfflineMissing)
		switch first := s.OfflineMissing - s.OfflineMissingSecond; {
		case first > 0:
			fmt.Fprintf(&b, "augment: next: %d requests of round 1 have no answer (error or missing lines): run the same command with --emit-batch DIR again, run the batch, then --ingest-batch its output\n", first)
		case s.OfflineMissingSecond > 0:
			fmt.Fprintf(&b, "augment: next: round 2 of 2: %d back-translations of the ingested pivot answers: run the same command with --emit-batch DIR (a new directory), run the batch, then --ingest-batch its output\n", s.OfflineMissingSecond)
		default:
			b.WriteString("augment: every request was answered from the cache: the output is complete\n")
		}
	}
	if len(s.Endpoints) > 1 {
		for _, e := range s.Endpoints {
			fmt.Fprintf(&b, "augment: endpoint %s (%s): %d requests, %d answers, %d failures; latency p50 %.3fs p90 %.3fs p99 %.3fs; %.1f completion tokens/s\n",
				e.URL, e.State, e.Requests, e.Answers, e.Failures, e.LatencyP50, e.LatencyP90, e.LatencyP99, e.TokensPerSec)
		}
	}
	if len(s.Failures) > 0 {
		b.WriteString("augment: failed attempts:")
		for _, k := range slices.Sorted(maps.Keys(s.Failures)) {
			fmt.Fprintf(&b, " %s %d", k, s.Failures[k])
		}
		b.WriteString("\n")
	}
	if len(s.Skipped) > 0 {
		b.WriteString("augment: not sent:")
		for _, k := range slices.Sorted(maps.Keys(s.Skipped)) {
			fmt.Fprintf(&b, " %s %d", k, s.Skipped[k])
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "augment: tokens %d prompt + %d completion = %d; %.1f requests/s, %.1f completion tokens/s over %.1fs\n",
		s.PromptTokens, s.CompletionTokens, s.TotalTokens, s.RequestsPerSec, s.TokensPerSec, s.Seconds)
	_, err := io.WriteString(w, b.String())
	return err
}
