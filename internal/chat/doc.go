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
package chat
