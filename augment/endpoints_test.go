package augment_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sharegpt/sharegpt/augment"
	"github.com/sharegpt/sharegpt/augment/augmenttest"
)

// manyRecords is n records of distinct sentences the fake server
// translates: 2n requests for a backtranslation through de.
func manyRecords(n int) string {
	var b strings.Builder
	for i := range n {
		s := []string{sentence1, sentence2, sentence3, withCode}[i%4]
		b.WriteString(record(fmt.Sprintf("r%02d", i), s+strings.Repeat(" Tell me more.", i/4), "ok"))
	}
	return b.String()
}

// multiOptions are testOptions over several fake servers.
func multiOptions(t *testing.T, srvs ...*augmenttest.Server) augment.Options {
	o := testOptions(t, srvs[0])
	o.BaseURL = ""
	for _, s := range srvs {
		o.BaseURLs = append(o.BaseURLs, s.BaseURL())
	}
	return o
}

func endpointStats(t *testing.T, st augment.Stats, srv *augmenttest.Server) augment.EndpointStats {
	t.Helper()
	for _, e := range st.Endpoints {
		if e.URL == srv.BaseURL() {
			return e
		}
	}
	t.Fatalf("no endpoint %s in %+v", srv.BaseURL(), st.Endpoints)
	return augment.EndpointStats{}
}

func chatCount(srv *augmenttest.Server) (chats, models int) {
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "/models") {
			models++
		} else {
			chats++
		}
	}
	return chats, models
}

// duplicatesAcross returns the bodies answered more than once by any of
// the servers together.
func duplicatesAcross(srvs ...*augmenttest.Server) []string {
	seen := map[string]int{}
	var dups []string
	for _, s := range srvs {
		for _, r := range s.Answered() {
			seen[r.Body]++
			if seen[r.Body] == 2 {
				dups = append(dups, r.Body)
			}
		}
	}
	return dups
}

// TestEndpointsLeastInFlight: two healthy endpoints share the requests,
// each within its cap, and the report has each one's figures.
func TestEndpointsLeastInFlight(t *testing.T) {
	a, b := augmenttest.NewServer(), augmenttest.NewServer()
	defer a.Close()
	defer b.Close()
	slow := func(int, *augmenttest.ChatRequest) *augmenttest.Action {
		return &augmenttest.Action{Hang: 20 * time.Millisecond}
	}
	a.Fault, b.Fault = slow, slow
	opts := multiOptions(t, a, b)
	opts.Concurrency, opts.EndpointConcurrency = 8, 3
	res := run(t, opts, manyRecords(24))
	if res.stats.Augmented != 24 || res.stats.Answers != 48 {
		t.Fatalf("%d augmented, %d answers; want 24, 48", res.stats.Augmented, res.stats.Answers)
	}
	ca, ma := chatCount(a)
	cb, mb := chatCount(b)
	if ca+cb != 48 || ca < 12 || cb < 12 {
		t.Errorf("chat requests %d on a, %d on b: want 48 shared (least in flight)", ca, cb)
	}
	if ma != 1 || mb != 1 {
		t.Errorf("GET /models %d on a, %d on b: want one model check each at the start", ma, mb)
	}
	if a.MaxInFlight() > 3 || b.MaxInFlight() > 3 || a.MaxInFlight()+b.MaxInFlight() < 5 {
		t.Errorf("most in flight: %d on a, %d on b; want at most 3 each (--endpoint-concurrency) and both busy", a.MaxInFlight(), b.MaxInFlight())
	}
	ea, eb := endpointStats(t, res.stats, a), endpointStats(t, res.stats, b)
	if ea.Requests != int64(ca) || eb.Requests != int64(cb) || ea.Answers != ea.Requests || ea.Failures != 0 {
		t.Errorf("endpoint stats %+v %+v, servers saw %d and %d", ea, eb, ca, cb)
	}
	if ea.LatencyP50 < 0.019 || ea.LatencyP50 > ea.LatencyP90 || ea.LatencyP90 > ea.LatencyP99 || ea.LatencyP99 > 5 {
		t.Errorf("latency p50 %.4f p90 %.4f p99 %.4f: want ordered, above the 20 ms hang", ea.LatencyP50, ea.LatencyP90, ea.LatencyP99)
	}
	if ea.CompletionTokens <= 0 || ea.TokensPerSec <= 0 || ea.State != "live" {
		t.Errorf("endpoint a: %+v", ea)
	}
	var text strings.Builder
	res.stats.WriteText(&text)
	if !strings.Contains(text.String(), "augment: endpoint "+a.BaseURL()+" (live): ") || !strings.Contains(text.String(), "latency p50") {
		t.Errorf("summary lacks the endpoint lines:\n%s", text.String())
	}
}

// TestEndpointFailures covers an endpoint down from the start, one that
// fails and is taken out, one that recovers, and all of them down.
func TestEndpointFailures(t *testing.T) {
	type check func(t *testing.T, res result, good, bad *augmenttest.Server)
	tests := []struct {
		name    string
		badDead bool // the second server is closed before the run
		badChat func(n int, req *augmenttest.ChatRequest) *augmenttest.Action
		good    func(n int, req *augmenttest.ChatRequest) *augmenttest.Action
		opts    func(*augment.Options)
		check   check
		// allDownAfter > 0: after this many requests to the good server,
		// both answer 502 and fail their probes.
		allDownAfter int
	}{
		{
			name: "down from the start: the run goes on without it", badDead: true,
			check: func(t *testing.T, res result, good, _ *augmenttest.Server) {
				if res.stats.Augmented != 12 || res.stats.Failovers != 0 {
					t.Errorf("%d augmented, %d failovers; want 12, 0", res.stats.Augmented, res.stats.Failovers)
				}
				if len(res.stats.Endpoints) != 2 || res.stats.Endpoints[1].Requests != 0 || res.stats.Endpoints[1].State != "down" ||
					!strings.Contains(res.stats.Endpoints[1].LastError, "connection") {
					t.Errorf("endpoints %+v: want the dead one down, with no request", res.stats.Endpoints)
				}
			},
		},
		{
			name: "5xx takes it out; its request fails over at once",
			badChat: func(int, *augmenttest.ChatRequest) *augmenttest.Action {
				return &augmenttest.Action{Status: 503}
			},
			check: func(t *testing.T, res result, good, bad *augmenttest.Server) {
				if res.stats.Augmented != 12 || res.rejects != "" || res.stats.FailedRequests != 0 {
					t.Errorf("%d augmented, %d failed, rejects %q: want all 12 through the good endpoint", res.stats.Augmented, res.stats.FailedRequests, res.rejects)
				}
				eb := endpointStats(t, res.stats, bad)
				if eb.Failures == 0 || eb.Answers != 0 || res.stats.Failovers != eb.Failures || res.stats.Retries != 0 {
					t.Errorf("bad endpoint %+v, %d failovers, %d retries: every failure must fail over without a retry", eb, res.stats.Failovers, res.stats.Retries)
				}
				if ch, _ := chatCount(good); ch != 24 {
					t.Errorf("the good endpoint answered %d, want 24", ch)
				}
			},
		},
		{
			name: "recovery: probed on /models, then traffic again",
			badChat: func(n int, _ *augmenttest.ChatRequest) *augmenttest.Action {
				if n <= 2 {
					return &augmenttest.Action{Status: 500}
				}
				return &augmenttest.Action{Hang: 10 * time.Millisecond}
			},
			good: func(int, *augmenttest.ChatRequest) *augmenttest.Action {
				return &augmenttest.Action{Hang: 10 * time.Millisecond}
			},
			opts: func(o *augment.Options) { o.Concurrency = 4 },
			check: func(t *testing.T, res result, _, bad *augmenttest.Server) {
				if res.stats.Augmented != 12 || res.rejects != "" {
					t.Errorf("%d augmented, rejects %q", res.stats.Augmented, res.rejects)
				}
				eb := endpointStats(t, res.stats, bad)
				if eb.Answers == 0 || eb.Failures == 0 || eb.State != "live" {
					t.Errorf("bad endpoint %+v: want failures, then answers after its recovery", eb)
				}
				// Between its first failure and its next chat request there is a
				// successful GET /models (the health probe).
				var seq []string
				failed := false
				for _, r := range bad.Requests() {
					switch {
					case strings.HasSuffix(r.Path, "/models") && failed:
						seq = append(seq, "probe "+r.Outcome)
					case strings.HasSuffix(r.Path, "/chat/completions") && strings.HasPrefix(r.Outcome, "status 5"):
						failed = true
						seq = append(seq, "fail")
					case strings.HasSuffix(r.Path, "/chat/completions") && failed:
						seq = append(seq, "chat")
					}
				}
				s := strings.Join(seq, ",")
				if i := strings.Index(s, "chat"); i < 0 || !strings.Contains(s[:i], "probe answered") {
					t.Errorf("requests after the failure %s: want a probe before traffic returns", s)
				}
			},
		},
		{
			// From the good server's third request on, both answer 502 and
			// fail their health probes: no endpoint is left.
			name: "all down: a clean stop as with one server",
			badChat: func(int, *augmenttest.ChatRequest) *augmenttest.Action {
				return &augmenttest.Action{Status: 502}
			},
			allDownAfter: 2,
			opts: func(o *augment.Options) {
				o.Concurrency, o.Retries, o.MaxConsecutiveFailures = 1, 2, 2
				o.BackoffBase, o.BackoffMax = 100*time.Millisecond, 200*time.Millisecond
			},
			check: func(t *testing.T, res result, _, _ *augmenttest.Server) {
				if res.stats.Stopped != augment.StopFailures {
					t.Fatalf("stopped %q (%s), want %s", res.stats.Stopped, res.stats.StopDetail, augment.StopFailures)
				}
				ids, _ := records(t, res.out)
				if len(ids) != 13 || ids[0] != "r00" || ids[1] != "r00#bt-de-0" {
					t.Errorf("output ids %v: want every original and the finished augmentation", ids)
				}
				_, rejects := records(t, res.rejects)
				reasons := map[string]int{}
				for _, r := range rejects {
					reasons[r["reason"].(string)]++
				}
				if reasons["request-failed"] != 2 || reasons["stopped"] != 9 {
					t.Errorf("reject reasons %v, want 2 request-failed and 9 stopped", reasons)
				}
				if res.stats.Failures[augment.CauseNoEndpoint] == 0 {
					t.Errorf("failures %v: want attempts that found no endpoint", res.stats.Failures)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			good, bad := augmenttest.NewServer(), augmenttest.NewServer()
			defer good.Close()
			defer bad.Close()
			good.Fault, bad.Fault = tc.good, tc.badChat
			if n := tc.allDownAfter; n > 0 {
				good.Fault = func(i int, _ *augmenttest.ChatRequest) *augmenttest.Action {
					if i <= n {
						return nil
					}
					down := &augmenttest.Action{Status: 503}
					good.SetModelsFault(down)
					bad.SetModelsFault(down)
					return &augmenttest.Action{Status: 502}
				}
			}
			opts := multiOptions(t, good, bad)
			opts.Concurrency = 2
			opts.BackoffBase, opts.BackoffMax = time.Millisecond, 20*time.Millisecond
			if tc.opts != nil {
				tc.opts(&opts)
			}
			if tc.badDead {
				bad.Close()
			}
			res := run(t, opts, manyRecords(12))
			tc.check(t, res, good, bad)
		})
	}
}

func TestEndpointModelCheck(t *testing.T) {
	a, b := augmenttest.NewServer(), augmenttest.NewServer()
	defer a.Close()
	defer b.Close()
	b.Models = []string{"other-model"}
	opts := multiOptions(t, a, b)
	_, err := augment.New(context.Background(), opts)
	var mm *augment.ModelMismatchError
	if !errors.As(err, &mm) || mm.URL != b.BaseURL() || mm.Model != "fake-vicuna" || !strings.Contains(err.Error(), `serves "other-model", not "fake-vicuna"`) {
		t.Fatalf("err %v, want a model mismatch naming %s", err, b.BaseURL())
	}
	// No model named: the first endpoint's first model, which the second
	// must list too.
	b.Models = []string{"extra", "fake-vicuna"}
	opts.Model = ""
	aug, err := augment.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer aug.Close()
	if aug.Model() != "fake-vicuna" {
		t.Errorf("model %q", aug.Model())
	}
	// None answers: an error at the start.
	a.Close()
	b.Close()
	opts.Model = "fake-vicuna"
	if _, err := augment.New(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "none of the 2 endpoints answers") {
		t.Errorf("err %v", err)
	}
}

// TestEndpointsFileReload: an endpoint added to the file (SIGHUP) is
// probed, then shares the work; one removed gets no new request.
func TestEndpointsFileReload(t *testing.T) {
	a, b := augmenttest.NewServer(), augmenttest.NewServer()
	defer a.Close()
	defer b.Close()
	release := make(chan struct{})
	var once sync.Once
	hold := func(n int, _ *augmenttest.ChatRequest) *augmenttest.Action {
		if n <= 2 {
			return &augmenttest.Action{Block: release}
		}
		return &augmenttest.Action{Hang: 5 * time.Millisecond}
	}
	a.Fault = hold
	file := filepath.Join(t.TempDir(), "endpoints.txt")
	if err := os.WriteFile(file, []byte("# servers\n"+a.BaseURL()+" 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := testOptions(t, a)
	opts.BaseURL, opts.EndpointsFile, opts.Concurrency = "", file, 4
	errc := make(chan error, 1)
	var res result
	go func() {
		var err error
		res, err = tryRun(t, opts, manyRecords(12))
		errc <- err
	}()
	// Both of a's slots hold a request: add b and send SIGHUP.
	deadline := time.Now().Add(10 * time.Second)
	for a.MaxInFlight() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := os.WriteFile(file, []byte(a.BaseURL()+" 2\n"+b.BaseURL()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for len(b.Answered()) < 4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	once.Do(func() { close(release) })
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if res.stats.Augmented != 12 {
		t.Errorf("%d augmented", res.stats.Augmented)
	}
	if n := len(b.Answered()); n < 4 {
		t.Errorf("b answered %d after the reload, want at least 4", n)
	}
	if reqs := b.Requests(); len(reqs) == 0 || !strings.HasSuffix(reqs[0].Path, "/models") {
		t.Errorf("b's first request %+v: want the health probe before traffic", reqs)
	}
	if len(res.stats.Endpoints) != 2 {
		t.Errorf("endpoints %+v", res.stats.Endpoints)
	}
}

// TestReloadRemoves: an endpoint no longer in the file gets no new request.
func TestReloadRemoves(t *testing.T) {
	a, b := augmenttest.NewServer(), augmenttest.NewServer()
	defer a.Close()
	defer b.Close()
	file := filepath.Join(t.TempDir(), "endpoints.txt")
	if err := os.WriteFile(file, []byte(a.BaseURL()+"\n"+b.BaseURL()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := testOptions(t, a)
	opts.BaseURL, opts.EndpointsFile = "", file
	aug, err := augment.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(a.BaseURL()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	added, removed, err := aug.ReloadEndpoints()
	defer aug.Close()
	if err != nil || added != 0 || removed != 1 {
		t.Fatalf("reload: %d added, %d removed, %v; want 0, 1", added, removed, err)
	}
	if err := os.WriteFile(file, []byte("ftp://x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := aug.ReloadEndpoints(); err == nil || !strings.Contains(err.Error(), "endpoints.txt:1: want an http:// or https:// URL") {
		t.Errorf("bad file: %v", err)
	}
	var eb augment.EndpointStats
	for _, e := range aug.Stats().Endpoints {
		if e.URL == b.BaseURL() {
			eb = e
		}
	}
	if eb.State != "removed" {
		t.Errorf("b after the reload: %+v, want removed", eb)
	}
}

// TestServerKilledMidRun: one of two servers dies with requests in
// flight; they are sent again to the other, the run completes, and no
// request is answered twice.
func TestServerKilledMidRun(t *testing.T) {
	a, b := augmenttest.NewServer(), augmenttest.NewServer()
	defer a.Close()
	hold := make(chan struct{})
	defer close(hold)
	const answeredByB = 5
	b.SetFault(func(n int, _ *augmenttest.ChatRequest) *augmenttest.Action {
		if n > answeredByB {
			return &augmenttest.Action{Block: hold}
		}
		return nil
	})
	a.SetFault(func(int, *augmenttest.ChatRequest) *augmenttest.Action {
		return &augmenttest.Action{Hang: 5 * time.Millisecond}
	})
	opts := multiOptions(t, a, b)
	opts.Concurrency, opts.EndpointConcurrency = 6, 3
	errc := make(chan error, 1)
	var res result
	go func() {
		var err error
		res, err = tryRun(t, opts, manyRecords(20))
		errc <- err
	}()
	pending := func() int {
		n := 0
		for _, r := range b.Requests() {
			if r.Outcome == "pending" {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(10 * time.Second)
	for pending() < 3 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	inFlight := pending()
	b.CloseClientConnections()
	b.Close()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if inFlight == 0 {
		t.Fatal("no request was in flight on b when it died")
	}
	if res.stats.Augmented != 20 || res.rejects != "" {
		t.Errorf("%d augmented, rejects %q; want all 20", res.stats.Augmented, res.rejects)
	}
	if dups := duplicatesAcross(a, b); len(dups) != 0 {
		t.Errorf("%d requests answered twice", len(dups))
	}
	if got := len(a.Answered()) + len(b.Answered()); got != 40 {
		t.Errorf("%d answers in all, want 40", got)
	}
	if len(b.Answered()) != answeredByB || res.stats.Failovers < int64(inFlight) {
		t.Errorf("b answered %d (want %d); %d failovers for %d requests in flight on b", len(b.Answered()), answeredByB, res.stats.Failovers, inFlight)
	}
}

// TestEndpointSecretsNeverShown: the API key and a secret query value of
// an endpoint's URL, echoed by a failing server, appear in none of the log
// lines, the per-endpoint report, the summary or the rejects.
func TestEndpointSecretsNeverShown(t *testing.T) {
	const (
		key = "sk-secret-0123456789abcdefghij"
		tok = "tok-query-4567890"
	)
	good, bad := augmenttest.NewServer(), augmenttest.NewServer()
	defer good.Close()
	defer bad.Close()
	bad.Fault = func(int, *augmenttest.ChatRequest) *augmenttest.Action {
		return &augmenttest.Action{Status: 500, Body: "bad key " + key + " for " + tok}
	}
	opts := testOptions(t, good)
	opts.BaseURL, opts.APIKey = "", key
	opts.BaseURLs = []string{good.BaseURL(), bad.BaseURL() + "?api-key=" + tok}
	var log strings.Builder
	opts.Log = &syncWriter{w: &log}
	res := run(t, opts, manyRecords(8))
	if res.stats.Augmented != 8 {
		t.Fatalf("%d augmented", res.stats.Augmented)
	}
	report, _ := json.Marshal(res.stats)
	var summary strings.Builder
	res.stats.WriteText(&summary)
	if !strings.Contains(log.String(), "taken out") || !strings.Contains(string(report), "api-key=[redacted]") {
		t.Errorf("log %q, report %s: want the endpoint taken out, its URL redacted", log.String(), report)
	}
	for name, text := range map[string]string{"log": log.String(), "report": string(report), "summary": summary.String(), "rejects": res.rejects} {
		noSecret(t, name, text, key, tok)
	}
	// A model mismatch names the endpoint redacted.
	bad.Models = []string{"other"}
	_, err := augment.New(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "api-key=[redacted]") {
		t.Errorf("mismatch error %v", err)
	}
	if err != nil {
		noSecret(t, "mismatch error", err.Error(), key, tok)
	}
}

// syncWriter serializes writes (the log is written from several
// goroutines; the augmenter serializes, this guards the test's reads).
type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
