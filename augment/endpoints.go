package augment

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CauseNoEndpoint is an attempt that found every endpoint out (failed and
// not yet healthy again): it is retried with backoff, and woken early when
// an endpoint returns.
const CauseNoEndpoint = "no-endpoint"

// errNoEndpoint: every endpoint is out.
var errNoEndpoint = errors.New("no endpoint")

// Endpoint states.
const (
	stateLive    = "live"
	stateDown    = "down"    // failed; probed with backoff
	stateRemoved = "removed" // no longer in the endpoints file
)

// endpoint is one server of the pool. Fields below mu are guarded by the
// pool's mutex.
type endpoint struct {
	url   string // API root without a trailing slash
	shown string // url redacted
	cap   int

	state     string
	inFlight  int
	downFails int // failures in a row: the failure that took it out, then failed probes
	lastErr   string

	requests, answers, failures int64
	completionTokens            int64
	lat                         latencyHist
}

// EndpointSpec is one line of an endpoints file.
type EndpointSpec struct {
	URL         string
	Concurrency int // 0: Options.EndpointConcurrency
}

// ReadEndpointsFile reads an endpoints file: one "URL [CONCURRENCY]" a
// line; blank lines and lines starting with # are skipped.
func ReadEndpointsFile(path string) ([]EndpointSpec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []EndpointSpec
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) > 2 {
			return nil, fmt.Errorf("%s:%d: want URL [CONCURRENCY]", path, n)
		}
		spec := EndpointSpec{URL: fields[0]}
		if !strings.HasPrefix(spec.URL, "http://") && !strings.HasPrefix(spec.URL, "https://") {
			return nil, fmt.Errorf("%s:%d: want an http:// or https:// URL", path, n)
		}
		if len(fields) == 2 {
			c, err := strconv.Atoi(fields[1])
			if err != nil || c < 1 {
				return nil, fmt.Errorf("%s:%d: concurrency %q: want a positive integer", path, n, fields[1])
			}
			spec.Concurrency = c
		}
		out = append(out, spec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// endpointSpecs lists the endpoints the options name: BaseURLs, then the
// endpoints file's, else BaseURL; a URL named twice counts once.
func (o *Options) endpointSpecs() ([]EndpointSpec, error) {
	var specs []EndpointSpec
	for _, u := range o.BaseURLs {
		specs = append(specs, EndpointSpec{URL: u})
	}
	if o.EndpointsFile != "" {
		fs, err := ReadEndpointsFile(o.EndpointsFile)
		if err != nil {
			return nil, fmt.Errorf("endpoints file: %w", err)
		}
		specs = append(specs, fs...)
	}
	if len(specs) == 0 && o.EndpointsFile == "" {
		specs = []EndpointSpec{{URL: o.BaseURL}}
	}
	var out []EndpointSpec
	seen := map[string]bool{}
	for _, s := range specs {
		k := strings.TrimRight(s.URL, "/")
		if !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	return out, nil
}

// pool routes requests over the endpoints.
type pool struct {
	opts     *Options
	failover bool // take failed endpoints out (more than one endpoint, or a file)
	logf     func(format string, args ...any)
	probe    func(ctx context.Context, ep *endpoint) error
	ctx      context.Context // of the probers; cancelled by close
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	mu      sync.Mutex
	eps     []*endpoint
	changed chan struct{} // closed (and replaced) whenever a slot frees or an endpoint changes state
	up      chan struct{} // closed (and replaced) whenever an endpoint becomes live
}

func newPool(opts *Options, failover bool, probe func(context.Context, *endpoint) error) *pool {
	ctx, cancel := context.WithCancel(context.Background())
	return &pool{opts: opts, failover: failover, probe: probe, ctx: ctx, cancel: cancel, changed: make(chan struct{}), up: make(chan struct{})}
}

// broadcast wakes the waiters; p.mu is held.
func (p *pool) broadcast() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// broadcastUp wakes the requests waiting for a live endpoint; p.mu is
// held.
func (p *pool) broadcastUp() {
	close(p.up)
	p.up = make(chan struct{})
}

// waitUp returns a channel closed when an endpoint next becomes live.
func (p *pool) waitUp() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.up
}

func (p *pool) capOf(spec EndpointSpec) int {
	switch {
	case spec.Concurrency > 0:
		return spec.Concurrency
	case p.opts.EndpointConcurrency > 0:
		return p.opts.EndpointConcurrency
	}
	return p.opts.Concurrency
}

// add adds an endpoint in a state (live, or down: probed before traffic).
func (p *pool) add(spec EndpointSpec, shown string, state string) *endpoint {
	ep := &endpoint{url: strings.TrimRight(spec.URL, "/"), shown: shown, cap: p.capOf(spec), state: state}
	p.mu.Lock()
	p.eps = append(p.eps, ep)
	if state == stateDown {
		p.startProbe(ep)
	} else {
		p.broadcastUp()
	}
	p.broadcast()
	p.mu.Unlock()
	return ep
}

// acquire takes a slot on the live endpoint with the fewest requests in
// flight (ties: the one that got fewer requests), waiting while every live
// endpoint is at its cap. It returns errNoEndpoint when none is live.
func (p *pool) acquire(ctx context.Context) (*endpoint, error) {
	for {
		p.mu.Lock()
		var best *endpoint
		live := false
		for _, ep := range p.eps {
			if ep.state != stateLive {
				continue
			}
			live = true
			if ep.inFlight < ep.cap && (best == nil || ep.inFlight < best.inFlight ||
				(ep.inFlight == best.inFlight && ep.requests < best.requests)) {
				best = ep
			}
		}
		if best != nil {
			best.inFlight++
			best.requests++
			p.mu.Unlock()
			return best, nil
		}
		ch := p.changed
		p.mu.Unlock()
		if !live {
			return nil, errNoEndpoint
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// release returns a slot with the attempt's outcome; a failure of the
// endpoint takes it out when failover is on. It reports whether another
// endpoint is live to retry on at once.
func (p *pool) release(ep *endpoint, took time.Duration, ans answer, err error) (elsewhere bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ep.inFlight--
	var ae *attemptError
	switch {
	case err == nil:
		ep.answers++
		ep.completionTokens += ans.Usage.CompletionTokens
		ep.lat.add(took)
	case errors.As(err, &ae):
		ep.failures++
		if p.failover && endpointFault(ae) {
			if ep.state == stateLive {
				ep.state = stateDown
				ep.downFails = 1
				ep.lastErr = ae.Error()
				p.startProbe(ep)
				p.log("augment: endpoint %s taken out: %s", ep.shown, ep.lastErr)
			}
			for _, o := range p.eps {
				if o.state == stateLive {
					elsewhere = true
				}
			}
		}
	}
	p.broadcast()
	return elsewhere
}

// endpointFault reports whether a failure says the server is unwell (not
// the request): connection errors, timeouts, 5xx, malformed answers.
func endpointFault(ae *attemptError) bool {
	switch ae.cause {
	case CauseConnection, CauseTimeout, CauseBadResponse:
		return true
	}
	code, ok := strings.CutPrefix(ae.cause, "http-")
	return ok && code >= "500" && len(code) == 3
}

// startProbe probes a down endpoint with backoff until it lists the model
// again (or the pool closes, or it is removed); p.mu is held.
func (p *pool) startProbe(ep *endpoint) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			p.mu.Lock()
			fails := ep.downFails
			p.mu.Unlock()
			t := time.NewTimer(p.probeWait(fails))
			select {
			case <-t.C:
			case <-p.ctx.Done():
				t.Stop()
				return
			}
			err := p.probe(p.ctx, ep)
			p.mu.Lock()
			switch {
			case ep.state == stateRemoved || p.ctx.Err() != nil:
				p.mu.Unlock()
				return
			case err == nil:
				ep.state, ep.downFails, ep.lastErr = stateLive, 0, ""
				p.log("augment: endpoint %s is healthy: back in the pool", ep.shown)
				p.broadcast()
				p.broadcastUp()
				p.mu.Unlock()
				return
			}
			ep.downFails++
			ep.lastErr = err.Error()
			p.mu.Unlock()
		}
	}()
}

// probeWait is the wait before a probe: exponential in the failures in a
// row, from BackoffBase to BackoffMax, with jitter. The first probe of a
// new endpoint (no failure) is at once.
func (p *pool) probeWait(fails int) time.Duration {
	if fails <= 0 {
		return 0
	}
	d := p.opts.BackoffBase << min(fails-1, 30)
	if d > p.opts.BackoffMax || d <= 0 {
		d = p.opts.BackoffMax
	}
	return d/2 + rand.N(d/2+1)
}

// sync makes the pool's endpoints those of specs (a reloaded endpoints
// file, with BaseURLs): new ones are added down and probed at once,
// missing ones are removed (their requests in flight finish), listed ones
// take the listed cap.
func (p *pool) sync(specs []EndpointSpec, shown func(string) string) (added, removed int) {
	want := map[string]EndpointSpec{}
	for _, s := range specs {
		want[strings.TrimRight(s.URL, "/")] = s
	}
	p.mu.Lock()
	for _, ep := range p.eps {
		s, ok := want[ep.url]
		switch {
		case !ok && ep.state != stateRemoved:
			ep.state = stateRemoved
			removed++
		case ok && ep.state == stateRemoved:
			ep.state, ep.downFails = stateDown, 0
			ep.cap = p.capOf(s)
			p.startProbe(ep)
			added++
		case ok:
			ep.cap = p.capOf(s)
		}
		delete(want, ep.url)
	}
	p.broadcast()
	p.mu.Unlock()
	for _, s := range specs {
		if _, ok := want[strings.TrimRight(s.URL, "/")]; ok {
			delete(want, strings.TrimRight(s.URL, "/"))
			p.add(s, shown(s.URL), stateDown)
			added++
		}
	}
	return added, removed
}

// downSummary says why the endpoints are out, for a message.
func (p *pool) downSummary() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var parts []string
	for _, ep := range p.eps {
		if ep.state == stateDown {
			s := ep.shown
			if ep.lastErr != "" {
				s += ": " + ep.lastErr
			}
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "; ")
}

func (p *pool) log(format string, args ...any) {
	if p.logf != nil {
		p.logf(format, args...)
	}
}

// close stops the probes and waits for them.
func (p *pool) close() {
	p.cancel()
	p.wg.Wait()
}

// EndpointStats are one endpoint's figures.
type EndpointStats struct {
	URL      string `json:"url"` // redacted
	State    string `json:"state"`
	Requests int64  `json:"requests"` // attempts sent to it
	Answers  int64  `json:"answers"`
	Failures int64  `json:"failures"`
	// Latency of its answers in seconds (percentiles within 5%).
	LatencyP50       float64 `json:"latency_p50"`
	LatencyP90       float64 `json:"latency_p90"`
	LatencyP99       float64 `json:"latency_p99"`
	CompletionTokens int64   `json:"completion_tokens"`
	TokensPerSec     float64 `json:"completion_tokens_per_second"` // over the run's time
	LastError        string  `json:"last_error,omitempty"`
}

func (p *pool) snapshot(seconds float64) []EndpointStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]EndpointStats, 0, len(p.eps))
	for _, ep := range p.eps {
		s := EndpointStats{
			URL: ep.shown, State: ep.state, Requests: ep.requests, Answers: ep.answers, Failures: ep.failures,
			LatencyP50: ep.lat.quantile(0.5), LatencyP90: ep.lat.quantile(0.9), LatencyP99: ep.lat.quantile(0.99),
			CompletionTokens: ep.completionTokens, LastError: ep.lastErr,
		}
		if seconds > 0 {
			s.TokensPerSec = float64(ep.completionTokens) / seconds
		}
		out = append(out, s)
	}
	return out
}

// latencyHist is a histogram of durations in buckets 5% wide, from 1 ms
// to about 2 hours (fixed size: memory does not grow with the run).
type latencyHist struct {
	n       int64
	buckets [latencyBuckets]int64
}

const (
	latencyBuckets = 320
	latencyGrowth  = 1.05
)

func (h *latencyHist) add(d time.Duration) {
	ms := float64(d) / float64(time.Millisecond)
	i := 0
	if ms > 1 {
		i = min(int(math.Log(ms)/math.Log(latencyGrowth))+1, latencyBuckets-1)
	}
	h.buckets[i]++
	h.n++
}

// quantile returns the upper bound, in seconds, of the bucket holding the
// q-quantile; 0 without samples.
func (h *latencyHist) quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	var seen int64
	for i, c := range h.buckets {
		seen += c
		if seen >= max(rank, 1) {
			return math.Round(math.Pow(latencyGrowth, float64(i))*10) / 1e4 // ms upper bound → s, to 0.1 ms
		}
	}
	return 0
}

// size is the number of endpoints in the pool.
func (p *pool) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.eps)
}

// probeModel is the health probe: GET /models must answer and list the
// run's model.
func (c *client) probeModel(ctx context.Context, ep *endpoint) error {
	ids, err := c.listModelsOnce(ctx, ep.url)
	if err != nil {
		return err
	}
	if !slices.Contains(ids, c.opts.Model) {
		return &ModelMismatchError{URL: ep.shown, Model: c.opts.Model, Served: ids}
	}
	return nil
}

// ModelMismatchError is an endpoint that does not serve the run's model.
type ModelMismatchError struct {
	URL    string // redacted
	Model  string
	Served []string
}

func (e *ModelMismatchError) Error() string {
	return fmt.Sprintf("%s serves %s, not %q: every endpoint must serve the same model", e.URL, strings.Join(quoted(e.Served), ", "), e.Model)
}

func quoted(ss []string) []string {
	if len(ss) == 0 {
		return []string{"no model"}
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}
