package augment_test

// Integration test against a real inference server: llama.cpp's llama-server
// serving the tiny random-weight LLaMA model of tools/gengguf (real LLaMA
// vocabulary, gibberish answers) over the OpenAI API on 127.0.0.1. It is
// skipped, saying why, only when llama-server is not installed
// (scripts/llama-server.sh install, or LLAMA_SERVER=path).
//
// A counting proxy between the augmenter and the server sees every HTTP
// request: how many, to which path, and how many at once.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sharegpt/sharegpt/augment"
	"github.com/sharegpt/sharegpt/internal/llamaserver"
	"github.com/sharegpt/sharegpt/internal/llamaserver/llamaservertest"
	"github.com/sharegpt/sharegpt/pipeline"
)

// countingProxy forwards to the server and counts requests by path, and the
// most chat completions in flight at once.
type countingProxy struct {
	*httptest.Server
	mu          sync.Mutex
	byPath      map[string]int
	inFlight    int
	maxInFlight int
}

func newCountingProxy(t *testing.T, target string) *countingProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	// A client that gives up (the timeout test) is no proxy error to log.
	rp.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	p := &countingProxy{byPath: map[string]int{}}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chat := strings.HasSuffix(r.URL.Path, "/chat/completions")
		p.mu.Lock()
		p.byPath[r.URL.Path]++
		if chat {
			p.inFlight++
			p.maxInFlight = max(p.maxInFlight, p.inFlight)
		}
		p.mu.Unlock()
		defer func() {
			if chat {
				p.mu.Lock()
				p.inFlight--
				p.mu.Unlock()
			}
		}()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

// take returns the counts so far and resets them.
func (p *countingProxy) take() (byPath map[string]int, maxInFlight int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	byPath, maxInFlight = p.byPath, p.maxInFlight
	p.byPath, p.maxInFlight = map[string]int{}, 0
	return byPath, maxInFlight
}

func itRecord(id string, turns ...string) string {
	var conv []map[string]string
	for i, v := range turns {
		from := "human"
		if i%2 == 1 {
			from = "gpt"
		}
		conv = append(conv, map[string]string{"from": from, "value": v})
	}
	b, _ := json.Marshal(map[string]any{"id": id, "conversations": conv})
	return string(b) + "\n"
}

// itInput is 12 English conversations, four of them with code and URLs
// that become placeholders: 12 human turns to augment.
func itInput() string {
	questions := []string{
		"Can you explain how photosynthesis works in simple words for a child?",
		"What are the main differences between a list and a tuple in Python?",
		"Please write a short poem about the sea and the old lighthouse keeper.",
		"How should I prepare for a job interview at a large software company?",
		"Why is the sky blue during the day and red when the sun goes down?",
		"What is the best way to learn a new language quickly as an adult?",
		"Give me three ideas for a healthy breakfast that takes five minutes.",
		"Summarize the plot of a famous novel about a whale and a captain.",
	}
	code := []string{
		"Why does `go test ./...` fail with this error?\n\n```go\nfunc main() { fmt.Println(x) }\n```\n\nThe docs at https://go.dev/doc did not help.",
		"What does this shell command do: `find . -name '*.log' -delete`? I found it on https://example.com/tips today.",
		"How can I make this faster?\n\n```python\nfor i in range(len(xs)):\n    total += xs[i]\n```",
		"Explain the table below in one sentence.\n\n| name | age |\n| --- | --- |\n| Ann | 31 |\n| Bob | 27 |\n\nThanks a lot for your help.",
	}
	var b strings.Builder
	for i, q := range questions {
		b.WriteString(itRecord(fmt.Sprintf("plain-%d", i), q, "Here is an answer that will not be augmented."))
	}
	for i, q := range code {
		b.WriteString(itRecord(fmt.Sprintf("code-%d", i), q, "Here is an answer that will not be augmented."))
	}
	return b.String()
}

type itResult struct {
	out     []byte
	rejects []itReject
	stats   augment.Stats
	report  *pipeline.Report
	model   string
	seconds float64
	// runSeconds is the time of Run alone (without New: the language
	// detector and the model check).
	runSeconds float64
}

type itReject struct {
	ID      string `json:"id"`
	Stage   string `json:"stage"`
	Reason  string `json:"reason"`
	Detail  string `json:"detail"`
	Related string `json:"related"`
}

func itRun(t *testing.T, opts augment.Options, input, dir string) itResult {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "in.jsonl")
	if err := os.WriteFile(in, []byte(input), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	aug, err := augment.New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	job := &pipeline.Job{
		Command: "augment", Registry: pipeline.NewRegistry(pipeline.JSONFormats()...),
		Inputs: []string{in}, Output: filepath.Join(dir, "out.jsonl"), RejectsPath: filepath.Join(dir, "rej.jsonl"),
		Workers: 2,
	}
	runStart := time.Now()
	rep, err := aug.Run(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Check(); err != nil {
		t.Fatal(err)
	}
	res := itResult{report: rep, stats: aug.Stats(), model: aug.Model(), seconds: time.Since(start).Seconds(), runSeconds: time.Since(runStart).Seconds()}
	if res.out, err = os.ReadFile(job.Output); err != nil {
		t.Fatal(err)
	}
	rej, err := os.ReadFile(job.RejectsPath)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(rej)) {
		var r itReject
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("reject line %q: %v", line, err)
		}
		res.rejects = append(res.rejects, r)
	}
	return res
}

func reasons(rs []itReject) map[string]int {
	m := map[string]int{}
	for _, r := range rs {
		m[r.Reason]++
	}
	return m
}

func TestIntegrationLlamaServer(t *testing.T) {
	srv := llamaservertest.StartTiny(t, llamaserver.Options{Metrics: true})
	proxy := newCountingProxy(t, srv.URL)
	input := itInput()
	const turns = 12

	base := augment.DefaultOptions()
	base.BaseURL = proxy.URL + "/v1"
	base.Model = "" // the first model /v1/models lists
	base.Pivots = []string{"de"}
	base.Temperature = 0
	base.Languages = []string{"en", "de", "fr"}
	base.Concurrency = 4
	base.Timeout = 30 * time.Second
	base.BackoffBase, base.BackoffMax = 10*time.Millisecond, 50*time.Millisecond

	metrics := func() map[string]float64 {
		m, err := srv.Metrics(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	var figures []string

	// Short answers: every first hop (English -> German) stops at max_tokens,
	// so each augmentation is rejected as truncated and nothing else is sent.
	// The second run of the same command answers everything from the cache.
	t.Run("truncated then cached", func(t *testing.T) {
		opts := base
		opts.MaxTokens = 16
		opts.CacheDir = t.TempDir()
		m0 := metrics()
		proxy.take()
		first := itRun(t, opts, input, t.TempDir())
		paths, maxInFlight := proxy.take()
		m1 := metrics()

		if first.model != srv.Model {
			t.Errorf("model %q, want %q from /v1/models", first.model, srv.Model)
		}
		if paths["/v1/models"] != 1 || paths["/v1/chat/completions"] != turns || len(paths) != 2 {
			t.Errorf("requests by path %v, want 1 to /v1/models and %d chat completions", paths, turns)
		}
		if maxInFlight < 2 || maxInFlight > opts.Concurrency {
			t.Errorf("at most %d chat completions in flight, want 2..%d", maxInFlight, opts.Concurrency)
		}
		st := first.stats
		if st.Requests != turns || st.Answers != turns || st.Retries != 0 || st.FailedRequests != 0 || st.CacheHits != 0 {
			t.Errorf("first run: %d requests, %d answers, %d retries, %d failed, %d cache hits; want %d, %d, 0, 0, 0",
				st.Requests, st.Answers, st.Retries, st.FailedRequests, st.CacheHits, turns, turns)
		}
		// usage is what the server counted.
		if d := m1["tokens_predicted_total"] - m0["tokens_predicted_total"]; st.CompletionTokens != turns*16 || float64(st.CompletionTokens) != d {
			t.Errorf("%d completion tokens in the stats, server predicted %v, want %d", st.CompletionTokens, d, turns*16)
		}
		if d := m1["prompt_tokens_total"] - m0["prompt_tokens_total"]; st.PromptTokens <= 0 || float64(st.PromptTokens) < d {
			t.Errorf("%d prompt tokens in the stats, server processed %v (less with its prompt cache)", st.PromptTokens, d)
		}
		if st.TotalTokens != st.PromptTokens+st.CompletionTokens {
			t.Errorf("total tokens %d != %d + %d", st.TotalTokens, st.PromptTokens, st.CompletionTokens)
		}
		if got := reasons(first.rejects); len(got) != 1 || got["truncated"] != turns {
			t.Errorf("rejects %v, want %d truncated", got, turns)
		}
		for _, r := range first.rejects {
			if r.Stage != augment.StageAugment || !strings.HasSuffix(r.ID, "#bt-de-0") || r.Related != strings.TrimSuffix(r.ID, "#bt-de-0") ||
				!strings.Contains(r.Detail, "16 completion tokens") {
				t.Errorf("reject %+v", r)
			}
		}
		if first.report.Kept != turns || first.report.RecordsOut != turns || st.Augmented != 0 {
			t.Errorf("kept %d, out %d, augmented %d; want the %d originals only", first.report.Kept, first.report.RecordsOut, st.Augmented, turns)
		}
		var rec0 struct {
			ID string `json:"id"`
		}
		if line, _, _ := strings.Cut(string(first.out), "\n"); json.Unmarshal([]byte(line), &rec0) != nil || rec0.ID != "plain-0" {
			t.Errorf("output starts %.60q, want record plain-0", first.out)
		}

		second := itRun(t, opts, input, t.TempDir())
		paths, _ = proxy.take()
		m2 := metrics()
		if paths["/v1/chat/completions"] != 0 || second.stats.Requests != 0 || second.stats.CacheHits != turns {
			t.Errorf("second run: %v through the proxy, %d requests, %d cache hits; want no chat completion and %d hits",
				paths, second.stats.Requests, second.stats.CacheHits, turns)
		}
		if m2["tokens_predicted_total"] != m1["tokens_predicted_total"] || m2["prompt_tokens_total"] != m1["prompt_tokens_total"] {
			t.Errorf("the server computed tokens during the cached run: %v -> %v", m1, m2)
		}
		if string(second.out) != string(first.out) || fmt.Sprint(second.rejects) != fmt.Sprint(first.rejects) {
			t.Error("the cached run's output or rejects differ from the first run's")
		}
		figures = append(figures, fmt.Sprintf("truncated run: %d requests, %.1f requests/s, %.0f completion tokens/s (%d prompt + %d completion tokens), %d in flight at most; cached rerun %.2f s",
			st.Requests, st.RequestsPerSec, st.TokensPerSec, st.PromptTokens, st.CompletionTokens, maxInFlight, second.seconds))
	})

	// Answers that end: a logit bias of +8 on EOS (id 2) makes the random
	// model stop after a few to a few dozen tokens of gibberish, which the
	// gates reject. Turns with code lose their placeholders; the others are
	// not German (the pivot) or, if a round trip completes, not English, or
	// of the wrong length, or too different from the source.
	t.Run("gates reject gibberish", func(t *testing.T) {
		opts := base
		opts.MaxTokens = 64
		// The request's logit_bias replaces the server's bans: repeat them.
		opts.ExtraBody = map[string]any{"logit_bias": llamaserver.LogitBias([2]float64{2, 8})}
		opts.CacheDir = t.TempDir()
		proxy.take()
		res := itRun(t, opts, input, t.TempDir())
		paths, _ := proxy.take()
		got := reasons(res.rejects)
		if res.stats.Augmented != 0 || len(res.rejects) != turns {
			t.Fatalf("%d augmented, rejects %v: gibberish must never pass the gates", res.stats.Augmented, got)
		}
		for _, r := range res.rejects {
			allowed := []string{"wrong-language", "empty-answer", "length-ratio", "too-different", "truncated"}
			if strings.HasPrefix(r.ID, "code-") {
				allowed = []string{"placeholder-missing", "placeholder-altered", "empty-answer", "truncated"}
			}
			if !slices.Contains(allowed, r.Reason) {
				t.Errorf("%s rejected as %s (%s), want one of %v", r.ID, r.Reason, r.Detail, allowed)
			}
		}
		if got["wrong-language"]+got["length-ratio"]+got["too-different"] == 0 || got["placeholder-missing"]+got["placeholder-altered"] == 0 {
			t.Errorf("rejects %v: want both language/similarity and placeholder rejections", got)
		}
		if paths["/v1/chat/completions"] < turns || res.stats.FailedRequests != 0 {
			t.Errorf("%d chat completions, %d failed", paths["/v1/chat/completions"], res.stats.FailedRequests)
		}
		figures = append(figures, fmt.Sprintf("gates: %v", got))
	})

	// A turn longer than a slot's context: HTTP 400 exceed_context_size_error,
	// not retried.
	t.Run("context exceeded", func(t *testing.T) {
		opts := base
		opts.MaxTokens = 16
		opts.CacheDir = t.TempDir()
		long := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 300)
		proxy.take()
		res := itRun(t, opts, itRecord("long-0", long, "ok"), t.TempDir())
		paths, _ := proxy.take()
		if paths["/v1/chat/completions"] != 1 || res.stats.Retries != 0 || res.stats.Failures["context-exceeded"] != 1 {
			t.Errorf("%v, %d retries, failures %v; want one request, not retried, cause context-exceeded", paths, res.stats.Retries, res.stats.Failures)
		}
		if len(res.rejects) != 1 || res.rejects[0].Reason != "request-failed" || !strings.Contains(res.rejects[0].Detail, "exceed_context_size_error") {
			t.Errorf("rejects %+v", res.rejects)
		}
	})

	// Throughput: 64 turns, 32-token answers, 4 in flight (the server's 4
	// slots, one thread each).
	t.Run("throughput", func(t *testing.T) {
		opts := base
		opts.MaxTokens = 32
		opts.ExtraBody = map[string]any{"ignore_eos": true}
		opts.CacheDir = t.TempDir()
		var in strings.Builder
		for i := range 64 {
			in.WriteString(itRecord(fmt.Sprintf("tp-%d", i), fmt.Sprintf("Question %d: how do llamas and alpacas differ in size, wool and temperament?", i), "ok"))
		}
		proxy.take()
		res := itRun(t, opts, in.String(), t.TempDir())
		paths, maxInFlight := proxy.take()
		st := res.stats
		if st.Requests != 64 || paths["/v1/chat/completions"] != 64 || st.CompletionTokens != 64*32 || len(res.rejects) != 64 {
			t.Errorf("%d requests (%d through the proxy), %d completion tokens, %d rejects; want 64, 64, %d, 64", st.Requests, paths["/v1/chat/completions"], st.CompletionTokens, 64*32, len(res.rejects))
		}
		if maxInFlight != opts.Concurrency {
			t.Errorf("at most %d in flight, want %d", maxInFlight, opts.Concurrency)
		}
		figures = append(figures, fmt.Sprintf("throughput: %d requests of %d tokens in %.2f s: %.1f requests/s, %.0f completion tokens/s, %d in flight",
			st.Requests, opts.MaxTokens, st.Seconds, st.RequestsPerSec, st.TokensPerSec, maxInFlight))
	})

	// A per-request timeout far below the time a long answer takes: every
	// attempt times out, is retried once, and the turn is rejected as
	// request-failed with cause timeout; the server keeps serving.
	t.Run("timeout", func(t *testing.T) {
		opts := base
		opts.Timeout = 50 * time.Millisecond
		opts.MaxTokens = 1500
		opts.ExtraBody = map[string]any{"ignore_eos": true}
		opts.Retries = 1
		opts.MaxConsecutiveFailures = 100
		opts.CacheDir = t.TempDir()
		in := itRecord("slow-0", "Tell me a very long story about llamas.", "ok") + itRecord("slow-1", "Tell me another very long story.", "ok")
		res := itRun(t, opts, in, t.TempDir())
		st := res.stats
		if st.Failures["timeout"] != 4 || st.Retries != 2 || st.Answers != 0 {
			t.Errorf("failures %v, %d retries, %d answers; want 4 timeouts, 2 retries, no answer", st.Failures, st.Retries, st.Answers)
		}
		for _, r := range res.rejects {
			if r.Reason != "request-failed" || !strings.Contains(r.Detail, "timeout") {
				t.Errorf("reject %+v, want request-failed with a timeout", r)
			}
		}
		if len(res.rejects) != 2 || res.report.Kept != 2 {
			t.Errorf("%d rejects, %d kept", len(res.rejects), res.report.Kept)
		}
		if res.stats.Stopped != "" {
			t.Errorf("stopped: %s %s", res.stats.Stopped, res.stats.StopDetail)
		}
	})

	rss, err := srv.RSS()
	if err != nil {
		t.Fatal(err)
	}
	if rss > 1<<30 {
		t.Errorf("server RSS %d MB", rss>>20)
	}
	figures = append(figures, fmt.Sprintf("llama-server RSS %d MB", rss>>20))
	t.Log(strings.Join(figures, "\n"))
}
