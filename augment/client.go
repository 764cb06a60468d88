package augment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Message is one chat message of a request.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Usage is the token count of one answer, as the server reports it.
type Usage struct {
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
}

// answer is what the cache keeps of a chat completion.
type answer struct {
	Content      string `json:"content"`
	FinishReason string `json:"finish_reason"`
	Model        string `json:"model,omitempty"`
	Usage        Usage  `json:"usage"`
}

// chatResponse is the part of an OpenAI chat completion that is read.
type chatResponse struct {
	Model   string `json:"model"`
	Choices []struct {
		Message struct {
			Content *string `json:"content"`
		} `json:"message"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *Usage `json:"usage"`
}

// Failure causes, the keys of Stats.Failures (besides "http-NNN").
const (
	CauseConnection  = "connection"   // refused, reset, closed mid-response
	CauseTimeout     = "timeout"      // no complete answer within Options.Timeout
	CauseBadResponse = "bad-response" // 200 with a body that is not a chat completion
	// CauseContext is a 400 saying the prompt and answer exceed the
	// model's context: a property of the request, not of the server, so it
	// does not count towards MaxConsecutiveFailures.
	CauseContext = "context-exceeded"
	// CauseTooLarge is a 200 whose body is over the response limit
	// (Options.MaxResponseBytes, or derived from max_tokens): more than
	// any answer to the request can be. It is not retried.
	CauseTooLarge = "response-too-large"
)

// attemptError is a failed HTTP attempt.
type attemptError struct {
	cause      string
	retryable  bool
	retryAfter time.Duration // from Retry-After; 0 when absent
	msg        string
}

func (e *attemptError) Error() string { return e.cause + ": " + e.msg }

// StopError is returned for work not done because the run stopped (a
// budget was reached, or too many requests failed in a row).
type StopError struct {
	Cause  string // StopMaxRequests, StopMaxTotalTokens, StopFailures
	Detail string
}

func (e *StopError) Error() string { return e.Detail }

// Stop causes.
const (
	StopMaxRequests    = "max-requests"
	StopMaxTotalTokens = "max-total-tokens"
	StopFailures       = "consecutive-failures"
	// StopOffline is a request an offline run found no answer for (only
	// that request is not done; the run goes on).
	StopOffline = "offline"
)

// client sends chat completions with retries, a rate limit and budgets,
// over a pool of endpoints.
type client struct {
	opts    *Options
	http    *http.Client
	limiter *rate.Limiter // nil: no limit
	stats   *counters
	red     atomic.Pointer[redactor]
	pool    *pool

	mu          sync.Mutex
	consecutive int
	stop        atomic.Pointer[StopError]
}

func newClient(opts *Options, stats *counters, urls []string) *client {
	c := &client{opts: opts, stats: stats, http: opts.HTTPClient}
	c.red.Store(newRedactor(opts.APIKey, urls...))
	if c.http == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = opts.Concurrency
		tr.MaxResponseHeaderBytes = maxErrorBody * 8 // not the default 10 MB
		c.http = &http.Client{Transport: tr}
	}
	if opts.RPS > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(opts.RPS), 1)
	}
	return c
}

// addURLs adds URLs (of a reloaded endpoints file) to the redactor.
func (c *client) addURLs(urls []string) {
	old := c.red.Load()
	r := &redactor{apiKey: old.apiKey, secrets: slices.Clone(old.secrets)}
	for _, u := range urls {
		r.addURL(u)
	}
	c.red.Store(r)
}

// redactor returns the redactor of every URL known so far.
func (c *client) redactor() *redactor { return c.red.Load() }

// stopped returns why the run stopped, or nil.
func (c *client) stopped() *StopError { return c.stop.Load() }

func (c *client) setStop(cause, detail string) {
	c.stop.CompareAndSwap(nil, &StopError{Cause: cause, Detail: detail})
}

// reserve counts a request against the budgets before it is sent.
func (c *client) reserve() error {
	if s := c.stopped(); s != nil {
		return s
	}
	if max := c.opts.MaxTotalTokens; max > 0 && c.stats.totalTokens.Load() >= max {
		c.setStop(StopMaxTotalTokens, fmt.Sprintf("token budget reached: %d tokens used, --max-total-tokens %d", c.stats.totalTokens.Load(), max))
		return c.stopped()
	}
	n := c.stats.requests.Add(1)
	if max := c.opts.MaxRequests; max > 0 && n > max {
		c.stats.requests.Add(-1)
		c.setStop(StopMaxRequests, fmt.Sprintf("request budget reached: %d requests sent, --max-requests %d", max, max))
		return c.stopped()
	}
	return nil
}

// chat sends one chat completion request body, whose max_tokens is given,
// retrying as the options say: on the live endpoint with the fewest
// requests in flight; a failure that takes its endpoint out is retried at
// once on another (not counted as a retry), other failures after a
// backoff. It returns a *StopError when the run stopped before an answer
// came, the context's error, or the last attempt's *attemptError.
func (c *client) chat(ctx context.Context, body []byte, maxTokens int) (answer, error) {
	failovers := 0
	for attempt := 0; ; attempt++ {
		if err := c.reserve(); err != nil {
			return answer{}, err
		}
		if c.limiter != nil {
			if err := c.limiter.Wait(ctx); err != nil {
				return answer{}, contextErr(ctx, err)
			}
		}
		var ans answer
		var elsewhere bool
		ep, err := c.pool.acquire(ctx)
		switch {
		case errors.Is(err, errNoEndpoint):
			c.stats.requests.Add(-1) // nothing was sent
			err = &attemptError{cause: CauseNoEndpoint, retryable: true, msg: "every endpoint is out: " + c.pool.downSummary()}
		case err != nil:
			return answer{}, contextErr(ctx, err)
		default:
			start := time.Now()
			ans, err = c.attempt(ctx, ep.url, body, maxTokens)
			elsewhere = c.pool.release(ep, time.Since(start), ans, err)
		}
		if err == nil {
			c.mu.Lock()
			c.consecutive = 0
			c.mu.Unlock()
			c.stats.answer(ans.Usage)
			return ans, nil
		}
		var ae *attemptError
		if !errors.As(err, &ae) {
			return answer{}, err // the run is being cancelled
		}
		c.stats.failure(ae.cause)
		if elsewhere && failovers < c.pool.size() && c.stopped() == nil {
			failovers++
			c.stats.failovers.Add(1)
			attempt-- // the same attempt, on another endpoint
			continue
		}
		wait := c.backoff(attempt, ae)
		if ae.retryable && attempt < c.opts.Retries && c.stopped() == nil && wait > 0 {
			c.stats.retries.Add(1)
			t := time.NewTimer(wait)
			var back <-chan struct{} // an endpoint returning ends the wait
			if ae.cause == CauseNoEndpoint {
				back = c.pool.waitUp()
			}
			select {
			case <-t.C:
				continue
			case <-back:
				t.Stop()
				continue
			case <-ctx.Done():
				t.Stop()
				return answer{}, ctx.Err()
			}
		}
		if s := c.stopped(); s != nil && ae.retryable && attempt < c.opts.Retries {
			return answer{}, s // would have been retried: left for the next run
		}
		c.failedForGood(ae)
		return answer{}, ae
	}
}

// failedForGood counts a request that failed after its retries and stops
// the run after too many in a row (a prompt too long for the context is
// counted, but not in the row).
func (c *client) failedForGood(ae *attemptError) {
	c.stats.failedRequests.Add(1)
	if ae.cause == CauseContext {
		return
	}
	c.mu.Lock()
	c.consecutive++
	n := c.consecutive
	c.mu.Unlock()
	if n >= c.opts.MaxConsecutiveFailures {
		c.setStop(StopFailures, fmt.Sprintf("%d requests in a row failed (the last: %v)", n, ae))
	}
}

// backoff returns the wait before retry number attempt+1: exponential with
// jitter (half fixed, half random), or the server's Retry-After. It returns
// 0 when the Retry-After is longer than allowed.
func (c *client) backoff(attempt int, ae *attemptError) time.Duration {
	if ae.retryAfter > 0 {
		if ae.retryAfter > c.opts.MaxRetryAfter {
			ae.msg += fmt.Sprintf(" (Retry-After %s is over the %s limit)", ae.retryAfter, c.opts.MaxRetryAfter)
			return 0
		}
		return ae.retryAfter + rand.N(ae.retryAfter/10+time.Millisecond)
	}
	d := c.opts.BackoffBase << min(attempt, 30)
	if d > c.opts.BackoffMax || d <= 0 {
		d = c.opts.BackoffMax
	}
	return d/2 + rand.N(d/2+1)
}

// attempt sends one HTTP request. It reads at most maxErrorBody bytes of
// an error and Options.ResponseLimit(maxTokens) of a success; the rest of
// a longer body is not read (the connection is closed).
func (c *client) attempt(ctx context.Context, base string, body []byte, maxTokens int) (answer, error) {
	actx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, joinURL(base, chatPath), bytes.NewReader(body))
	if err != nil {
		return answer{}, fmt.Errorf("request: %s", c.redact(err.Error()))
	}
	req.Header.Set("Content-Type", "application/json")
	c.auth(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return answer{}, c.transportError(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _, err := readBody(resp.Body, maxErrorBody, resp.ContentLength)
		if err != nil {
			return answer{}, c.transportError(ctx, err)
		}
		return answer{}, c.statusError(resp, data, joinURL(base, chatPath))
	}
	limit := c.opts.ResponseLimit(maxTokens)
	if resp.ContentLength > limit {
		return answer{}, c.tooLarge(limit, maxTokens)
	}
	data, over, err := readBody(resp.Body, limit, resp.ContentLength)
	if err != nil {
		return answer{}, c.transportError(ctx, err)
	}
	if over {
		return answer{}, c.tooLarge(limit, maxTokens)
	}
	return parseChat(data, c.redactor())
}

// parseChat reads a chat completion (an answer over HTTP, or the body of a
// batch output line) into what the cache keeps.
func parseChat(data []byte, red *redactor) (answer, error) {
	var cr chatResponse
	if err := json.Unmarshal(data, &cr); err != nil {
		return answer{}, &attemptError{cause: CauseBadResponse, retryable: true, msg: fmt.Sprintf("answer is not JSON: %s (body %q)", red.redact(err.Error()), red.excerptBytes(data, bodyRunes))}
	}
	if len(cr.Choices) == 0 || cr.Choices[0].Message.Content == nil {
		return answer{}, &attemptError{cause: CauseBadResponse, retryable: true, msg: fmt.Sprintf("answer has no choices[0].message.content (body %q)", red.excerptBytes(data, bodyRunes))}
	}
	ans := answer{Content: *cr.Choices[0].Message.Content, Model: cr.Model}
	if fr := cr.Choices[0].FinishReason; fr != nil {
		ans.FinishReason = *fr
	}
	if cr.Usage != nil {
		ans.Usage = *cr.Usage
	}
	return ans, nil
}

// API paths under the base URL.
const (
	chatPath   = "/chat/completions"
	modelsPath = "/models"
)

// joinURL appends an API path to a base URL's path, keeping its query
// (?api-version=...).
func joinURL(base, path string) string {
	u, err := url.Parse(base)
	if err != nil || u.RawQuery == "" {
		return strings.TrimRight(base, "/") + path
	}
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawPath = ""
	return u.String()
}

// shownURL is a URL as messages show it: redacted.
func (c *client) shownURL(u string) string { return c.redact(u) }

func (c *client) auth(req *http.Request) {
	if c.opts.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.opts.APIKey)
	}
}

// redact removes secrets (see redactor) from text that may be shown.
func (c *client) redact(s string) string { return c.redactor().redact(s) }

// tooLarge is the failure of a success body over the limit: not retried,
// as the same request gets the same kind of answer (a server that ignores
// max_tokens, or extra members asked for in ExtraBody such as logprobs).
func (c *client) tooLarge(limit int64, maxTokens int) *attemptError {
	msg := fmt.Sprintf("the answer is over %d bytes (--max-response-bytes)", limit)
	if c.opts.MaxResponseBytes == 0 {
		msg = fmt.Sprintf("the answer is over %d bytes, the most allowed for max_tokens %d (%d bytes a token + %d; --max-response-bytes sets a limit)",
			limit, maxTokens, ResponseBytesPerToken, ResponseOverhead)
	}
	return &attemptError{cause: CauseTooLarge, msg: msg}
}

// transportError classifies an error of the connection or of reading the
// body: the run's own cancellation, a timeout, or a connection failure.
func (c *client) transportError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return &attemptError{cause: CauseTimeout, retryable: true, msg: fmt.Sprintf("no answer within %s", c.opts.Timeout)}
	}
	return &attemptError{cause: CauseConnection, retryable: true, msg: c.redactor().excerpt(err.Error(), messageRunes)}
}

// statusError turns a non-200 answer to a request of a URL into an
// attemptError: 429 and 5xx are retried (after Retry-After when given),
// other statuses are not. body is the start of the answer (maxErrorBody).
func (c *client) statusError(resp *http.Response, body []byte, u string) *attemptError {
	code := resp.StatusCode
	ae := &attemptError{cause: "http-" + strconv.Itoa(code), retryable: code == http.StatusTooManyRequests || code >= 500}
	ae.msg = fmt.Sprintf("HTTP %d from %s", code, c.shownURL(u))
	m := errorMessage(body)
	if m != "" {
		ae.msg += ": " + c.redactor().excerpt(m, messageRunes) // redacted, then cut
	}
	if lm := strings.ToLower(m); code == http.StatusBadRequest && strings.Contains(lm, "context") &&
		(strings.Contains(lm, "exceed") || strings.Contains(lm, "length") || strings.Contains(lm, "size")) {
		ae.cause = CauseContext // llama.cpp, vLLM and OpenAI word it so
	}
	if ae.retryable {
		ae.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return ae
}

// errorMessage extracts the message of an OpenAI-style error body
// ({"error": {"message", "type"}}), FastChat's ({"message"}) or plain text,
// whole: it is redacted before it is cut.
func errorMessage(body []byte) string {
	var e struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil {
		var inner struct {
			Message string `json:"message"`
			Type    string `json:"type"`
		}
		if len(e.Error) > 0 && json.Unmarshal(e.Error, &inner) == nil && inner.Message != "" {
			if inner.Type != "" {
				return inner.Type + ": " + inner.Message
			}
			return inner.Message
		}
		var s string
		if len(e.Error) > 0 && json.Unmarshal(e.Error, &s) == nil && s != "" {
			return s
		}
		if e.Message != "" {
			return e.Message
		}
	}
	return string(body)
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func contextErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// listModels returns the ids GET /models lists, retrying as chat does
// (without counting against the budgets).
func (c *client) listModels(ctx context.Context, base string) ([]string, error) {
	var last error
	for attempt := 0; attempt <= c.opts.Retries; attempt++ {
		ids, err := c.listModelsOnce(ctx, base)
		if err == nil {
			return ids, nil
		}
		var ae *attemptError
		if !errors.As(err, &ae) || !ae.retryable {
			return nil, err
		}
		last = err
		t := time.NewTimer(c.backoff(attempt, ae))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	return nil, last
}

// maxModelList is what is read of a model list (one request, at the
// start): OpenRouter's list of hundreds of models is about 1 MB.
const maxModelList = 16 << 20

func (c *client) listModelsOnce(ctx context.Context, base string) ([]string, error) {
	u := joinURL(base, modelsPath)
	actx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("request: %s", c.redact(err.Error()))
	}
	c.auth(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _, err := readBody(resp.Body, maxErrorBody, resp.ContentLength)
		if err != nil {
			return nil, c.transportError(ctx, err)
		}
		return nil, c.statusError(resp, data, u)
	}
	data, over, err := readBody(resp.Body, maxModelList, resp.ContentLength)
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	if over {
		return nil, &attemptError{cause: CauseTooLarge, msg: fmt.Sprintf("GET %s: the model list is over %d bytes", c.shownURL(u), maxModelList)}
	}
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, &attemptError{cause: CauseBadResponse, retryable: true, msg: fmt.Sprintf("GET %s: not a model list: %s (body %q)", c.shownURL(u), c.redact(err.Error()), c.redactor().excerptBytes(data, bodyRunes))}
	}
	var ids []string
	for _, m := range list.Data {
		if m.ID != "" {
			ids = append(ids, m.ID)
		}
	}
	return ids, nil
}
