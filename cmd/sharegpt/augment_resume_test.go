package main

import (
	"bytes"
	"errors"
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
)

// TestAugmentKillAndResume builds the binary, runs `augment` against a fake
// OpenAI server in this process, kills it with SIGKILL after some answers
// (with more requests in flight), reruns the same command, and checks that
// no answered request was sent twice, that the requests cut off by the kill
// were sent again, once, and that the output equals an uninterrupted run's.
func TestAugmentKillAndResume(t *testing.T) {
	dir, bin := buildBinary(t)
	sentences := []string{
		"Please explain how this function works and why it returns an error when the list is empty.",
		"Can you write a short story about a brave little dog who finds his way home?",
		"What is the best way to learn a new language quickly and remember the words?",
		"Why does `main.go` print nothing when I run the program with an empty file? See https://go.dev/doc for details.",
	}
	var input strings.Builder
	const records = 12 // two requests each
	for i := range records {
		fmt.Fprintf(&input, `{"id":"r%02d","conversations":[{"from":"human","value":%q},{"from":"gpt","value":"ok"}]}`+"\n",
			i, sentences[i%4]+strings.Repeat(" Tell me more.", i/4))
	}
	in := filepath.Join(dir, "in.jsonl")
	if err := os.WriteFile(in, []byte(input.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	args := func(srv *augmenttest.Server, cache, out string) []string {
		return []string{"augment", "-q", "--base-url", srv.BaseURL(), "--model", "fake-vicuna", "--temperature", "0",
			"--languages", "en,de", "--concurrency", "4", "--cache", cache, "-o", out, "--rejects", out + ".rejects", in}
	}

	// The first run: the server answers 7 requests, then holds every
	// further request until the process is killed.
	const answered = 7
	srv := augmenttest.NewServer()
	defer srv.Close()
	hold := make(chan struct{})
	defer close(hold)
	srv.SetFault(func(n int, _ *augmenttest.ChatRequest) *augmenttest.Action {
		if n > answered {
			return &augmenttest.Action{Block: hold}
		}
		return nil
	})
	cacheDir := filepath.Join(dir, "cache")
	out := filepath.Join(dir, "out.jsonl")
	cmd := exec.Command(bin, args(srv, cacheDir, out)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill once every answer is in the cache and the 4 request slots
	// (--concurrency 4) hold requests the server will not answer.
	deadline := time.Now().Add(60 * time.Second)
	for {
		n := cacheLen(t, cacheDir)
		if n == answered && len(srv.Requests()) == answered+4 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the cache holds %d answers after %d requests; stderr:\n%s", n, len(srv.Requests()), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var ee *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &ee) {
		t.Fatalf("wait: %v", err)
	}
	inFlight := len(srv.Requests()) - answered
	if _, err := os.Stat(out); err == nil {
		t.Fatalf("a killed run left its output")
	}
	if n := cacheLen(t, cacheDir); n != answered {
		t.Fatalf("the cache holds %d answers, want %d", n, answered)
	}

	// The rerun, against the same server now answering everything.
	srv.SetFault(nil)
	stderr.Reset()
	cmd = exec.Command(bin, args(srv, cacheDir, out)...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("rerun: %v\n%s", err, stderr.String())
	}
	if dups := srv.Duplicates(); len(dups) != 0 {
		t.Errorf("%d requests answered twice, e.g. %s", len(dups), dups[0])
	}
	if got := len(srv.Answered()); got != 2*records {
		t.Errorf("%d distinct requests answered over both runs, want %d", got, 2*records)
	}
	sent := len(srv.Requests())
	t.Logf("killed after %d answers with %d requests in flight; the rerun sent %d requests (%d in all, none answered twice)",
		answered, inFlight, sent-answered-inFlight, sent)
	if want := answered + inFlight + (2*records - answered); sent != want {
		t.Errorf("the server saw %d requests, want %d: %d answered before the kill, %d cut off by it and sent again, %d more",
			sent, want, answered, inFlight, 2*records-answered)
	}

	// An uninterrupted run with a fresh cache and server.
	fresh := augmenttest.NewServer()
	defer fresh.Close()
	want := filepath.Join(dir, "want.jsonl")
	if b, err := exec.Command(bin, args(fresh, filepath.Join(dir, "cache2"), want)...).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, b)
	}
	got, _ := os.ReadFile(out)
	exp, _ := os.ReadFile(want)
	if !bytes.Equal(got, exp) || len(got) == 0 {
		t.Errorf("the resumed output differs from an uninterrupted run's:\n%s\nwant:\n%s", got, exp)
	}
	if n := bytes.Count(got, []byte("#bt-de-0")); n != records {
		t.Errorf("%d augmented records, want %d", n, records)
	}
	gotRej, _ := os.ReadFile(out + ".rejects")
	expRej, _ := os.ReadFile(want + ".rejects")
	if len(gotRej) != 0 || len(expRej) != 0 {
		t.Errorf("rejects:\n%s\n%s", gotRej, expRej)
	}
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
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return n
}
