// Package llamaserver starts llama.cpp's llama-server on 127.0.0.1 for
// tests, serving a model such as the random-weight GGUF that package
// tools/gengguf/gguf writes, over the OpenAI-compatible API.
//
//	bin, err := llamaserver.Find()     // LLAMA_SERVER, or scripts/llama-server.sh's build
//	if errors.Is(err, llamaserver.ErrNotInstalled) { t.Skip(err) }
//	s, err := llamaserver.Start(ctx, llamaserver.Options{Binary: bin, Model: path})
//	defer s.Close()
//	http.Get(s.URL + "/models")        // s.URL ends in /v1
//
// The server runs with one thread per slot and four slots (-t 1 -np 4), the
// model's chat template (Vicuna v1.1 in the generated model) without parsing
// the answers for reasoning or tool calls (--skip-chat-parsing), and bans the
// tokens that turn a random-weight model's gibberish into invalid or suspect
// UTF-8, on which the server answers 500 (see BannedTokens; a request that
// sends its own logit_bias must repeat them: LogitBias).
package llamaserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNotInstalled is returned by Find when no llama-server binary is there.
var ErrNotInstalled = errors.New("llama-server is not installed")

// CachePath is where scripts/llama-server.sh installs the binary, relative
// to the repository root, unless LLAMA_CACHE names another folder.
const CachePath = ".cache/llama"

// Find returns the llama-server binary: $LLAMA_SERVER when set, else
// bin/llama-server under $LLAMA_CACHE or the repository's .cache/llama
// (found from the working directory upwards). When that binary is missing
// the error wraps ErrNotInstalled (tests skip) and says how to install it; an
// explicit LLAMA_SERVER that is not an executable is a plain error (tests
// fail), so CI can insist on the real server.
func Find() (string, error) {
	if p := os.Getenv("LLAMA_SERVER"); p != "" {
		if err := executable(p); err != nil {
			// Named explicitly: a failure, not a reason to skip.
			return "", fmt.Errorf("LLAMA_SERVER=%s: %w", p, err)
		}
		return p, nil
	}
	cache := os.Getenv("LLAMA_CACHE")
	if cache == "" {
		root, err := repoRoot()
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrNotInstalled, err)
		}
		cache = filepath.Join(root, CachePath)
	}
	p := filepath.Join(cache, "bin", "llama-server")
	if err := executable(p); err != nil {
		return "", fmt.Errorf("%w: no %s (run scripts/llama-server.sh install, or set LLAMA_SERVER)", ErrNotInstalled, p)
	}
	return p, nil
}

func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", p)
	}
	return nil
}

func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod in %s or its parents", wd)
		}
	}
}

// BannedTokens are the LLaMA token ids the server never emits: the byte
// tokens <0x00>..<0xFF> (3-258), whose lone bytes make invalid UTF-8 (HTTP
// 500 on longer outputs), and the pieces "\uFFFD\uFFFD" (26308) and
// "\uFFFD" (30140), which llama.cpp's answer parser takes for a broken
// character ("does not match the expected peg-native format", HTTP 500).
func BannedTokens() []int {
	ids := make([]int, 0, 258)
	for id := 3; id <= 258; id++ {
		ids = append(ids, id)
	}
	return append(ids, 26308, 30140)
}

// LogitBias returns a request's "logit_bias": the banned tokens (false:
// never) followed by the given [token id, bias] pairs. A request's
// logit_bias replaces the server's -l list, so a request that sets one must
// repeat the bans.
func LogitBias(pairs ...[2]float64) []any {
	var lb []any
	for _, id := range BannedTokens() {
		lb = append(lb, []any{id, false})
	}
	for _, p := range pairs {
		lb = append(lb, []any{int(p[0]), p[1]})
	}
	return lb
}

// Options configure Start.
type Options struct {
	Binary  string   // llama-server; required (see Find)
	Model   string   // GGUF file; required
	Alias   string   // model id that /v1/models lists; default: the file name without .gguf
	Slots   int      // parallel requests (-np); default 4
	Threads int      // threads (-t); default 1
	Context int      // total context (-c), shared by the slots; default 2048 per slot
	Metrics bool     // serve Prometheus /metrics
	Args    []string // more llama-server options
	// Log receives the server's output; nil keeps the last 64 KB for the
	// error messages of Start and Close.
	Log io.Writer
	// Ready bounds the wait for /v1/models to answer; default 60 s.
	Ready time.Duration
}

// Server is a running llama-server.
type Server struct {
	URL   string // base URL of the OpenAI API, http://127.0.0.1:PORT/v1
	Model string // the id /v1/models lists
	Args  []string

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	werr error         // Wait's error, valid after done
	log  *tailBuffer

	closeOnce sync.Once
}

// Start starts llama-server on a free port of 127.0.0.1 and waits until
// /v1/models answers. If the port is taken in the meantime it tries again
// with another.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.Binary == "" || o.Model == "" {
		return nil, errors.New("llamaserver: Binary and Model are required")
	}
	if _, err := os.Stat(o.Model); err != nil {
		return nil, fmt.Errorf("llamaserver: model: %w", err)
	}
	if o.Slots <= 0 {
		o.Slots = 4
	}
	if o.Threads <= 0 {
		o.Threads = 1
	}
	if o.Context <= 0 {
		o.Context = 2048 * o.Slots
	}
	if o.Alias == "" {
		o.Alias = strings.TrimSuffix(filepath.Base(o.Model), ".gguf")
	}
	if o.Ready <= 0 {
		o.Ready = 60 * time.Second
	}
	var lastErr error
	for range 3 {
		s, err := start(ctx, o)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if ctx.Err() != nil || !strings.Contains(err.Error(), "bind") {
			break
		}
	}
	return nil, lastErr
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func start(ctx context.Context, o Options) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("llamaserver: free port: %w", err)
	}
	args := []string{
		"-m", o.Model, "-a", o.Alias,
		"--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"-t", strconv.Itoa(o.Threads), "-np", strconv.Itoa(o.Slots), "-c", strconv.Itoa(o.Context),
		"--no-webui",
		// The answer is all content: llama.cpp's Jinja path otherwise parses
		// answers for reasoning and tool calls, and answers 500 ("does not
		// match the expected peg-native format") on some gibberish.
		"--skip-chat-parsing",
	}
	if o.Metrics {
		args = append(args, "--metrics")
	}
	for _, id := range BannedTokens() {
		args = append(args, "-l", strconv.Itoa(id)+"-inf")
	}
	args = append(args, o.Args...)

	s := &Server{
		URL:   fmt.Sprintf("http://127.0.0.1:%d/v1", port),
		Model: o.Alias,
		Args:  args,
		done:  make(chan struct{}),
		log:   &tailBuffer{max: 64 << 10},
	}
	// Not exec.CommandContext: the server outlives Start's context.
	s.cmd = exec.Command(o.Binary, args...)
	var out io.Writer = s.log
	if o.Log != nil {
		out = io.MultiWriter(s.log, o.Log)
	}
	s.cmd.Stdout, s.cmd.Stderr = out, out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the test
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("llamaserver: start %s: %w", o.Binary, err)
	}
	go func() {
		s.werr = s.cmd.Wait()
		close(s.done)
	}()

	deadline := time.NewTimer(o.Ready)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		if ready(ctx, client, s.URL+"/models") {
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("llamaserver: %s exited before answering (%v):\n%s", o.Binary, s.werr, s.log.String())
		case <-ctx.Done():
			s.Close()
			return nil, fmt.Errorf("llamaserver: waiting for %s: %w", s.URL, ctx.Err())
		case <-deadline.C:
			s.Close()
			return nil, fmt.Errorf("llamaserver: %s did not answer within %v:\n%s", s.URL+"/models", o.Ready, s.log.String())
		case <-tick.C:
		}
	}
}

func ready(ctx context.Context, c *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusOK
}

// PID is the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Log returns the last 64 KB of the server's output.
func (s *Server) Log() string { return s.log.String() }

// RSS returns the server's resident memory in bytes (Linux /proc).
func (s *Server) RSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.PID()))
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmRSS %q: %w", rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// Metrics fetches /metrics (Start with Options.Metrics) and returns its
// samples by name, without the "llamacpp:" prefix, e.g.
// "prompt_tokens_total", "tokens_predicted_total", "n_decode_total".
func (s *Server) Metrics(ctx context.Context) (map[string]float64, error) {
	url := strings.TrimSuffix(s.URL, "/v1") + "/metrics"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s: %s", url, resp.Status, bytes.TrimSpace(body))
	}
	m := map[string]float64{}
	for line := range strings.Lines(string(body)) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			continue
		}
		m[strings.TrimPrefix(name, "llamacpp:")] = f
	}
	return m, nil
}

// Close stops the server: SIGTERM, then SIGKILL after 5 s (llama-server
// waits for open requests, which a stopped client may never finish).
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
	return nil
}

// Kill stops the server at once with SIGKILL, as when its machine is
// preempted (open requests get no answer), and waits for it to exit.
func (s *Server) Kill() error {
	s.closeOnce.Do(func() {
		_ = s.cmd.Process.Kill()
		<-s.done
	})
	return nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
