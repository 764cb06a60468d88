package tokenizer

import (
	_ "embed"
	"sync"
)

//go:embed llama/tokenizer.model
var llamaModel []byte

var defaultTok = sync.OnceValue(func() *Tokenizer {
	t, err := ParseModel(llamaModel, "embedded llama/tokenizer.model")
	if err != nil {
		panic(err) // the embedded file is tested; this cannot happen
	}
	return t
})

// Default returns the embedded LLaMA / Vicuna tokenizer (SentencePiece BPE,
// 32,000 pieces). It is parsed once, on first use, and shared.
func Default() *Tokenizer { return defaultTok() }
