// Package tokenizer implements the LLaMA / Vicuna tokenizers in pure Go,
// giving exactly the token ids SentencePiece (the C++ library, 0.1.97) gives.
//
// # Loading
//
//	tok := tokenizer.Default()              // embedded LLaMA tokenizer.model (32,000 pieces)
//	tok, err := tokenizer.Load(path)        // tokenizer.model, tokenizer.json, or a folder with one
//	tok, err := tokenizer.ParseModel(b, name) // bytes of a tokenizer.model
//	tok, err := tokenizer.ParseJSON(b, name)  // bytes of a tokenizer.json
//
// Load prefers tokenizer.model when a folder holds both. Errors name the file
// and never panic: a missing or corrupt file, an unsupported SentencePiece
// model type (UNIGRAM, WORD, CHAR), a precompiled (NFKC) normaliser, or a
// tokenizer.json this package cannot reproduce exactly.
//
// Default parses the embedded llama/tokenizer.model once, on first use (see
// llama/NOTICE for its origin and licence).
//
// # Encoding
//
//	ids := tok.Encode(text)                  // no BOS/EOS
//	dst = tok.AppendEncode(dst, text)        // appends to dst, no other allocation
//	n := tok.Count(text)                     // len(tok.Encode(text)), without keeping ids
//	ids, starts := tok.EncodeOffsets(text)   // starts[i]: byte offset in text where token i starts
//	s := tok.Decode(ids)
//	tok.BOS(), tok.EOS(), tok.UNK(), tok.PAD(), tok.VocabSize(), tok.Piece(id), tok.ID(piece), tok.IsControl(id)
//
// Text is always plain text: "<s>" or "</s>" in it are encoded as
// characters, never as the control ids; callers add BOS/EOS themselves.
// All methods are safe for concurrent use; a Tokenizer is immutable and the
// per-call scratch buffers come from a sync.Pool.
//
// # SentencePiece semantics
//
// Normalisation is SentencePiece's identity rules: a dummy "▁" prefix on
// non-empty text, every space becomes "▁" (no other whitespace changes,
// runs of spaces are kept unless the model asks for remove_extra_whitespaces),
// and each byte of invalid UTF-8 becomes U+FFFD. Encoding is SentencePiece
// BPE (bpe_model.cc): starting from characters (user-defined pieces matched
// whole, longest first, and never merged), repeatedly merge the adjacent pair
// whose concatenation is a piece with the highest score, the leftmost pair
// on ties; a character left without a piece becomes its UTF-8 bytes <0xXX>
// (byte fallback) or <unk>. UNUSED pieces are split back as SentencePiece
// does. With the LLaMA model "\n    if" gives "▁" "<0x0A>" "▁▁▁" "▁if": the
// whitespace-only pieces have the lowest score, so "▁if" forms first.
//
// # Speed
//
// The merge table maps a pair of symbol ids to the merged id and its score in
// an open-addressing hash table. The text is cut into chunks before each "▁"
// that follows a character c when no piece contains c followed by "▁" (for
// LLaMA, before every space except inside runs of spaces): no merge can cross
// such a cut, and merges on one side never change the order of merges on the
// other, so the result is the same as encoding the whole text. Short chunks
// are merged by a quadratic scan, long ones with SentencePiece's heap of
// candidate pairs, so the cost per token does not grow with text length.
//
// # tokenizer.json
//
// A Hugging Face tokenizer.json is loaded with github.com/sugarme/tokenizer
// (vocabulary, merges, decoding), but encoded with this package's loop,
// because sugarme's own encoder ignores byte_fallback, breaks merge ties in
// heap order and its normaliser is super-linear. Supported: model BPE with
// byte_fallback, normalizer Prepend("▁") + Replace(" ", "▁") or a Metaspace
// pre-tokenizer. The priority of a pair is the best rank of any merge that
// produces the same token, ties going to the leftmost pair: this is
// SentencePiece's rule for a tokenizer.json converted from a tokenizer.model
// (merges ordered by score), so such a file gives the same ids as the model;
// Metaspace's split and its rule of not prefixing text that starts with a
// space are deliberately not applied, for the same reason. Added tokens
// marked special are control tokens (never produced from text); other added
// tokens are matched whole like user-defined pieces.
package tokenizer
