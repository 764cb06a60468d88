package augment_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sharegpt/sharegpt/augment"
	"github.com/sharegpt/sharegpt/augment/augmenttest"
	"github.com/sharegpt/sharegpt/pipeline"
)

// Test sentences within the fake server's vocabulary.
const (
	sentence1 = "Please explain how this function works and why it returns an error when the list is empty."
	sentence2 = "Can you write a short story about a brave little dog who finds his way home?"
	sentence3 = "What is the best way to learn a new language quickly and remember the words?"
	withCode  = "Why does `main.go` print nothing when I run the program with an empty file? See https://go.dev/doc for details."
)

func record(id string, turns ...string) string {
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

// testOptions are fast options against the fake server.
func testOptions(t *testing.T, srv *augmenttest.Server) augment.Options {
	o := augment.DefaultOptions()
	o.BaseURL = srv.BaseURL()
	o.Model = "fake-vicuna"
	o.Languages = []string{"en", "de", "fr"}
	o.CacheDir = t.TempDir()
	o.Timeout = 5 * time.Second
	o.BackoffBase, o.BackoffMax = time.Millisecond, 5*time.Millisecond
	o.Temperature = 0
	return o
}

type result struct {
	out, rejects string
	stats        augment.Stats
	report       *pipeline.Report
	aug          *augment.Augmenter
}

// run augments input (JSONL) and returns the output and rejects.
func run(t *testing.T, opts augment.Options, input string) result {
	t.Helper()
	res, err := tryRun(t, opts, input)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func tryRun(t *testing.T, opts augment.Options, input string) (result, error) {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	if err := os.WriteFile(in, []byte(input), 0o644); err != nil {
		t.Fatal(err)
	}
	aug, err := augment.New(context.Background(), opts)
	if err != nil {
		return result{}, err
	}
	job := &pipeline.Job{
		Command: "augment", Registry: pipeline.NewRegistry(pipeline.JSONFormats()...),
		Inputs: []string{in}, Output: filepath.Join(dir, "out.jsonl"), RejectsPath: filepath.Join(dir, "rej.jsonl"),
		Workers: 2,
	}
	rep, err := aug.Run(context.Background(), job)
	if err != nil {
		return result{}, err
	}
	out, _ := os.ReadFile(job.Output)
	rej, _ := os.ReadFile(job.RejectsPath)
	return result{out: string(out), rejects: strings.ReplaceAll(string(rej), dir, "$DIR"), stats: aug.Stats(), report: rep, aug: aug}, nil
}

// records parses JSONL into id → record.
func records(t *testing.T, jsonl string) (ids []string, byID map[string]map[string]any) {
	t.Helper()
	byID = map[string]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(jsonl), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("bad line %q: %v", line, err)
		}
		id, _ := m["id"].(string)
		if r, ok := m["record"].(map[string]any); ok { // a reject line
			id, _ = r["id"].(string)
			r["reason"], r["detail"] = m["reason"], m["detail"]
			m = r
		}
		ids = append(ids, id)
		byID[id] = m
	}
	return ids, byID
}

func turnValue(rec map[string]any, i int) string {
	conv := rec["conversations"].([]any)
	return conv[i].(map[string]any)["value"].(string)
}

func TestBacktranslateSuccess(t *testing.T) {
	srv := augmenttest.NewServer()
	defer srv.Close()
	opts := testOptions(t, srv)
	opts.Model = "" // the server's first model
	res := run(t, opts, record("a", sentence1, "It fails because the list is empty.")+record("b", withCode, "ok"))
	ids, recs := records(t, res.out)
	if strings.Join(ids, " ") != "a a#bt-de-0 b b#bt-de-0" {
		t.Fatalf("ids %v, want originals each followed by its augmented copy\n%s\nrejects:\n%s", ids, res.out, res.rejects)
	}
	a := recs["a#bt-de-0"]
	if got := turnValue(a, 0); got != "Please describe how this function operates and why it gives an error if the list is empty." {
		t.Errorf("back-translation %q", got)
	}
	if got := turnValue(a, 1); got != "It fails because the list is empty." {
		t.Errorf("the gpt turn changed: %q", got)
	}
	if a["augmented_from"] != "a" {
		t.Errorf("augmented_from %v", a["augmented_from"])
	}
	prov := a["augmentation"].(map[string]any)
	if prov["method"] != "backtranslate" || prov["pivot"] != "de" || prov["model"] != "fake-vicuna" || prov["prompt_version"] != "v1" {
		t.Errorf("augmentation %v", prov)
	}
	if sim, _ := prov["similarity"].(float64); sim < 0.3 || sim > 0.95 {
		t.Errorf("similarity %v", prov["similarity"])
	}
	// Code and URL come back byte for byte.
	if got := turnValue(recs["b#bt-de-0"], 0); !strings.Contains(got, "`main.go`") || !strings.Contains(got, "https://go.dev/doc") || got == withCode {
		t.Errorf("protected parts: %q", got)
	}
	// The pivot request carried placeholders, not the code.
	for _, r := range srv.Answered() {
		if strings.Contains(r.Body, "main.go") || strings.Contains(r.Body, "go.dev") {
			t.Errorf("a request holds protected text: %s", r.Body)
		}
	}
	st := res.stats
	if st.Requests != 4 || st.Answers != 4 || st.Retries != 0 || st.Augmented != 2 || st.Attempted != 2 || st.TotalTokens == 0 || st.Model != "fake-vicuna" {
		t.Errorf("stats %+v", st)
	}
	if res.rejects != "" {
		t.Errorf("rejects: %s", res.rejects)
	}
	var rep bytes.Buffer
	res.report.WriteJSON(&rep)
	for _, want := range []string{`"stage": "augment",`, `"requests": 4,`, `"answers": 4,`, `"failures": {},`, `"completion_tokens_per_second": `, `"augmented": 2,`} {
		if !strings.Contains(rep.String(), want) {
			t.Errorf("report lacks %s:\n%s", want, rep.String())
		}
	}
}

// TestFaults runs one record (one request to the pivot, one back) against
// a server that misbehaves, and checks how each case ends.
func TestFaults(t *testing.T) {
	str := func(s string) *string { return &s }
	tests := []struct {
		name     string
		fault    func(n int, req *augmenttest.ChatRequest) *augmenttest.Action
		opts     func(*augment.Options)
		reason   string // "" for an augmented record kept
		detail   string
		requests int64
		retries  int64
		failures map[string]int64
		minTime  time.Duration
	}{
		{name: "success", requests: 2},
		{
			name: "429 with Retry-After",
			fault: func(n int, _ *augmenttest.ChatRequest) *augmenttest.Action {
				if n == 1 {
					return &augmenttest.Action{Status: 429, RetryAfter: "1"}
				}
				return nil
			},
			requests: 3, retries: 1, failures: map[string]int64{"http-429": 1}, minTime: time.Second,
		},
		{
			name: "Retry-After over the limit fails the request",
			fault: func(int, *augmenttest.ChatRequest) *augmenttest.Action {
				return &augmenttest.Action{Status: 429, RetryAfter: "3600"}
			},
			reason: "request-failed", detail: "Retry-After 1h0m0s is over", requests: 1, failures: map[string]int64{"http-429": 1},
		},
		{
			name: "500 then success",
			fault: func(n int, _ *augmenttest.ChatRequest) *augmenttest.Action {
				if n == 1 {
					return &augmenttest.Action{Status: 500}
				}
				return nil
			},
			requests: 3, retries: 1, failures: map[string]int64{"http-500": 1},
		},
		{
			name: "500 for good after the retries",
			fault: func(int, *augmenttest.ChatRequest) *augmenttest.Action {
				return &augmenttest.Action{Status: 503, Body: `{"error":{"message":"overloaded","type":"unavailable"}}`}
			},
			opts:   func(o *augment.Options) { o.Retries = 2 },
			reason: "request-failed", detail: "http-503: HTTP 503 from", requests: 3, retries: 2, failures: map[string]int64{"http-503": 3},
		},
		{
			name: "400 is not retried",
			fault: func(int, *augmenttest.ChatRequest) *augmenttest.Action {
				return &augmenttest.Action{Status: 400, Body: `{"error":{"code":400,"message":"the request exceeds the available context size","type":"exceed_context_size_error"}}`}
			},
			reason: "request-failed", detail: "context-exceeded: HTTP 400 from", requests: 1, failures: map[string]int64{"context-exceeded": 1},
		},
		{
			name: "other 400s are not retried either",
			fault: func(int, *augmenttest.ChatRequest) *augmenttest.Action {
				return &augmenttest.Action{Status: 400, Body: `{"error":{"code":400,"message":"'messages' is required","type":"invalid_request_error"}}`}
			},
			reason: "request-failed", detail: "http-400: HTTP 400 from", requests: 1, failures: map[string]int64{"http-400": 1},
		},
		{
			name: "404 (no such model) is not retried",
			fault: func(int, *augmenttest.ChatRequest) *augmenttest.Action {
				return &augmenttest.Action{Status: 404, Body: `{"error":{"message":"The model 'x' does not exist","type":"invalid_request_error"}}`}
			},
			reason: "request-failed", detail: "http-404: HTTP 404 from", requests: 1, failures: map[string]int64{"http-404": 1},
		},
		{
			name: "timeout then success",
			fault: func(n int, _ *augmenttest.ChatRequest) *augmenttest.Action {
				if n == 1 {
					return &augmenttest.Action{Hang: 10 * time.Second}
				}
				return nil
			},
			opts:     func(o *augment.Options) { o.Timeout = 300 * time.Millisecond },
			requests: 3, retries: 1, failures: map[string]int64{"timeout": 1}, minTime: 300 * time.Millisecond,
		},
		{
			name: "timeout for good (a server that never answers, as llama-server after SIGTERM)",
			fault: func(int, *augmenttest.ChatRequest) *augmenttest.Action {
				return &augmenttest.Action{Hang: 10 * time.Second}
			},
			opts:   func(o *augment.Options) { o.Timeout = 100 * time.Millisecond; o.Retries = 1 },
			reason: "request-failed", detail: "timeout: no answer within 100ms", requests: 2, retries: 1, failures: map[string]int64{"timeout": 2},
		},
		{
			name: "malformed JSON body then success",
			fault: func(n int, _ *augmenttest.ChatRequest) *augmenttest.Action {
				if n == 1 {
					return &augmenttest.Action{Malformed: true}
				}
				return nil
			},
			requests: 3, retries: 1, failures: map[string]int64{"bad-response": 1},
		},
		{
			name: "malformed JSON body for good",
			fault: func(int, *augmenttest.ChatRequest) *augmenttest.Action {
				return &augmenttest.Action{Malformed: true, Body: `{"choices": []}`}
			},
			opts:   func(o *augment.Options) { o.Retries = 1 },
			reason: "request-failed", detail: "bad-response: answer has no choices", requests: 2, retries: 1, failures: map[string]int64{"bad-response": 2},
		},
		{
			name: "connection reset mid-response then success",
			fault: func(n int, _ *augmenttest.ChatRequest) *augmenttest.Action {
				if n == 2 {
					return &augmenttest.Action{Reset: true}
				}
				return nil
			},
			requests: 3, retries: 1, failures: map[string]int64{"connection": 1},
		},
		{
			name: "answer drops a placeholder",
			fault: func(n int, req *augmenttest.ChatRequest) *augmenttest.Action {
				if n == 1 {
					return &augmenttest.Action{Answer: str(strings.ReplaceAll(augmenttest.Respond(req), "[[CODE_1]]", "main punkt go"))}
				}
				return nil
			},
			reason: "placeholder-missing", detail: "turn 0: pivot de: [[CODE_1]] (`main.go`) is missing", requests: 1,
		},
		{
			name: "answer alters a placeholder",
			fault: func(n int, req *augmenttest.ChatRequest) *augmenttest.Action {
				if n == 2 {
					return &augmenttest.Action{Answer: str(strings.ReplaceAll(augmenttest.Respond(req), "[[URL_2]]", "[[Url 2]]"))}
				}
				return nil
			},
			reason: "placeholder-altered", detail: `turn 0: unknown or altered placeholder "[[Url 2]]"`, requests: 2,
		},
		{
			name:   "pivot answer in the wrong language",
			opts:   func(o *augment.Options) { o.Pivots = []string{"fr"} }, // the fake echoes English
			reason: "wrong-language", detail: "pivot text is in en, want fr", requests: 1,
		},
		{
			name: "back-translation in the wrong language",
			fault: func(n int, req *augmenttest.ChatRequest) *augmenttest.Action {
				if n == 2 {
					return &augmenttest.Action{Answer: str("Warum macht [[CODE_1]] nichts, wenn ich das Programm mit einer leeren Datei starte? Siehe [[URL_2]] für Einzelheiten.")}
				}
				return nil
			},
			reason: "wrong-language", detail: "answer is in de, the source in en", requests: 2,
		},
		{
			name: "refusal",
			fault: func(int, *augmenttest.ChatRequest) *augmenttest.Action {
				return &augmenttest.Action{Answer: str("I'm sorry, but I cannot translate [[CODE_1]] and [[URL_2]].")}
			},
			reason: "refusal", detail: `"i'm sorry, but i cannot"`, requests: 1,
		},
		{
			name: "empty answer",
			fault: func(n int, _ *augmenttest.ChatRequest) *augmenttest.Action {
				if n == 2 {
					return &augmenttest.Action{Answer: str("  \n")}
				}
				return nil
			},
			reason: "empty-answer", requests: 2,
		},
		{
			name: "truncated answer",
			fault: func(int, *augmenttest.ChatRequest) *augmenttest.Action {
				return &augmenttest.Action{Finish: "length"}
			},
			reason: "truncated", detail: "hit max_tokens", requests: 1,
		},
		{
			name: "too similar",
			fault: func(n int, _ *augmenttest.ChatRequest) *augmenttest.Action {
				if n == 2 {
					return &augmenttest.Action{Answer: str("Why does [[CODE_1]] print nothing when I run the program with an empty file? See [[URL_2]] for details.")}
				}
				return nil
			},
			reason: "too-similar", detail: "chrF 1.0000 > 0.95", requests: 2,
		},
		{
			name: "too different",
			fault: func(n int, _ *augmenttest.ChatRequest) *augmenttest.Action {
				if n == 2 {
					return &augmenttest.Action{Answer: str("Yesterday my grandmother baked seven cakes for a cheerful village festival [[CODE_1]] [[URL_2]].")}
				}
				return nil
			},
			reason: "too-different", requests: 2,
		},
		{
			name: "length ratio",
			fault: func(n int, req *augmenttest.ChatRequest) *augmenttest.Action {
				if n == 2 {
					a := augmenttest.Respond(req)
					return &augmenttest.Action{Answer: str(a + " Again, why does it print nothing? And again, why does it print nothing at all, really nothing, when I run it?")}
				}
				return nil
			},
			opts:   func(o *augment.Options) { o.MaxLengthRatio = 1.5 },
			reason: "length-ratio", detail: "outside [0.5, 1.5]", requests: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := augmenttest.NewServer()
			defer srv.Close()
			srv.Fault = tt.fault
			opts := testOptions(t, srv)
			if tt.opts != nil {
				tt.opts(&opts)
			}
			start := time.Now()
			res := run(t, opts, record("r", withCode, "Because the file is empty."))
			elapsed := time.Since(start)
			ids, _ := records(t, res.out)
			st := res.stats
			if tt.reason == "" {
				if strings.Join(ids, " ") != "r r#bt-de-0" {
					t.Errorf("ids %v, want r r#bt-de-0; rejects:\n%s", ids, res.rejects)
				}
			} else {
				if strings.Join(ids, " ") != "r" {
					t.Errorf("ids %v, want only the original", ids)
				}
				_, rej := records(t, res.rejects)
				var got map[string]any
				for _, r := range rej {
					got = r
				}
				if got == nil || got["reason"] != tt.reason || !strings.Contains(fmt.Sprint(got["detail"]), tt.detail) {
					t.Errorf("reject %v / %v, want %s with %q\n%s", got["reason"], got["detail"], tt.reason, tt.detail, res.rejects)
				}
				if n := res.report.Stage(augment.StageAugment).PartsRejected[pipelineReason(tt.reason)]; n != 1 {
					t.Errorf("report counts %d parts rejected for %s", n, tt.reason)
				}
			}
			if st.Requests != tt.requests || st.Retries != tt.retries {
				t.Errorf("%d requests, %d retries; want %d, %d", st.Requests, st.Retries, tt.requests, tt.retries)
			}
			if int64(len(srv.Requests())) != tt.requests {
				t.Errorf("server saw %d requests, want %d", len(srv.Requests()), tt.requests)
			}
			if fmt.Sprint(st.Failures) != fmt.Sprint(orEmpty(tt.failures)) {
				t.Errorf("failures %v, want %v", st.Failures, tt.failures)
			}
			if elapsed < tt.minTime {
				t.Errorf("took %s, want at least %s", elapsed, tt.minTime)
			}
		})
	}
}

func pipelineReason(s string) pipeline.Reason { return pipeline.Reason(s) }

func orEmpty(m map[string]int64) map[string]int64 {
	if m == nil {
		return map[string]int64{}
	}
	return m
}

func TestParaphrase(t *testing.T) {
	srv := augmenttest.NewServer()
	defer srv.Close()
	opts := testOptions(t, srv)
	opts.Method, opts.Pivots, opts.Roles, opts.Variants = augment.Paraphrase, nil, "all", 2
	res := run(t, opts, record("p", sentence2, sentence3))
	ids, recs := records(t, res.out)
	if strings.Join(ids, " ") != "p p#para-0 p#para-1" {
		t.Fatalf("ids %v\nrejects:\n%s", ids, res.rejects)
	}
	if got := turnValue(recs["p#para-1"], 1); got != "What is the best path to study a new language fast and recall the words?" {
		t.Errorf("paraphrase %q", got)
	}
	if res.stats.Requests != 4 { // 2 turns x 2 variants: variants are distinct requests
		t.Errorf("%d requests, want 4", res.stats.Requests)
	}
	prov := recs["p#para-0"]["augmentation"].(map[string]any)
	if prov["method"] != "paraphrase" || prov["pivot"] != nil || fmt.Sprint(prov["turns"]) != "[0 1]" {
		t.Errorf("augmentation %v", prov)
	}
}

// TestDeterministicAndCached: the output does not depend on the
// concurrency, and a second run takes every answer from the cache.
func TestDeterministicAndCached(t *testing.T) {
	srv := augmenttest.NewServer()
	defer srv.Close()
	var input strings.Builder
	for i := range 40 {
		s := []string{sentence1, sentence2, sentence3, withCode}[i%4]
		fmt.Fprintf(&input, "%s", record(fmt.Sprintf("r%02d", i), s+strings.Repeat(" Tell me more.", i/4), "ok"))
	}
	opts := testOptions(t, srv)
	opts.Pivots = []string{"de", "fr"}
	opts.Concurrency = 1
	serial := run(t, opts, input.String())
	sent := len(srv.Requests())
	opts.Concurrency, opts.CacheDir = 16, t.TempDir()
	parallel := run(t, opts, input.String())
	if serial.out != parallel.out || serial.rejects != parallel.rejects {
		t.Fatalf("output differs between concurrency 1 and 16")
	}
	if len(srv.Requests()) != 2*sent {
		t.Errorf("the second run (fresh cache) sent %d requests, want %d", len(srv.Requests())-sent, sent)
	}
	again := run(t, opts, input.String())
	if again.out != serial.out || again.rejects != serial.rejects {
		t.Errorf("output from the cache differs")
	}
	if again.stats.Requests != 0 || again.stats.CacheHits == 0 || len(srv.Requests()) != 2*sent {
		t.Errorf("rerun: %d requests, %d cache hits, server saw %d more", again.stats.Requests, again.stats.CacheHits, len(srv.Requests())-2*sent)
	}
	if n := strings.Count(serial.out, "#bt-de-0"); n != 40 {
		t.Errorf("%d records augmented through de, want 40", n)
	}
	if n := strings.Count(serial.rejects, `"reason":"wrong-language"`); n != 40 {
		t.Errorf("%d fr pivots rejected for their language, want 40", n)
	}
}

// TestIdenticalRequestsSentOnce: records that share a turn share its
// requests, also when they are in flight at the same time.
func TestIdenticalRequestsSentOnce(t *testing.T) {
	srv := augmenttest.NewServer()
	defer srv.Close()
	srv.Fault = func(int, *augmenttest.ChatRequest) *augmenttest.Action {
		return &augmenttest.Action{Hang: 50 * time.Millisecond}
	}
	var input strings.Builder
	for i := range 8 {
		input.WriteString(record(fmt.Sprint(i), sentence1, "ok"))
	}
	opts := testOptions(t, srv)
	opts.Concurrency = 8
	res := run(t, opts, input.String())
	if len(srv.Requests()) != 2 || len(srv.Duplicates()) != 0 {
		t.Errorf("server saw %d requests, want 2 (one per hop)", len(srv.Requests()))
	}
	if res.stats.Augmented != 8 {
		t.Errorf("%d augmented, want 8", res.stats.Augmented)
	}
	if res.stats.Shared+res.stats.CacheHits != 14 {
		t.Errorf("shared %d + cache hits %d, want 14", res.stats.Shared, res.stats.CacheHits)
	}
}

func TestConsecutiveFailuresStop(t *testing.T) {
	srv := augmenttest.NewServer()
	defer srv.Close()
	var calls atomic.Int32
	srv.Fault = func(n int, _ *augmenttest.ChatRequest) *augmenttest.Action {
		calls.Add(1)
		if n <= 2 { // the first record's two requests succeed
			return nil
		}
		return &augmenttest.Action{Status: 502}
	}
	opts := testOptions(t, srv)
	opts.Concurrency, opts.Retries, opts.MaxConsecutiveFailures = 1, 1, 3
	input := record("a", sentence1, "ok") + record("b", sentence2, "ok") + record("c", sentence3, "ok") +
		record("d", withCode, "ok") + record("e", sentence1+" Tell me more.", "ok") + record("f", sentence2+" Tell me more.", "ok")
	res := run(t, opts, input)
	stop := res.aug.Stopped()
	if stop == nil || stop.Cause != augment.StopFailures || !strings.Contains(stop.Detail, "3 requests in a row failed") || !strings.Contains(stop.Detail, "http-502") {
		t.Fatalf("stopped: %+v", stop)
	}
	ids, _ := records(t, res.out)
	if strings.Join(ids, " ") != "a a#bt-de-0 b c d e f" {
		t.Errorf("ids %v: want every original and the one finished augmentation", ids)
	}
	_, rej := records(t, res.rejects)
	reasons := map[string]int{}
	for _, r := range rej {
		reasons[r["reason"].(string)]++
	}
	if reasons["request-failed"] != 3 || reasons["stopped"] != 2 {
		t.Errorf("reject reasons %v, want 3 request-failed and 2 stopped", reasons)
	}
	if got := calls.Load(); got != 2+3*2 {
		t.Errorf("server saw %d requests, want 8 (2 answered, 3 failed twice)", got)
	}
	if res.stats.Stopped != augment.StopFailures || res.stats.FailedRequests != 3 {
		t.Errorf("stats %+v", res.stats)
	}
}

func TestBudgets(t *testing.T) {
	input := record("a", sentence1, "ok") + record("b", sentence2, "ok") + record("c", sentence3, "ok")
	t.Run("max-requests", func(t *testing.T) {
		srv := augmenttest.NewServer()
		defer srv.Close()
		opts := testOptions(t, srv)
		opts.Concurrency, opts.MaxRequests = 1, 3
		res := run(t, opts, input)
		if len(srv.Requests()) != 3 || res.stats.Requests != 3 {
			t.Errorf("server saw %d requests, stats %d; want 3", len(srv.Requests()), res.stats.Requests)
		}
		if s := res.aug.Stopped(); s == nil || s.Cause != augment.StopMaxRequests {
			t.Errorf("stopped %v", s)
		}
		ids, _ := records(t, res.out)
		if strings.Join(ids, " ") != "a a#bt-de-0 b c" {
			t.Errorf("ids %v", ids)
		}
		// The rerun with a larger budget finishes the job from the cache.
		opts.MaxRequests = 0
		again := run(t, opts, input)
		if len(srv.Requests()) != 6 || len(srv.Duplicates()) != 0 || again.stats.CacheHits != 3 {
			t.Errorf("rerun: server saw %d requests in all (want 6), %d duplicates, %d cache hits (want 3)", len(srv.Requests()), len(srv.Duplicates()), again.stats.CacheHits)
		}
		ids, _ = records(t, again.out)
		if strings.Join(ids, " ") != "a a#bt-de-0 b b#bt-de-0 c c#bt-de-0" {
			t.Errorf("rerun ids %v", ids)
		}
	})
	t.Run("max-total-tokens", func(t *testing.T) {
		srv := augmenttest.NewServer()
		defer srv.Close()
		opts := testOptions(t, srv)
		opts.Concurrency, opts.MaxTotalTokens = 1, 1
		res := run(t, opts, input)
		if len(srv.Requests()) != 1 {
			t.Errorf("server saw %d requests, want 1", len(srv.Requests()))
		}
		if s := res.aug.Stopped(); s == nil || s.Cause != augment.StopMaxTotalTokens {
			t.Errorf("stopped %v", s)
		}
		if n := strings.Count(res.rejects, `"reason":"stopped"`); n != 3 {
			t.Errorf("%d stopped rejects, want 3", n)
		}
	})
}

func TestDropOriginal(t *testing.T) {
	srv := augmenttest.NewServer()
	defer srv.Close()
	opts := testOptions(t, srv)
	opts.DropOriginal = true
	res := run(t, opts, record("a", sentence1, "ok")+record("b", "hi", "ok")+`{"conversations":[{"from":"human","value":"`+sentence2+`"}]}`+"\n")
	ids, _ := records(t, res.out)
	if strings.Join(ids, " ") != "a#bt-de-0" {
		t.Errorf("ids %v", ids)
	}
	if !strings.Contains(res.rejects, `"reason":"nothing-to-augment"`) || !strings.Contains(res.rejects, `"reason":"missing-id"`) {
		t.Errorf("rejects:\n%s", res.rejects)
	}
	if res.report.Kept != 1 || res.report.Rejected != 2 {
		t.Errorf("report: %d kept, %d rejected", res.report.Kept, res.report.Rejected)
	}
}

func TestAPIKeyNeverShown(t *testing.T) {
	const key = "sk-test-5ecret-K3y"
	srv := augmenttest.NewServer()
	defer srv.Close()
	srv.Fault = func(n int, _ *augmenttest.ChatRequest) *augmenttest.Action {
		if n == 1 { // a server that echoes the key in its error
			return &augmenttest.Action{Status: 401, Body: `{"error":{"message":"Incorrect API key provided: ` + key + `","type":"invalid_request_error"}}`}
		}
		return &augmenttest.Action{Malformed: true, Body: `{"echo":"` + key + `"}`}
	}
	opts := testOptions(t, srv)
	opts.APIKey, opts.Retries = key, 0
	res := run(t, opts, record("a", sentence1, "ok")+record("b", sentence2, "ok"))
	for _, r := range srv.Requests() {
		if r.Auth != "Bearer "+key {
			t.Errorf("request without the key: %q", r.Auth)
		}
	}
	var rep bytes.Buffer
	res.report.WriteJSON(&rep)
	res.stats.WriteText(&rep)
	if !strings.Contains(res.rejects, "Incorrect API key provided: [API key]") {
		t.Errorf("the server's message is not shown, redacted:\n%s", res.rejects)
	}
	for name, s := range map[string]string{"output": res.out, "rejects": res.rejects, "report": rep.String()} {
		if strings.Contains(s, key) {
			t.Errorf("%s shows the API key:\n%s", name, s)
		}
	}
	var dry bytes.Buffer
	opts.DryRun = &dry
	run(t, opts, record("a", sentence1, "ok"))
	if dry.Len() == 0 || strings.Contains(dry.String(), key) {
		t.Errorf("dry run: %q", dry.String())
	}
}

func TestDryRun(t *testing.T) {
	srv := augmenttest.NewServer()
	defer srv.Close()
	opts := testOptions(t, srv)
	// Fill the cache for record a only.
	run(t, opts, record("a", sentence1, "ok"))
	before := len(srv.Requests())
	var dry bytes.Buffer
	opts.DryRun = &dry
	res := run(t, opts, record("a", sentence1, "ok")+record("b", withCode, "ok"))
	if len(srv.Requests()) != before {
		t.Errorf("a dry run sent %d requests", len(srv.Requests())-before)
	}
	lines := strings.Split(strings.TrimSpace(dry.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("dry run lines:\n%s", dry.String())
	}
	var first struct {
		ID, Step string
		Cached   bool
		Request  struct {
			Model    string
			Messages []augment.Message
		}
	}
	json.Unmarshal([]byte(lines[0]), &first)
	if first.ID != "a#bt-de-0" || first.Step != "to-de" || !first.Cached || first.Request.Model != "fake-vicuna" || !strings.Contains(first.Request.Messages[1].Content, "into German") {
		t.Errorf("first line %s", lines[0])
	}
	if !strings.Contains(lines[1], `"step":"from-de","key"`) || !strings.Contains(lines[1], `"cached":true`) {
		t.Errorf("second line %s", lines[1])
	}
	if !strings.Contains(lines[2], `"id":"b#bt-de-0"`) || !strings.Contains(lines[2], `"cached":false`) || !strings.Contains(lines[2], "[[CODE_1]]") {
		t.Errorf("third line %s", lines[2])
	}
	if res.stats.DryRunSend != 1 || res.stats.DryRunCached != 2 {
		t.Errorf("stats %+v", res.stats)
	}
}

func TestCacheDamage(t *testing.T) {
	srv := augmenttest.NewServer()
	defer srv.Close()
	opts := testOptions(t, srv)
	first := run(t, opts, record("a", sentence1, "ok"))
	// Damage one entry and leave a temporary file as a crash would.
	var entries []string
	filepath.Walk(opts.CacheDir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			entries = append(entries, p)
		}
		return nil
	})
	if len(entries) != 2 {
		t.Fatalf("cache holds %v, want 2 entries", entries)
	}
	os.WriteFile(entries[0], []byte(`{"version":1,"key":"`), 0o644)
	os.WriteFile(filepath.Join(filepath.Dir(entries[1]), ".tmp-deadbeef"), []byte("{"), 0o644)
	again := run(t, opts, record("a", sentence1, "ok"))
	if again.out != first.out || again.stats.Requests != 1 || again.stats.CacheCorrupt != 1 || again.stats.CacheHits != 1 {
		t.Errorf("after damage: %d requests, %d corrupt, %d hits; same output %v", again.stats.Requests, again.stats.CacheCorrupt, again.stats.CacheHits, again.out == first.out)
	}
	third := run(t, opts, record("a", sentence1, "ok"))
	if third.stats.Requests != 0 {
		t.Errorf("the damaged entry was not rewritten: %d requests", third.stats.Requests)
	}
}

func TestCacheKeyIgnoresURL(t *testing.T) {
	a, b := augmenttest.NewServer(), augmenttest.NewServer()
	defer a.Close()
	defer b.Close()
	opts := testOptions(t, a)
	run(t, opts, record("x", sentence1, "ok"))
	opts.BaseURL = b.BaseURL()
	res := run(t, opts, record("x", sentence1, "ok"))
	if len(b.Requests()) != 0 || res.stats.CacheHits != 2 {
		t.Errorf("another server's address changed the key: %d requests", len(b.Requests()))
	}
	opts.Temperature = 0.5
	run(t, opts, record("x", sentence1, "ok"))
	if len(b.Requests()) != 2 {
		t.Errorf("another temperature did not change the key: %d requests", len(b.Requests()))
	}
}

func TestOptionErrors(t *testing.T) {
	srv := augmenttest.NewServer()
	defer srv.Close()
	tests := []struct {
		name string
		set  func(*augment.Options)
		want string
	}{
		{"no cache", func(o *augment.Options) { o.CacheDir = "" }, "no cache directory"},
		{"paraphrase with pivot", func(o *augment.Options) { o.Method = augment.Paraphrase }, "paraphrase takes no pivot"},
		{"bad sim", func(o *augment.Options) { o.MinSim, o.MaxSim = 0.9, 0.1 }, "similarity bounds"},
		{"bad url", func(o *augment.Options) { o.BaseURL = "localhost:8000" }, "want http://"},
		{"extra model", func(o *augment.Options) { o.ExtraBody = map[string]any{"model": "x"} }, `cannot set "model"`},
		{"no models", func(o *augment.Options) { o.Model = ""; srv.Models = nil }, "lists no model"},
		{"server down", func(o *augment.Options) { o.Model = ""; o.BaseURL = "http://127.0.0.1:1/v1"; o.Retries = 0 }, "model list could not be read: connection"},
	}
	for _, tt := range tests {
		opts := testOptions(t, srv)
		tt.set(&opts)
		_, err := augment.New(context.Background(), opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestContextErrorsDoNotStop: prompts too long for the model's context are
// the requests' fault, not the server's; a wrong key is the server saying
// no to everything.
func TestContextErrorsDoNotStop(t *testing.T) {
	input := record("a", sentence1, "ok") + record("b", sentence2, "ok") + record("c", sentence3, "ok") + record("d", withCode, "ok")
	tests := []struct {
		name      string
		action    augmenttest.Action
		stopped   string
		requests  int
		rejection string
	}{
		{"context exceeded", augmenttest.Action{Status: 400, Body: `{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error"}}`}, "", 4, "context-exceeded"},
		{"vLLM wording", augmenttest.Action{Status: 400, Body: `{"object":"error","message":"This model's maximum context length is 2048 tokens. However, you requested 2100 tokens.","type":"BadRequestError","code":400}`}, "", 4, "context-exceeded"},
		{"wrong key", augmenttest.Action{Status: 401, Body: `{"error":{"message":"Invalid API key","type":"auth"}}`}, augment.StopFailures, 2, "http-401"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := augmenttest.NewServer()
			defer srv.Close()
			srv.Fault = func(int, *augmenttest.ChatRequest) *augmenttest.Action { a := tt.action; return &a }
			opts := testOptions(t, srv)
			opts.Concurrency, opts.MaxConsecutiveFailures = 1, 2
			res := run(t, opts, input)
			if res.stats.Stopped != tt.stopped || len(srv.Requests()) != tt.requests {
				t.Errorf("stopped %q after %d requests, want %q after %d", res.stats.Stopped, len(srv.Requests()), tt.stopped, tt.requests)
			}
			if !strings.Contains(res.rejects, `"reason":"request-failed","detail":"turn 0: `+tt.rejection) {
				t.Errorf("rejects:\n%s", res.rejects)
			}
		})
	}
}

func TestConcurrencyAndRate(t *testing.T) {
	input := func(n int) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(record(fmt.Sprint(i), sentence1+strings.Repeat(" Tell me more.", i), "ok"))
		}
		return b.String()
	}
	t.Run("concurrency", func(t *testing.T) {
		srv := augmenttest.NewServer()
		defer srv.Close()
		srv.Fault = func(int, *augmenttest.ChatRequest) *augmenttest.Action {
			return &augmenttest.Action{Hang: 20 * time.Millisecond}
		}
		opts := testOptions(t, srv)
		opts.Concurrency = 6
		run(t, opts, input(24))
		if got := srv.MaxInFlight(); got != 6 {
			t.Errorf("at most %d requests in flight, want 6", got)
		}
	})
	t.Run("rps", func(t *testing.T) {
		srv := augmenttest.NewServer()
		defer srv.Close()
		opts := testOptions(t, srv)
		opts.Concurrency, opts.RPS = 8, 40
		start := time.Now()
		run(t, opts, input(10))
		// 10 records, 20 requests at 40/s: at least 19 intervals of 25ms.
		if d := time.Since(start); d < 450*time.Millisecond {
			t.Errorf("20 requests at 40 per second took %s", d)
		}
		if len(srv.Requests()) != 20 {
			t.Errorf("%d requests, want 20", len(srv.Requests()))
		}
	})
}

func TestPromptFileAndRoles(t *testing.T) {
	srv := augmenttest.NewServer()
	defer srv.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "prompts.json")
	os.WriteFile(file, []byte(`{"version": "terse-v2", "translate": {"system": "", "user": "Translate from {{.From}} into {{.To}}.\n\n{{.Text}}"}}`), 0o644)
	prompts, err := augment.LoadPrompts(file)
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions(t, srv)
	opts.Prompts, opts.Roles = prompts, "gpt"
	res := run(t, opts, record("a", "hi", sentence2))
	_, recs := records(t, res.out)
	aug := recs["a#bt-de-0"]
	if aug == nil || turnValue(aug, 0) != "hi" || turnValue(aug, 1) != "Can you compose a brief tale about a courageous small dog who discovers his path home?" {
		t.Fatalf("output:\n%s\nrejects:\n%s", res.out, res.rejects)
	}
	if v := aug["augmentation"].(map[string]any)["prompt_version"]; v != "terse-v2" {
		t.Errorf("prompt version %v", v)
	}
	var req augmenttest.ChatRequest
	json.Unmarshal([]byte(srv.Requests()[0].Body), &req)
	if len(req.Messages) != 1 || req.Messages[0].Content != "Translate from English into German.\n\n"+sentence2 {
		t.Errorf("request messages %+v", req.Messages)
	}
}
