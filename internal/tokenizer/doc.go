// Package tokenizer implements in pure Go the LLaMA / Vicuna SentencePiece
// tokenizer, giving exactly the token ids SentencePiece (the C++ library,
// 0.1.97) gives, and the BPE tokenizer.json files of today's models (Llama
// 3 and 3.1, Qwen 3, Gemma 3, DeepSeek V3, gpt-oss, Mistral/LLaMA-2 style),
// giving exactly the ids of Hugging Face's Rust tokenizers.
//
// # Plain text and rendered templates
//
//	ids := tok.Encode(text)                 // plain text (a message's content)
//	ids := tok.EncodeSpecial(rendered)      // a rendered chat template
//	ids, starts := tok.EncodeSpecialOffsets(rendered)
//	id, ok := tok.SpecialID("<|eot_id|>")   // the id of an added/special token string
//	cfg := tok.Config()                     // chat_template, bos_token, eos_token of tokenizer_config.json
//
// Encode treats text as text: the strings of special tokens ("<s>",
// "<|im_end|>", "<|eot_id|>") are encoded as characters, never as their
// ids, so a user cannot inject control tokens; added tokens not marked
// special (Qwen's "<tool_call>", Gemma's "<h1>") are still matched, as
// they are part of the vocabulary (Hugging Face's encode_special_tokens,
// transformers' split_special_tokens=True). EncodeSpecial matches every
// added and special token string, as transformers' tokenizer(text,
// add_special_tokens=False) does: use it on a rendered chat template, whose
// special-token strings must become their ids; for a tokenizer.model the
// control and unknown pieces ("<s>", "</s>", "<unk>") are matched, as
// transformers' LlamaTokenizer does. Neither adds BOS or EOS.
//
// Config holds what a chat-template renderer needs from the
// tokenizer_config.json (and chat_template.jinja) beside the loaded file:
// ChatTemplate (or ChatTemplates when the config names several),
// BOSToken, EOSToken, PADToken, UNKToken, AddBOSToken, AddEOSToken; BOS(),
// EOS() and PAD() follow its bos_token, eos_token and pad_token. ParseConfig
// reads such a file's bytes.
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
// tokenizer.json this package cannot reproduce exactly (the error names
// the component: a WordPiece or Unigram model, BPE dropout, a
// continuing_subword_prefix, an NFKC or Lowercase normalizer, a Metaspace
// or Whitespace pre-tokenizer with byte-level BPE, ByteLevel with
// add_prefix_space, a Split with invert, ...).
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
// Encode's text is plain text: "<s>" or "</s>" in it are encoded as
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
// (vocabulary and merges; the normalizer and pre-tokenizer are read here,
// as sugarme cannot compile regular expressions with lookahead), but
// encoded with this package's loop, following Hugging Face tokenizers
// (the Rust library, which transformers' fast tokenizers run):
//
//  1. Added tokens (added_tokens) are found first: those with
//     normalized=false in the original text, those with normalized=true
//     in the normalized text between them; leftmost-longest matches
//     (tokenizers' Aho-Corasick automaton), with the single_word, lstrip
//     and rstrip rules. The text between them is encoded on its own.
//  2. Byte-level BPE (a ByteLevel pre-tokenizer: Llama 3, Qwen, DeepSeek,
//     gpt-oss): invalid UTF-8 becomes U+FFFD (each byte), an NFC
//     normalizer (Qwen) is applied, the Split pre-tokenizers cut the text
//     into words (Isolated, Removed, MergedWithPrevious, MergedWithNext,
//     Contiguous), ByteLevel with use_regex adds GPT-2's split. The
//     patterns of Llama 3 and Qwen, which need \s+(?!\S), are matched by
//     hand-written code (pretok.go, fuzzed against regexp2); any other
//     pattern goes through github.com/dlclark/regexp2 (.NET syntax: the
//     same lookarounds and Unicode classes as Oniguruma, which the Rust
//     library uses; a known difference: (?i) folds "ſ" to "s" in regexp2,
//     not in Oniguruma). Each word is merged on its bytes, the pair of
//     lowest merge rank first, the leftmost on ties; with ignore_merges
//     (Llama 3, gpt-oss) a word that is in the vocabulary is one token.
//     Words of up to 64 bytes are cached per scratch buffer. A word is
//     merged in memory proportional to it (about 20 bytes per byte) in
//     O(n log n) time: a single 10 MB word costs some 200 MB while it is
//     encoded; words are independent, so ordinary text holds one at a
//     time.
//  3. SentencePiece-style BPE (byte_fallback, "▁" for spaces: LLaMA 2,
//     Mistral, Gemma 3): normalizer Prepend("▁") + Replace(" ", "▁") or
//     a Metaspace pre-tokenizer, or Gemma 3's Replace(" ", "▁") with a
//     Split on " " (which then finds nothing), encoded by the
//     SentencePiece loop above with the priority of a pair its merge's
//     rank, the leftmost pair on ties. Metaspace's split and its rule of
//     not prefixing text that starts with a space are deliberately not
//     applied (SentencePiece's behaviour, which such a file was converted
//     from).
//
// Added tokens marked special are control tokens (IsControl); the others
// are user-defined. Offsets of text between added tokens point into the
// original text (through NFC and U+FFFD replacement, to the start of the
// original characters); a byte-level token that starts inside a
// character starts at that byte. Decode skips special tokens; for
// byte-level models it joins the tokens' bytes, each invalid byte becoming
// U+FFFD.
package tokenizer
