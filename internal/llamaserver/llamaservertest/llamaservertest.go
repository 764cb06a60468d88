// Package llamaservertest starts a real llama-server on the tiny random-weight
// model for tests, skipping (and saying why) when llama-server is not installed.
package llamaservertest

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/sharegpt/sharegpt/internal/gguf"
	"github.com/sharegpt/sharegpt/internal/llamaserver"
)

// WriteTinyModel writes the tiny random-weight model (gguf.DefaultConfig
// with the project's LLaMA vocabulary) as dir/NAME.gguf and returns its path.
func WriteTinyModel(dir, name string) (string, error) {
	tok, err := gguf.FindTokenizerModel(".")
	if err != nil {
		return "", err
	}
	v, err := gguf.LoadVocab(tok)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, name+".gguf")
	return path, gguf.WriteFile(path, gguf.DefaultConfig(), v)
}

// StartTiny starts a server for the tiny model, written to a temporary
// folder, with o's other options; the server is stopped when the test ends.
// The test is skipped, saying why, when llama-server is not installed
// (Binary empty and Find fails); any other failure fails it.
func StartTiny(t testing.TB, o llamaserver.Options) *llamaserver.Server {
	t.Helper()
	if o.Binary == "" {
		bin, err := llamaserver.Find()
		if errors.Is(err, llamaserver.ErrNotInstalled) {
			t.Skipf("skipping the llama.cpp integration test: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		o.Binary = bin
	}
	if o.Model == "" {
		m, err := WriteTinyModel(t.TempDir(), "vicuna-tiny-random")
		if err != nil {
			t.Fatal(err)
		}
		o.Model = m
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := llamaserver.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
