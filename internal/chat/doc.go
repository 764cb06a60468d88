// Package chat renders conversations in the chat templates trainers apply,
// byte for byte as FastChat's Conversation.get_prompt writes them, and says
// where in the rendered text each assistant reply and each template
// special token lies.
//
// # Templates
//
// [Lookup] returns a template by name; [Names] lists them.
//
//   - "vicuna_v1.1" (FastChat's SeparatorStyle.ADD_COLON_TWO, the template
//     FastChat's train.py applies): the system message, " ", then for each
//     turn "USER: " + text + " " or "ASSISTANT: " + text + "</s>". An empty
//     turn is "USER:" or "ASSISTANT:" alone, with no separator.
//   - "llama-2" (FastChat's SeparatorStyle.LLAMA2): "[INST] <<SYS>>\n" +
//     system + "\n<</SYS>>\n\n" (or "[INST] " without a system message), the
//     first user text + " ", then "[/INST] " + reply + " </s><s>" and
//     "[INST] " + text + " " for later turns. As in FastChat, the last reply
//     too is followed by " </s><s>"; the first user turn carries no tag of
//     its own (the system block opens with "[INST]"). No default system
//     message (FastChat removed Meta's).
//   - "chatml" (FastChat's SeparatorStyle.CHATML): "<|im_start|>system\n" +
//     system + "<|im_end|>\n" when there is a system message, then
//     "<|im_start|>user\n" + text + "<|im_end|>\n" and
//     "<|im_start|>assistant\n" + reply + "<|im_end|>\n". An empty turn is
//     the header alone. No default system message, and no system block
//     without one (FastChat writes the block whenever its system template
//     is not empty; ChatML's own convention, which Hugging Face chat
//     templates follow, is to leave it out).
//
// The BOS token that a tokenizer adds before the text is not part of it.
//
// # What Render returns
//
// [Rendered] holds the text, the byte spans of the special tokens the
// template itself placed ("</s>", "<s>", "<|im_start|>", "<|im_end|>"), and
// for each assistant message the span of its reply including the closing
// end token text: "reply</s>" for vicuna_v1.1, "reply </s>" for llama-2 (not
// the "<s>" that opens the next turn), "reply<|im_end|>" for chatml (not
// the "\n" after it). The same strings typed inside a message are text: they
// are never listed as specials, so a tokenizer that encodes the specials as
// control tokens and everything else as text cannot be fooled by a stray
// "</s>" in a reply.
//
// Messages must alternate user, assistant, starting with user; a trailing
// user message (a prompt without its answer) is allowed.
//
// # Models' own chat templates (Jinja)
//
// [LoadConfig] reads a model's tokenizer_config.json (chat_template as a
// string or a list of {name, template}; bos_token and eos_token as strings
// or {content}; the special added tokens) and a chat_template.jinja beside
// it; [Config.Template] compiles one of its templates, and [Resolve] maps
// a command's template name to a template, "auto" ([Auto]) being the
// model's default one. The template is rendered with
// github.com/ardanlabs/jinja, with messages, bos_token, eos_token,
// add_generation_prompt=false and tools (only when the conversation has
// them), as transformers' apply_chat_template renders it. Messages have
// the roles user, assistant, system and tool; an assistant message may
// carry tool_calls ([{"type": "function", "function": {"name",
// "arguments"}}], arguments an object whose member order is kept). The
// conversation's System is a leading system message. A template's own
// errors (raise_exception) are a [*TemplateError].
//
// The renderer was chosen by exactness against Hugging Face's own
// renderer (@huggingface/jinja): on every conversation of
// testdata/sharegpt/sharegpt_v3_sample_1000.json and tool conversations,
// with the templates of Llama 3.1, Qwen 3 and Gemma 3, its text is the
// same byte for byte (nikolalohinski/gonja v2 cannot parse Gemma 3's
// template). Where the two renderers differ, it follows Python's Jinja,
// which transformers runs: "  x".lstrip("\n") keeps the spaces
// (@huggingface/jinja strips them).
//
// Spans come from a second rendering in which each non-empty message
// content is a placeholder (private-use characters around the message's
// index). It cuts the text into the template's own text, which is the same
// in both renderings, and the messages' contents, which the template may
// have stripped of whitespace (trim, strip, lstrip("\n")); the text is
// matched piece by piece, so every byte is known to be the template's or a
// message's, and a template that changes a content otherwise, writes it
// twice or branches on it is refused with a [*SpanError] rather than
// guessed at. Special tokens are the special added tokens (with BOS and
// EOS) found in the template's own text only: a "<|im_end|>" typed in a
// message is text. A reply span runs from the start of the assistant's
// content (as rendered) to the end of the first end-of-turn token
// (eos_token, or a known one among the special tokens: <|eot_id|>,
// <|im_end|>, <end_of_turn>, ...) in the template's text after it, so a
// tool call the template writes after the content is part of the reply.
// An assistant message with empty content (a pure tool call) is placed by
// one more rendering with a placeholder content. The oracle test proves
// the spans on the sample: replacing each reply's content in the text by
// another gives exactly the rendering of the changed conversation.
package chat
