// Command gengguf writes a small LLaMA model in GGUF format with seeded
// random weights and the real LLaMA vocabulary (the project's
// internal/tokenizer/llama/tokenizer.model), for running a real inference server
// (llama.cpp's llama-server) in tests. The model answers with gibberish. The
// same flags give the same bytes. See package tools/gengguf/gguf.
//
//	go run ./tools/gengguf -o /tmp/tiny.gguf
//	go run ./tools/gengguf -embedding 128 -layers 4 -f16 -o /tmp/small.gguf
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/sharegpt/sharegpt/internal/gguf"
)

func main() {
	c := gguf.DefaultConfig()
	var (
		out        = flag.String("o", "", "output file (required)")
		tok        = flag.String("tokenizer", "", "SentencePiece tokenizer.model (default: the repository's "+gguf.TokenizerModelPath+")")
		noTemplate = flag.Bool("no-template", false, "write no chat template (the default is Vicuna v1.1's)")
	)
	flag.StringVar(&c.Name, "name", c.Name, "general.name")
	flag.IntVar(&c.Embedding, "embedding", c.Embedding, "embedding length")
	flag.IntVar(&c.Layers, "layers", c.Layers, "number of layers")
	flag.IntVar(&c.Heads, "heads", c.Heads, "attention heads")
	flag.IntVar(&c.HeadsKV, "heads-kv", c.HeadsKV, "key/value heads")
	flag.IntVar(&c.FF, "ff", c.FF, "feed-forward length")
	flag.IntVar(&c.Context, "context", c.Context, "training context length")
	flag.BoolVar(&c.F16, "f16", c.F16, "F16 weight matrices (default F32)")
	flag.Uint64Var(&c.Seed, "seed", c.Seed, "random seed")
	flag.Float64Var(&c.Std, "std", c.Std, "standard deviation of the weights")
	flag.Parse()
	if *noTemplate {
		c.Template = ""
	}
	if err := run(*out, *tok, c); err != nil {
		fmt.Fprintln(os.Stderr, "gengguf:", err)
		os.Exit(1)
	}
}

func run(out, tok string, c gguf.Config) error {
	if out == "" {
		return fmt.Errorf("-o is required")
	}
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	if tok == "" {
		p, err := gguf.FindTokenizerModel(".")
		if err != nil {
			return err
		}
		tok = p
	}
	v, err := gguf.LoadVocab(tok)
	if err != nil {
		return err
	}
	return gguf.WriteFile(out, c, v)
}
