package augment_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/augment"
	"github.com/sharegpt/sharegpt/augment/augmenttest"
)

// noSecret fails when text shows a secret or any prefix of it of 6 or
// more characters (every such prefix starts with the first 6).
func noSecret(t *testing.T, name, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if i := strings.Index(text, s[:6]); i >= 0 {
			t.Errorf("%s shows (a prefix of) the secret %q at byte %d: …%s…", name, s, i, text[max(0, i-40):min(len(text), i+40)])
		}
	}
}

// TestSecretsNeverShown has a server echo the API key, and other secrets,
// in many positions of its error and malformed answers: across the cut of
// the excerpt, across the end of what is read, inside JSON, in URLs, as a
// partial echo. Neither the secrets nor a 6-character prefix of them may
// reach the rejects, the report, the summary or the stop message (what
// the command prints on stderr).
func TestSecretsNeverShown(t *testing.T) {
	const (
		key  = "sk-secret-0123456789abcdefghij"
		pw   = "pw-hunter2-0123"    // the password of the base URL
		tok  = "tok-query-4567890"  // a query parameter of a URL the server echoes
		bear = "bearer-other-98765" // a bearer token that is not ours
	)
	const typ = "invalid_request_error: " // errorMessage's prefix
	msg401 := func(m string) augmenttest.Action {
		b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": m, "type": "invalid_request_error"}})
		return augmenttest.Action{Status: 401, Body: string(b)}
	}
	var actions []augmenttest.Action
	// The key starts at rune `at` of the message shown, whose excerpt is
	// cut at 300 runes: 1 to 20 characters of it before the cut.
	for _, at := range []int{280, 290, 294, 295, 299} {
		actions = append(actions, msg401(strings.Repeat("x", at-len(typ))+key+" and more"))
	}
	actions = append(actions,
		// Plain text across the cut, and across the end of what is read.
		augmenttest.Action{Status: 500, Body: strings.Repeat("y", 292) + key + " tail"},
		augmenttest.Action{Status: 500, Body: strings.Repeat("z", 8<<10-8) + key + strings.Repeat(" tail", 100)},
		augmenttest.Action{Status: 500, Body: strings.Repeat("w", 4<<10-3) + key + strings.Repeat(" tail", 100)},
		// Whitespace that an excerpt collapses, then the key.
		augmenttest.Action{Status: 500, Body: "a" + strings.Repeat(" ", 9000) + key},
		// Malformed 200 answers, whose excerpt is cut at 120 runes.
		augmenttest.Action{Malformed: true, Body: `{"echo":"` + strings.Repeat("v", 101) + key + `"}`},
		augmenttest.Action{Malformed: true, Body: `{"echo":"` + strings.Repeat("v", 105) + key + `"}`},
		augmenttest.Action{Malformed: true, Body: `{"choices":[],"request":{"headers":{"Authorization":"Bearer ` + key + `","X-Other":"Bearer ` + bear + `"}}}`},
		// URLs with userinfo and key parameters; an OpenAI-style partial echo.
		msg401("see https://user:"+key+"@api.example.com/v1/chat/completions?key="+key+"&x=1 and https://bob:"+pw+"@h/?access_token="+tok),
		msg401("Incorrect API key provided: "+key[:8]+"****************"+key[len(key)-4:]+". Authorization: Bearer "+bear),
		augmenttest.Action{Status: 502, Body: `upstream said: {"api_key": "` + key + `", "password": "` + pw + `"}`},
	)
	srv := augmenttest.NewServer()
	defer srv.Close()
	srv.Fault = func(n int, _ *augmenttest.ChatRequest) *augmenttest.Action {
		a := actions[(n-1)%len(actions)]
		return &a
	}
	opts := testOptions(t, srv)
	// The base URL carries a password: it is in every "HTTP 401 from URL".
	opts.BaseURL = strings.Replace(srv.BaseURL(), "http://", "http://bob:"+pw+"@", 1)
	opts.APIKey, opts.Retries = key, 0
	opts.Variants = len(actions) // one request each, all distinct
	opts.MaxConsecutiveFailures = len(actions)
	res := run(t, opts, record("a", sentence1, "ok"))
	if got := len(srv.Requests()); got != len(actions) {
		t.Fatalf("%d requests, want %d", got, len(actions))
	}
	var rep, summary bytes.Buffer
	res.report.WriteJSON(&rep)
	res.stats.WriteText(&summary)
	stop := res.aug.Stopped()
	if stop == nil {
		t.Fatal("the run did not stop after every request failed")
	}
	secrets := []string{key, pw, tok, bear}
	for name, s := range map[string]string{"output": res.out, "rejects": res.rejects, "report": rep.String(), "summary": summary.String(), "stop message": stop.Error()} {
		noSecret(t, name, s, secrets...)
	}
	// Redaction leaves the rest of the message readable.
	var missing []string
	for _, want := range []string{"[API key]", "xxxxxxxxxx", "Incorrect API key provided", "https://[redacted]@api.example.com", "key=[redacted]", "access_token=[redacted]", "Bearer [redacted]", `\"password\": \"[redacted]\"`} {
		if !strings.Contains(res.rejects, want) {
			missing = append(missing, want)
		}
	}
	if missing != nil {
		t.Errorf("rejects lack %q:\n%s", missing, res.rejects)
	}

	// The model list is read before anything else: its error is what the
	// command prints when it fails.
	for _, at := range []int{290, 295} {
		srv.ModelsFault = &augmenttest.Action{Status: 401, Body: `{"error":{"message":"` + strings.Repeat("x", at-len(typ)) + key + `","type":"invalid_request_error"}}`}
		opts.Model = ""
		_, err := augment.New(context.Background(), opts)
		if err == nil {
			t.Fatal("New succeeded without a model list")
		}
		noSecret(t, "New's error", err.Error(), secrets...)
	}

	// A connection error names the URL, and a base URL with a key in its
	// query or a password is refused or named without them.
	opts.BaseURL = "http://127.0.0.1:1/v1?api_key=" + tok
	opts.Model, opts.Variants, opts.MaxConsecutiveFailures = "fake-vicuna", 1, 1
	res = run(t, opts, record("a", sentence1, "ok"))
	if !strings.Contains(res.rejects, "connection") {
		t.Errorf("rejects: %s", res.rejects)
	}
	noSecret(t, "rejects after a connection error", res.rejects, secrets...)
	noSecret(t, "stop message after a connection error", res.aug.Stopped().Error(), secrets...)
	opts.BaseURL = "ftp://bob:" + pw + "@example.com/v1"
	if err := opts.Validate(); err == nil {
		t.Error("an ftp base URL is valid")
	} else {
		noSecret(t, "Validate's error", err.Error(), secrets...)
	}
}

// hugeWriter streams a body of a prefix, n filler bytes and a suffix.
func hugeWriter(prefix string, n int, suffix string) func(io.Writer) error {
	chunk := []byte(strings.Repeat("ab cd efgh ", 6<<10))
	return func(w io.Writer) error {
		n := n
		if _, err := io.WriteString(w, prefix); err != nil {
			return err
		}
		for n > 0 {
			c := chunk[:min(n, len(chunk))]
			if _, err := w.Write(c); err != nil {
				return err
			}
			n -= len(c)
		}
		_, err := io.WriteString(w, suffix)
		return err
	}
}

// TestHugeBodies has a server answer with bodies far larger than any
// answer to the request can be: only a bounded part of each is read, a
// success body over the limit fails as response-too-large (not retried),
// and the memory allocated stays a small fraction of one body.
func TestHugeBodies(t *testing.T) {
	const huge = 64 << 20
	validPrefix := `{"id":"x","object":"chat.completion","model":"fake-vicuna","choices":[{"index":0,"message":{"role":"assistant","content":"`
	validSuffix := `"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`
	cases := []struct {
		name    string
		act     augmenttest.Action
		cause   string
		retried bool
		detail  string
	}{
		{"malformed 200", augmenttest.Action{Write: hugeWriter(`{"id":"x","choices":[{"message":{"content":"`, huge, "")}, augment.CauseTooLarge, false, "response-too-large: the answer is over"},
		{"valid-looking 200", augmenttest.Action{Write: hugeWriter(validPrefix, huge, validSuffix)}, augment.CauseTooLarge, false, "response-too-large: the answer is over"},
		{"error 500", augmenttest.Action{Status: 500, Write: hugeWriter(`{"error":{"message":"`, huge, `"}}`)}, "http-500", true, `http-500: HTTP 500 from `},
	}
	for _, tc := range cases {
		for _, conc := range []int{1, 4} {
			t.Run(tc.name+"/concurrency "+string(rune('0'+conc)), func(t *testing.T) {
				srv := augmenttest.NewServer()
				defer srv.Close()
				opts := testOptions(t, srv)
				opts.Concurrency, opts.Retries, opts.Variants = conc, 1, 4
				opts.MaxConsecutiveFailures = 100
				// A normal run first: what the language detector loads
				// once is not counted below.
				warm := run(t, opts, record("w", sentence2, "ok"))
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				run(t, opts, record("w", sentence3, "ok"))
				runtime.ReadMemStats(&after)
				normal := after.TotalAlloc - before.TotalAlloc
				srv.SetFault(func(int, *augmenttest.ChatRequest) *augmenttest.Action {
					a := tc.act
					return &a
				})
				runtime.GC()
				runtime.ReadMemStats(&before)
				res := run(t, opts, record("a", sentence1, "ok"))
				runtime.ReadMemStats(&after)
				alloc := after.TotalAlloc - before.TotalAlloc
				t.Logf("%d KiB allocated for 8 normal requests (warm-up %d answers), %d KiB for 4 requests answered with %d MiB each", normal>>10, warm.stats.Answers, alloc>>10, huge>>20)
				if alloc > 16<<20 {
					t.Errorf("%d MiB allocated: the bodies were read", alloc>>20)
				}
				wantReq := int64(4)
				if tc.retried {
					wantReq = 8
				}
				if res.stats.Requests != wantReq || res.stats.Failures[tc.cause] != wantReq || res.stats.FailedRequests != 4 {
					t.Errorf("stats %+v, want %d attempts failed as %s", res.stats, wantReq, tc.cause)
				}
				if !strings.Contains(res.rejects, tc.detail) || strings.Count(res.rejects, "\n") != 4 {
					t.Errorf("rejects:\n%.2000s", res.rejects)
				}
				if len(res.rejects) > 64<<10 {
					t.Errorf("rejects hold %d bytes", len(res.rejects))
				}
			})
		}
	}
}

// TestMaxResponseBytes: the success body limit is derived from max_tokens
// unless set; an answer over it fails as response-too-large, once.
func TestMaxResponseBytes(t *testing.T) {
	srv := augmenttest.NewServer()
	defer srv.Close()
	opts := testOptions(t, srv)
	opts.MaxResponseBytes = 200 // a normal answer is about 400 bytes
	res := run(t, opts, record("a", sentence1, "ok"))
	if res.stats.Requests != 1 || res.stats.Failures[augment.CauseTooLarge] != 1 || !strings.Contains(res.rejects, "over 200 bytes") {
		t.Errorf("stats %+v\nrejects %s", res.stats, res.rejects)
	}
	opts.MaxResponseBytes, opts.CacheDir = 0, t.TempDir()
	res = run(t, opts, record("a", sentence1, "ok"))
	if res.stats.Answers != 2 || res.rejects != "" {
		t.Errorf("stats %+v\nrejects %s", res.stats, res.rejects)
	}
	// With a small --max-tokens the derived limit (256 bytes per token +
	// 64 KiB) refuses a 1 MiB answer.
	srv.Fault = func(int, *augmenttest.ChatRequest) *augmenttest.Action {
		return &augmenttest.Action{Write: hugeWriter(`{"choices":[{"message":{"content":"`, 1<<20, `"},"finish_reason":"stop"}]}`)}
	}
	opts.MaxTokens = 100
	opts.CacheDir = t.TempDir()
	res = run(t, opts, record("a", sentence1, "ok"))
	if res.stats.Failures[augment.CauseTooLarge] != 1 || !strings.Contains(res.rejects, "over 91136 bytes") {
		t.Errorf("stats %+v\nrejects %s", res.stats, res.rejects)
	}
	opts.MaxResponseBytes = -1
	if err := opts.Validate(); err == nil {
		t.Error("a negative response limit is valid")
	}
}

// TestHugeHeaders: response headers are capped too (64 KiB, not net/http's
// 10 MB): a server that sends megabytes of them fails as a connection error.
func TestHugeHeaders(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Junk", strings.Repeat("j", 1<<20))
		w.Write([]byte(`{"choices":[{"message":{"content":"Hallo"},"finish_reason":"stop"}]}`))
	}))
	defer srv.Close()
	opts := augment.DefaultOptions()
	opts.BaseURL, opts.Model, opts.CacheDir = srv.URL+"/v1", "m", t.TempDir()
	opts.Languages, opts.Retries = []string{"en", "de"}, 0
	res := run(t, opts, record("a", sentence1, "ok"))
	if res.stats.Failures[augment.CauseConnection] != 1 || !strings.Contains(res.rejects, "server response headers exceeded 65536 bytes") {
		t.Errorf("stats %+v\nrejects %s", res.stats, res.rejects)
	}
}
