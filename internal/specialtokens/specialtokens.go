// Package specialtokens escapes a tokenizer's special-token strings in
// text, as FastChat's fastchat/data/optional_replace.py does, so that a
// trainer that parses special tokens in text ("</s>" in a conversation
// about HTML or tokenizers) does not read them as the real tokens.
//
// The rule (replace_special_tokens): each of the BOS, EOS, PAD and UNK
// strings, in that order and when set, is replaced everywhere by itself
// with a vertical line inserted: a token of 3 or more characters becomes
// first|middle|last ("</s>" -> "<|/s|>", "<unk>" -> "<|unk|>"), one of
// 2 characters first|last, one of 1 character a space. Characters are
// Unicode code points, as Python counts them. Empty text is unchanged.
package specialtokens

import "strings"

// Tokens are a tokenizer's special-token strings; "" is none.
type Tokens struct {
	BOS, EOS, PAD, UNK string
}

// LLaMA are the LLaMA (and Vicuna) tokenizer's tokens: no pad token.
var LLaMA = Tokens{BOS: "<s>", EOS: "</s>", UNK: "<unk>"}

// InsertVline is optional_replace.py's _insert_vline.
func InsertVline(token string) string {
	r := []rune(token)
	switch {
	case len(r) < 2:
		return " "
	case len(r) == 2:
		return string(r[0]) + "|" + string(r[1])
	}
	return string(r[0]) + "|" + string(r[1:len(r)-1]) + "|" + string(r[len(r)-1])
}

// Replace escapes the special tokens in text, one after another in the
// order BOS, EOS, PAD, UNK (each replacement sees the previous one's
// result, as in the script).
func Replace(text string, t Tokens) string {
	if text == "" {
		return text
	}
	for _, tok := range []string{t.BOS, t.EOS, t.PAD, t.UNK} {
		if tok != "" {
			text = strings.ReplaceAll(text, tok, InsertVline(tok))
		}
	}
	return text
}
