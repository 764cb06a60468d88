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
//	for id, start := range tok.Tokens(text)  // the same, one token at a time, without keeping them
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
// # Chunks, memory and speed
//
// The merge table maps a pair of symbol ids to the merged id and its score in
// an open-addressing hash table. The text is normalised and encoded a
// window of at most 16,384 characters at a time, cut into chunks that are
// merged on their own. A cut goes between two characters a and b when no
// piece contains a followed by b: then no merge can ever join them, and the
// merges on one side never change the order of merges on the other (the
// best pair of the whole text is the best pair of its side, and the
// leftmost on ties), so the result is the same as encoding the whole text.
// Two such cuts are tested: before a "▁" that follows a character c when
// no piece contains c followed by "▁" (for LLaMA, before every space
// except inside runs of spaces), and on both sides of a character that is
// in no piece of two or more characters (for LLaMA: newlines, tabs,
// digits, CJK ideographs, and the characters of no piece, such as
// most emoji, encoded as bytes). Short chunks are merged by a quadratic scan, longer ones with
// SentencePiece's heap of candidate pairs.
//
// A chunk longer than the window (a run of one character such as
// "=====" or spaces, a DNA sequence, a word of thousands of letters) is
// encoded by finding the last token of the encoding of each of its
// prefixes (the method of GitHub's rust-gems bpe crate) and cutting where
// the encodings of all longer prefixes provably share a token boundary;
// long.go gives the argument. It holds only the text since its last cut,
// which for every text tried comes within a few hundred characters (were
// it never to come, memory would grow by 24 bytes per character of the
// chunk), and costs a constant time per character. For a model with user-defined or
// UNUSED pieces such a chunk is merged whole instead, in memory that
// grows with the chunk.
//
// So Count and Tokens use memory that does not grow with the text (about
// 400 KB of buffers per concurrent call, reused), and Encode and
// EncodeOffsets only their results (8 bytes per id and per offset);
// encoding time is linear in the text.
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
