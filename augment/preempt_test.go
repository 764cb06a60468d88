package augment_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sharegpt/sharegpt/augment"
	"github.com/sharegpt/sharegpt/augment/augmenttest"
	"github.com/sharegpt/sharegpt/pipeline"
)

// helperEnv holds, in a child process of the test binary, the JSON of a
// helperRun: the child augments and exits instead of running tests.
const helperEnv = "AUGMENT_TEST_HELPER"

// helperRun is what the child process does.
type helperRun struct {
	BaseURLs            []string
	CacheDir            string
	Input, Output       string
	Concurrency         int
	EndpointConcurrency int
}

func TestMain(m *testing.M) {
	if cfg := os.Getenv(helperEnv); cfg != "" {
		os.Exit(helperMain(cfg))
	}
	os.Exit(m.Run())
}

func helperMain(cfg string) int {
	var h helperRun
	if err := json.Unmarshal([]byte(cfg), &h); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	opts := helperOptions(h)
	aug, err := augment.New(context.Background(), opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	job := &pipeline.Job{
		Command: "augment", Registry: pipeline.NewRegistry(pipeline.JSONFormats()...),
		Inputs: []string{h.Input}, Output: h.Output, RejectsPath: h.Output + ".rejects", Workers: 2,
	}
	if _, err := aug.Run(context.Background(), job); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func helperOptions(h helperRun) augment.Options {
	o := augment.DefaultOptions()
	o.BaseURLs, o.Model, o.CacheDir = h.BaseURLs, "fake-vicuna", h.CacheDir
	o.Languages, o.Temperature, o.Timeout = []string{"en", "de", "fr"}, 0, 5*time.Second
	o.BackoffBase, o.BackoffMax = time.Millisecond, 20*time.Millisecond
	o.Concurrency, o.EndpointConcurrency = h.Concurrency, h.EndpointConcurrency
	return o
}

// TestKillProcessSeveralEndpoints kills (SIGKILL) an augment process with
// requests in flight on two servers, at several moments, then reruns it
// with one of the servers gone: nothing answered is asked again, only the
// requests in flight at the kill are repeated, and the output equals an
// uninterrupted run's.
func TestKillProcessSeveralEndpoints(t *testing.T) {
	const records = 16 // 32 requests
	for _, answerEach := range []int{1, 4, 9} {
		t.Run(fmt.Sprintf("kill after %d answers from each server", answerEach), func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "in.jsonl")
			if err := os.WriteFile(in, []byte(manyRecords(records)), 0o644); err != nil {
				t.Fatal(err)
			}
			a, b := augmenttest.NewServer(), augmenttest.NewServer()
			defer a.Close()
			defer b.Close()
			hold := make(chan struct{})
			defer close(hold)
			holdAfter := func(n int, _ *augmenttest.ChatRequest) *augmenttest.Action {
				if n > answerEach {
					return &augmenttest.Action{Block: hold}
				}
				return nil
			}
			a.SetFault(holdAfter)
			b.SetFault(holdAfter)
			h := helperRun{BaseURLs: []string{a.BaseURL(), b.BaseURL()}, CacheDir: filepath.Join(dir, "cache"),
				Input: in, Output: filepath.Join(dir, "out.jsonl"), Concurrency: 6, EndpointConcurrency: 3}
			cmd := helperCmd(t, h)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Kill once both servers' answers are cached and each holds 3
			// requests (its cap) it will not answer.
			pending := func(s *augmenttest.Server) int {
				n := 0
				for _, r := range s.Requests() {
					if r.Outcome == "pending" {
						n++
					}
				}
				return n
			}
			deadline := time.Now().Add(30 * time.Second)
			for cacheLen(t, h.CacheDir) != 2*answerEach || pending(a) != 3 || pending(b) != 3 {
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("cache %d, pending %d and %d", cacheLen(t, h.CacheDir), pending(a), pending(b))
				}
				time.Sleep(5 * time.Millisecond)
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
			if _, err := os.Stat(h.Output); err == nil {
				t.Fatal("a killed run left its output")
			}
			inFlight := len(a.Requests()) + len(b.Requests()) - 2*answerEach - 2 // less the model checks
			if inFlight != 6 {
				t.Fatalf("%d requests in flight at the kill, want 6", inFlight)
			}

			// The rerun: b is gone, a answers everything.
			b.CloseClientConnections()
			b.Close()
			a.SetFault(nil)
			chatsBefore, _ := chatCount(a)
			cmd = helperCmd(t, h)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("rerun: %v\n%s", err, out)
			}
			if dups := duplicatesAcross(a, b); len(dups) != 0 {
				t.Errorf("%d requests answered twice", len(dups))
			}
			if got := len(a.Answered()) + len(b.Answered()); got != 2*records {
				t.Errorf("%d distinct answers over both runs, want %d", got, 2*records)
			}
			// Each request without an answer, those in flight at the kill
			// included, is sent once more; no answered one is.
			chatsAfter, _ := chatCount(a)
			if sent := chatsAfter - chatsBefore; sent != 2*records-2*answerEach {
				t.Errorf("the rerun sent %d requests, want %d (the %d in flight at the kill and the rest)", sent, 2*records-2*answerEach, inFlight)
			}

			// An uninterrupted run, fresh cache and server.
			fresh := augmenttest.NewServer()
			defer fresh.Close()
			want := run(t, helperOptions(helperRun{BaseURLs: []string{fresh.BaseURL()}, CacheDir: t.TempDir(), Concurrency: 6}), manyRecords(records))
			got := readFile(t, h.Output)
			if got != want.out || want.stats.Augmented != records {
				t.Errorf("the resumed output differs from an uninterrupted run's (%d augmented)", want.stats.Augmented)
			}
			if rej := readFile(t, h.Output+".rejects"); rej != "" {
				t.Errorf("rejects: %s", rej)
			}
		})
	}
}

func helperCmd(t *testing.T, h helperRun) *exec.Cmd {
	cfg, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+string(cfg))
	return cmd
}

func cacheLen(t *testing.T, dir string) int {
	t.Helper()
	if _, err := os.Stat(dir); err != nil {
		return 0
	}
	c, err := augment.OpenCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.Len()
	if err != nil && !strings.Contains(err.Error(), "no such file") {
		t.Fatal(err)
	}
	return n
}
