// Package tokenize turns conversations into pre-tokenized training rows:
// id, input_ids, labels, attention_mask and n_tokens, the columns trainers
// load as a tokenized dataset.
//
// # Rows
//
// [Stage] maps a record's turns to messages (a leading "system" turn is the
// system message; an opening gpt turn is dropped as FastChat's train.py
// drops it, unless StrictRoles; then human, gpt, human, ...), renders them
// with a chat template (package chat), tokenizes the rendered string,
// labels it and cuts it to MaxLength tokens (no padding; attention_mask is
// all 1). A conversation that cannot give a row is rejected with a reason:
// [ReasonInvalidRoles], [ReasonEmptyTurn], [ReasonNoReply],
// [ReasonTruncatedAway].
//
// # Token ids
//
// The ids are BOS, then the rendered string, tokenized as one string: the
// special tokens the template placed ("</s>", "<s>"; "<|im_start|>" and
// "<|im_end|>" for chatml) are the ids of the tokenizer's control tokens of
// that name, and every other byte is text. A "</s>" typed inside a message
// is text ("▁</" "s" ">" with LLaMA), never EOS, so a stray end token in a
// reply cannot end a training sequence. A special string the tokenizer has
// no control token for (chatml's with LLaMA) is text too.
//
// The exact rule, checked against SentencePiece C++ (python3-sentencepiece)
// on every conversation of the real data in testdata/: the ids are
//
//	[BOS] + sp(seg0) + [id0] + sp'(seg1) + [id1] + ... + sp'(segN)
//
// where seg0..segN are the pieces of text between the special tokens, id_i
// the special tokens' ids, sp SentencePiece's encoding (with its dummy
// prefix "▁") and sp' SentencePiece's encoding with add_dummy_prefix off.
// This is exactly SentencePiece's encoding of the whole string in one call
// when the special tokens are pieces matched whole and never merged
// (SentencePiece's user-defined pieces): the dummy prefix is added once, at
// the start of the string, and no merge crosses a special token. So after
// "</s>" the vicuna template's "USER" is one token (11889), not "▁US" "ER".
// This is how Hugging Face's LlamaTokenizer treats the text after a special
// token with legacy=False (which, unlike this package, also parses special
// token strings typed inside the text).
//
// Options.Legacy encodes every segment with sp instead, as Hugging Face's
// LlamaTokenizer does with legacy=True (its default, and the mode FastChat's
// train.py and its per-turn length arithmetic were written for): that is
// the whole-string encoding with a space inserted after each special token
// that text follows. Meta's Llama 2 chat format encodes each
// "[INST] ... [/INST] answer " on its own between BOS and EOS, which is the
// llama-2 template in legacy mode (but for Meta's stripping of the texts and
// FastChat's trailing "<s>" after the last reply).
//
// Text without a dummy prefix is encoded with the project's tokenizer by
// prefixing a private-use character that occurs in no piece of the
// vocabulary (nothing merges with it) and dropping its tokens; a tokenizer
// that normalises whitespace (remove_extra_whitespaces) is refused in the
// default mode.
//
// # Labels
//
// A token's label is its id when the bytes it covers overlap an assistant
// reply span (the reply and its closing end token, see chat.Rendered), else
// IgnoreIndex (-100). Labels come from byte offsets (tokenizer.Tokens), not
// from per-turn token arithmetic. The first token of a reply may also cover
// the template's separator space before it ("▁It" after "ASSISTANT:"): the
// model learns to write that token. On the real data, the labelled tokens
// of every reply are contiguous and decode to exactly the reply, followed by
// the closing token's text where that is text (chatml with LLaMA).
//
// # Models' own chat templates
//
// With Options.Template "auto" (chat.Auto) and Options.TemplateConfig
// naming a model's tokenizer folder (or its tokenizer_config.json), the
// conversation is rendered with the model's own Jinja chat_template
// (package chat), from the whole record ([Stage.Conversation]): the roles
// of LLaMA-Factory's ShareGPT format (human, gpt, system, function_call,
// observation; user, assistant and tool too), the record's "system" and
// "tools" fields. A function_call turn's value is {"name", "arguments"}
// (or a list of them) as JSON, rendered as the assistant's tool_calls
// ([ReasonBadToolCall] otherwise). The template decides which orders of
// roles it accepts: its raise_exception, or text that cannot be told
// apart from the messages', is a [ReasonTemplate] reject. No BOS is added
// (the template writes its bos_token); the special tokens are those the
// template wrote outside the messages; a tokenizer without a dummy prefix
// encodes each piece of text between them as it is. Labels cover each
// reply, any tool call the template writes after it, and the end-of-turn
// token after that (chat.Rendered.Replies).
//
// A turn whose text was a list of content parts is its text parts joined
// (pipeline.Turn); the parts that are not text are counted in the details
// (non_text_parts).
//
// # Output
//
// A kept record becomes a row record {"id", "input_ids", "labels",
// "attention_mask", "n_tokens"} that the JSON writers write as it is.
// [TableSink] writes rows to Parquet, Arrow IPC (file or stream) or a
// Hugging Face layout (save_to_disk, Hub) in [Schema], through package
// columnar and hfdataset; as a pipeline.Job's Sink it gets them in input
// order, so the output is the same for any number of workers.
//
// # Memory
//
// A conversation's tokens past MaxLength are counted, not kept, and the
// tokenizer holds a bounded window of the text, so tokenizing a record
// needs memory for its text (a few copies: the record, the rendered
// prompt) and MaxLength tokens, whatever the record's length.
package tokenize
