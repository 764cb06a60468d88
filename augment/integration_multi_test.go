package augment_test

// Integration test of several endpoints against two real llama-server
// processes on the tiny model (see integration_test.go; skipped, saying
// why, only when llama-server is not installed: CI sets LLAMA_SERVER).

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sharegpt/sharegpt/augment"
	"github.com/sharegpt/sharegpt/internal/llamaserver"
	"github.com/sharegpt/sharegpt/internal/llamaserver/llamaservertest"
)

// answerProxy forwards to a server and logs the bodies of the chat
// completions that got a 200.
type answerProxy struct {
	*httptest.Server
	mu       sync.Mutex
	answered []string
}

func newAnswerProxy(t *testing.T, target string) *answerProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	rp.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	p := &answerProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &statusWriter{ResponseWriter: w}
		rp.ServeHTTP(rec, r)
		if strings.HasSuffix(r.URL.Path, "/chat/completions") && rec.status == http.StatusOK {
			p.mu.Lock()
			p.answered = append(p.answered, string(body))
			p.mu.Unlock()
		}
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *answerProxy) answers() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.answered...)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// questions returns n distinct one-turn records (one request each: the
// 32-token answers are truncated, so no second hop follows).
func questions(prefix string, n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(itRecord(fmt.Sprintf("%s-%d", prefix, i), fmt.Sprintf("Question %s %d: how do llamas and alpacas differ in size, wool and temperament?", prefix, i), "ok"))
	}
	return b.String()
}

func TestIntegrationTwoServers(t *testing.T) {
	s1 := llamaservertest.StartTiny(t, llamaserver.Options{})
	s2 := llamaservertest.StartTiny(t, llamaserver.Options{})
	p1, p2 := newAnswerProxy(t, s1.URL), newAnswerProxy(t, s2.URL)

	base := augment.DefaultOptions()
	base.BaseURL = ""
	base.Model = s1.Model
	base.Pivots = []string{"de"}
	base.Temperature = 0
	base.Languages = []string{"en", "de"}
	base.MaxTokens = 32
	base.ExtraBody = map[string]any{"ignore_eos": true} // answers of exactly 32 tokens
	base.Timeout = 60 * time.Second
	base.BackoffBase, base.BackoffMax = 20*time.Millisecond, 500*time.Millisecond
	base.EndpointConcurrency = 4 // the servers' 4 slots

	// Throughput: the same number of distinct requests through one server,
	// then through both, after a warm-up of both (a fresh server's first
	// requests are slow).
	warm := base
	warm.BaseURLs, warm.Concurrency, warm.CacheDir = []string{s1.URL, s2.URL}, 8, t.TempDir()
	itRun(t, warm, questions("warm", 16), t.TempDir())
	const tp = 96
	one := base
	one.BaseURLs, one.Concurrency, one.CacheDir = []string{s1.URL}, 4, t.TempDir()
	r1 := itRun(t, one, questions("one", tp), t.TempDir())
	two := base
	two.BaseURLs, two.Concurrency, two.CacheDir = []string{s1.URL, s2.URL}, 8, t.TempDir()
	r2 := itRun(t, two, questions("two", tp), t.TempDir())
	if r1.stats.Answers != tp || r2.stats.Answers != tp {
		t.Fatalf("answers %d and %d, want %d each", r1.stats.Answers, r2.stats.Answers, tp)
	}
	if len(r2.stats.Endpoints) != 2 || r2.stats.Endpoints[0].Answers == 0 || r2.stats.Endpoints[1].Answers == 0 {
		t.Errorf("endpoints %+v: want both to answer", r2.stats.Endpoints)
	}
	rps1, rps2 := tp/r1.runSeconds, tp/r2.runSeconds
	figure := fmt.Sprintf("throughput, %d requests of 32 tokens: one server %.1f requests/s (%.2f s), two servers %.1f requests/s (%.2f s), x%.2f",
		tp, rps1, r1.runSeconds, rps2, r2.runSeconds, rps2/rps1)
	t.Log(figure)
	for _, e := range r2.stats.Endpoints {
		t.Logf("  %s: %d requests, latency p50 %.3fs p90 %.3fs p99 %.3fs, %.1f completion tokens/s", e.URL, e.Requests, e.LatencyP50, e.LatencyP90, e.LatencyP99, e.TokensPerSec)
	}

	// Failover: 60 requests through both (behind logging proxies); the
	// second server is killed (SIGKILL) after about 20 answers.
	const n = 60
	opts := base
	opts.BaseURLs, opts.Concurrency, opts.CacheDir = []string{p1.URL + "/v1", p2.URL + "/v1"}, 8, t.TempDir()
	input := questions("kill", n)
	dir := t.TempDir()
	killed := make(chan int, 1)
	go func() {
		deadline := time.Now().Add(3 * time.Minute)
		for time.Now().Before(deadline) {
			if c := cacheLen(t, opts.CacheDir); c >= 20 {
				s2.Kill()
				killed <- c
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		killed <- -1
	}()
	res := itRun(t, opts, input, dir)
	at := <-killed
	if at < 0 {
		t.Fatal("the run ended before 20 answers were cached")
	}
	if res.stats.Stopped != "" {
		t.Fatalf("stopped: %s", res.stats.StopDetail)
	}
	// Every record: its original kept, its augmentation rejected with a
	// reason (truncated: 32-token answers), none stopped or failed.
	if res.report.Kept != n || len(res.rejects) != n {
		t.Errorf("%d kept, %d rejects; want %d each", res.report.Kept, len(res.rejects), n)
	}
	if got := reasons(res.rejects); got["truncated"] != n {
		t.Errorf("reject reasons %v, want %d truncated", got, n)
	}
	seen := map[string]int{}
	for _, b := range append(p1.answers(), p2.answers()...) {
		seen[b]++
	}
	for b, c := range seen {
		if c > 1 {
			t.Errorf("answered %d times: %.80s", c, b)
		}
	}
	if len(seen) != n {
		t.Errorf("%d distinct requests answered, want %d", len(seen), n)
	}
	e2 := res.stats.Endpoints[1]
	if e2.State != "down" || e2.Failures == 0 {
		t.Errorf("the killed server: %+v, want down with failures", e2)
	}
	t.Logf("killed the second server after %d cached answers: it answered %d, the first %d; %d failovers, %d retries",
		at, len(p2.answers()), len(p1.answers()), res.stats.Failovers, res.stats.Retries)

	// A rerun from the cache: the same bytes, no request.
	again := itRun(t, opts, input, t.TempDir())
	if !bytes.Equal(again.out, res.out) || fmt.Sprint(again.rejects) != fmt.Sprint(res.rejects) || again.stats.Requests != 0 {
		t.Errorf("the rerun from the cache differs or sent %d requests", again.stats.Requests)
	}
}
