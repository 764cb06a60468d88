package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// Config is what a chat-template renderer needs from a model folder's
// tokenizer_config.json (and chat_template.jinja, which transformers
// prefers to the config's chat_template when both exist).
type Config struct {
	// ChatTemplate is the Jinja chat template: chat_template when it is
	// a string, the one named "default" when it is a list; "" if none.
	ChatTemplate string
	// ChatTemplates holds the named templates when chat_template is a
	// list of {"name", "template"} (e.g. "default", "tool_use",
	// "rag"); nil otherwise.
	ChatTemplates map[string]string
	// BOSToken, EOSToken, PADToken and UNKToken are the strings of
	// bos_token, eos_token, pad_token and unk_token, given either as a
	// string or as {"content": ...}; "" when absent or null.
	BOSToken, EOSToken, PADToken, UNKToken string
	// AddBOSToken and AddEOSToken are add_bos_token and add_eos_token
	// (false when absent).
	AddBOSToken, AddEOSToken bool
	// SpecialAdded are the strings of the special added tokens
	// (added_tokens_decoder entries with "special": true), in id order.
	SpecialAdded []string
}

// ParseConfig reads the bytes of a tokenizer_config.json.
func ParseConfig(data []byte) (Config, error) {
	var raw struct {
		ChatTemplate json.RawMessage `json:"chat_template"`
		BOS          json.RawMessage `json:"bos_token"`
		EOS          json.RawMessage `json:"eos_token"`
		PAD          json.RawMessage `json:"pad_token"`
		UNK          json.RawMessage `json:"unk_token"`
		AddBOS       *bool           `json:"add_bos_token"`
		AddEOS       *bool           `json:"add_eos_token"`
		Added        map[string]struct {
			Content string `json:"content"`
			Special bool   `json:"special"`
		} `json:"added_tokens_decoder"`
	}
	var c Config
	if err := json.Unmarshal(data, &raw); err != nil {
		return c, fmt.Errorf("not a tokenizer_config.json: %w", err)
	}
	if len(raw.ChatTemplate) > 0 && string(raw.ChatTemplate) != "null" {
		var s string
		if err := json.Unmarshal(raw.ChatTemplate, &s); err == nil {
			c.ChatTemplate = s
		} else {
			var list []struct {
				Name     string `json:"name"`
				Template string `json:"template"`
			}
			if err := json.Unmarshal(raw.ChatTemplate, &list); err != nil {
				return c, fmt.Errorf("chat_template is neither a string nor a list of named templates: %w", err)
			}
			c.ChatTemplates = map[string]string{}
			for _, t := range list {
				c.ChatTemplates[t.Name] = t.Template
			}
			c.ChatTemplate = c.ChatTemplates["default"]
		}
	}
	for _, f := range []struct {
		raw json.RawMessage
		dst *string
		key string
	}{{raw.BOS, &c.BOSToken, "bos_token"}, {raw.EOS, &c.EOSToken, "eos_token"}, {raw.PAD, &c.PADToken, "pad_token"}, {raw.UNK, &c.UNKToken, "unk_token"}} {
		if len(f.raw) == 0 || string(f.raw) == "null" {
			continue
		}
		if err := json.Unmarshal(f.raw, f.dst); err == nil {
			continue
		}
		var obj struct {
			Content string `json:"content"`
		}
		if err := json.Unmarshal(f.raw, &obj); err != nil {
			return c, fmt.Errorf("%s: a token is a string or {\"content\": string}", f.key)
		}
		*f.dst = obj.Content
	}
	c.AddBOSToken = raw.AddBOS != nil && *raw.AddBOS
	c.AddEOSToken = raw.AddEOS != nil && *raw.AddEOS
	ids := make([]int, 0, len(raw.Added))
	for k, a := range raw.Added {
		id, err := strconv.Atoi(k)
		if err != nil {
			return c, fmt.Errorf("added_tokens_decoder: %q is not a token id", k)
		}
		if a.Special && a.Content != "" {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		c.SpecialAdded = append(c.SpecialAdded, raw.Added[strconv.Itoa(id)].Content)
	}
	return c, nil
}

// loadConfig reads tokenizer_config.json and chat_template.jinja from dir
// into t, when they exist, and takes BOS, EOS and PAD from it.
func (t *Tokenizer) loadConfig(dir string) error {
	p := filepath.Join(dir, "tokenizer_config.json")
	if data, err := os.ReadFile(p); err == nil {
		c, err := ParseConfig(data)
		if err != nil {
			return fmt.Errorf("tokenizer: %s: %w", p, err)
		}
		t.config = c
	} else if !os.IsNotExist(err) {
		return fmt.Errorf("tokenizer: %w", err)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "chat_template.jinja")); err == nil {
		t.config.ChatTemplate = string(data)
	}
	for _, f := range []struct {
		s   string
		dst *int
	}{{t.config.BOSToken, &t.bos}, {t.config.EOSToken, &t.eos}, {t.config.PADToken, &t.pad}} {
		if f.s == "" {
			continue
		}
		if id, ok := t.SpecialID(f.s); ok {
			*f.dst = id
		} else if id, ok := t.ids[f.s]; ok {
			*f.dst = id
		}
	}
	return nil
}
