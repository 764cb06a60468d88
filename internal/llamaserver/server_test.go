package llamaserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/sharegpt/sharegpt/internal/llamaserver"
	"github.com/sharegpt/sharegpt/internal/llamaserver/llamaservertest"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sharegpt/sharegpt/internal/tokenizer"
	"golang.org/x/sync/errgroup"
)

// The smoke test of a real llama-server with the tiny random-weight model,
// through plain net/http. It is skipped when llama-server is not installed
// (scripts/llama-server.sh install, or LLAMA_SERVER).

type chatResponse struct {
	Model   string `json:"model"`
	Choices []struct {
		Message struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	} `json:"usage"`
}

func post(ctx context.Context, url string, body any) (int, []byte, error) {
	var b []byte
	switch v := body.(type) {
	case string:
		b = []byte(v)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			return 0, nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

func chat(ctx context.Context, t *testing.T, s *llamaserver.Server, text string, maxTokens int) chatResponse {
	t.Helper()
	code, body, err := post(ctx, s.URL+"/chat/completions", map[string]any{
		"model":       s.Model,
		"messages":    []map[string]string{{"role": "user", "content": text}},
		"temperature": 0,
		"max_tokens":  maxTokens,
	})
	if err != nil {
		t.Fatal(err)
	}
	if code != http.StatusOK {
		t.Fatalf("chat: HTTP %d: %s", code, body)
	}
	var r chatResponse
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("chat: %v: %s", err, body)
	}
	if len(r.Choices) != 1 {
		t.Fatalf("chat: %d choices: %s", len(r.Choices), body)
	}
	return r
}

const vicunaSystem = "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions."

func TestLlamaServer(t *testing.T) {
	s := llamaservertest.StartTiny(t, llamaserver.Options{Metrics: true})
	ctx := t.Context()
	tok := tokenizer.Default()

	t.Run("models", func(t *testing.T) {
		resp, err := http.Get(s.URL + "/models")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		if len(m.Data) != 1 || m.Data[0].ID != "vicuna-tiny-random" {
			t.Errorf("/v1/models = %+v, want one model vicuna-tiny-random", m.Data)
		}
	})

	// llama.cpp's tokenizer, reading the vocabulary from the GGUF, gives the
	// project tokenizer's ids: the vocabulary went in whole.
	t.Run("tokenize", func(t *testing.T) {
		base := strings.TrimSuffix(s.URL, "/v1")
		for _, text := range []string{
			"Hello world",
			"How do I reverse a list in Python?\n\n```python\nxs[::-1]\n```",
			"  leading spaces and\ttabs",
			"Wie geht es dir? Ça va très bien, merci.",
			"你好，世界",
			"emoji 🦙 and byte fallback: \u0001",
		} {
			code, body, err := post(ctx, base+"/tokenize", map[string]any{"content": text, "add_special": false})
			if err != nil || code != http.StatusOK {
				t.Fatalf("tokenize %q: %v HTTP %d %s", text, err, code, body)
			}
			var r struct {
				Tokens []int `json:"tokens"`
			}
			if err := json.Unmarshal(body, &r); err != nil {
				t.Fatal(err)
			}
			if want := tok.Encode(text); fmt.Sprint(r.Tokens) != fmt.Sprint(want) {
				t.Errorf("llama.cpp tokenizes %q as %v, the project tokenizer as %v", text, r.Tokens, want)
			}
		}
	})

	t.Run("chat completion", func(t *testing.T) {
		r := chat(ctx, t, s, "Tell me about llamas.", 24)
		a := chat(ctx, t, s, "Tell me about llamas.", 24)
		if r.Choices[0].Message.Content != a.Choices[0].Message.Content {
			t.Errorf("temperature 0 answers differ: %q, %q", r.Choices[0].Message.Content, a.Choices[0].Message.Content)
		}
		// BOS + Vicuna v1.1 prompt from the GGUF's chat template.
		prompt := vicunaSystem + " USER: Tell me about llamas. ASSISTANT:"
		if want := 1 + tok.Count(prompt); r.Usage.PromptTokens != want {
			t.Errorf("prompt_tokens %d, want %d (BOS + Vicuna prompt)", r.Usage.PromptTokens, want)
		}
		u := r.Usage
		if u.CompletionTokens < 1 || u.CompletionTokens > 24 || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
			t.Errorf("usage %+v", u)
		}
		if fr := r.Choices[0].FinishReason; (fr == "length") != (u.CompletionTokens == 24) || (fr != "length" && fr != "stop") {
			t.Errorf("finish_reason %q with %d completion tokens", fr, u.CompletionTokens)
		}
		if r.Model == "" || r.Choices[0].Message.Role != "assistant" {
			t.Errorf("model %q role %q", r.Model, r.Choices[0].Message.Role)
		}
		t.Logf("gibberish answer: %q", r.Choices[0].Message.Content)
	})

	t.Run("errors", func(t *testing.T) {
		long := strings.Repeat("llama ", 2100)
		for _, tt := range []struct {
			name string
			body any
			code int
			want string
		}{
			{"prompt over the context", map[string]any{"messages": []map[string]string{{"role": "user", "content": long}}}, 400, "exceed_context_size_error"},
			{"no messages", map[string]any{"model": s.Model}, 400, "messages"},
			{"malformed JSON", `{"messages": [`, 500, ""},
		} {
			code, body, err := post(ctx, s.URL+"/chat/completions", tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if code != tt.code || !strings.Contains(string(body), tt.want) {
				t.Errorf("%s: HTTP %d %s, want %d with %q", tt.name, code, body, tt.code, tt.want)
			}
		}
	})

	t.Run("concurrency", func(t *testing.T) {
		const n, inFlight, maxTokens = 32, 4, 32
		before, err := s.Metrics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		tokens := 0
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(inFlight)
		start := time.Now()
		for i := range n {
			g.Go(func() error {
				code, body, err := post(gctx, s.URL+"/chat/completions", map[string]any{
					"messages":    []map[string]string{{"role": "user", "content": fmt.Sprintf("Question number %d: what is a llama?", i)}},
					"temperature": 0.7, "seed": i, "max_tokens": maxTokens, "ignore_eos": true,
				})
				if err != nil {
					return err
				}
				var r chatResponse
				if code != http.StatusOK || json.Unmarshal(body, &r) != nil {
					return fmt.Errorf("request %d: HTTP %d %s", i, code, body)
				}
				mu.Lock()
				tokens += r.Usage.CompletionTokens
				mu.Unlock()
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		el := time.Since(start).Seconds()
		after, err := s.Metrics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tokens != n*maxTokens {
			t.Errorf("%d completion tokens, want %d", tokens, n*maxTokens)
		}
		if d := after["tokens_predicted_total"] - before["tokens_predicted_total"]; d != n*maxTokens {
			t.Errorf("server counted %v predicted tokens, want %d", d, n*maxTokens)
		}
		// Requests ran side by side: decode batches held several slots.
		if b := after["n_busy_slots_per_decode"]; b < 1.5 {
			t.Errorf("n_busy_slots_per_decode %v: requests were not served in parallel", b)
		}
		rss, err := s.RSS()
		if err != nil {
			t.Fatal(err)
		}
		if rss > 500<<20 {
			t.Errorf("server RSS %d MB", rss>>20)
		}
		t.Logf("%d requests of %d tokens, %d in flight: %.2f s, %.1f requests/s, %.0f tokens/s; %.1f busy slots per decode; server RSS %d MB",
			n, maxTokens, inFlight, el, n/el, float64(tokens)/el, after["n_busy_slots_per_decode"], rss>>20)
	})

	// A client that gives up on a long answer; the server goes on serving.
	t.Run("timeout", func(t *testing.T) {
		tctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
		defer cancel()
		_, _, err := post(tctx, s.URL+"/chat/completions", map[string]any{
			"messages":   []map[string]string{{"role": "user", "content": "Write a long story."}},
			"max_tokens": 1500, "ignore_eos": true,
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err %v, want a deadline", err)
		}
		if r := chat(ctx, t, s, "Still there?", 4); r.Usage.CompletionTokens < 1 {
			t.Errorf("after a timeout: %+v", r)
		}
	})
}

func TestFindNotInstalled(t *testing.T) {
	t.Setenv("LLAMA_SERVER", "")
	t.Setenv("LLAMA_CACHE", t.TempDir())
	if _, err := llamaserver.Find(); !errors.Is(err, llamaserver.ErrNotInstalled) || !strings.Contains(err.Error(), "scripts/llama-server.sh install") {
		t.Errorf("Find in an empty cache: %v", err)
	}
	t.Setenv("LLAMA_SERVER", "/nonexistent/llama-server")
	if _, err := llamaserver.Find(); err == nil || errors.Is(err, llamaserver.ErrNotInstalled) || !strings.Contains(err.Error(), "LLAMA_SERVER=/nonexistent/llama-server") {
		t.Errorf("Find with a missing LLAMA_SERVER: %v, want an error that is not ErrNotInstalled", err)
	}
}

func TestStartFailsClearly(t *testing.T) {
	dir := t.TempDir()
	if _, err := llamaserver.Start(t.Context(), llamaserver.Options{Binary: "/bin/true", Model: dir + "/missing.gguf"}); err == nil || !strings.Contains(err.Error(), "missing.gguf") {
		t.Errorf("missing model: %v", err)
	}
	// A "server" that exits at once.
	m, err := llamaservertest.WriteTinyModel(dir, "m")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := llamaserver.Start(t.Context(), llamaserver.Options{Binary: "/bin/false", Model: m}); err == nil || !strings.Contains(err.Error(), "exited before answering") {
		t.Errorf("exiting server: %v", err)
	}
}
