package chat

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sharegpt/sharegpt/internal/tokenizer"
)

// ConfigFile is the name of a Hugging Face model's tokenizer configuration,
// which holds its chat template.
const ConfigFile = "tokenizer_config.json"

// TemplateFile is the file newer Hugging Face models keep their default
// chat template in, beside tokenizer_config.json; it wins over the
// configuration's chat_template, as in transformers.
const TemplateFile = "chat_template.jinja"

// Config is what a tokenizer_config.json says about chat templates.
type Config struct {
	// Templates maps template names to their Jinja sources; "default" is
	// the one apply_chat_template uses without a name.
	Templates map[string]string
	// BOS and EOS are the bos_token and eos_token strings ("" when unset).
	BOS, EOS string
	// Specials are the strings of the special added tokens
	// (added_tokens_decoder entries with "special": true), with BOS and
	// EOS, sorted.
	Specials []string
	// Source names the file the configuration came from.
	Source string
}

// ParseConfig parses the bytes of a tokenizer_config.json (with
// tokenizer.ParseConfig, which the tokenizer itself reads it with); name is
// for errors. chat_template may be a string or a list of {"name",
// "template"}.
func ParseConfig(data []byte, name string) (*Config, error) {
	tc, err := tokenizer.ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c := &Config{Templates: tc.ChatTemplates, BOS: tc.BOSToken, EOS: tc.EOSToken, Source: name}
	if c.Templates == nil {
		c.Templates = map[string]string{}
		if tc.ChatTemplate != "" {
			c.Templates["default"] = tc.ChatTemplate
		}
	}
	for _, s := range append([]string{c.BOS, c.EOS}, tc.SpecialAdded...) {
		if s != "" && !slices.Contains(c.Specials, s) {
			c.Specials = append(c.Specials, s)
		}
	}
	slices.Sort(c.Specials)
	return c, nil
}

// LoadConfig reads a tokenizer_config.json, given as the file or as the
// folder holding it. A chat_template.jinja beside it becomes the default
// template.
func LoadConfig(path string) (*Config, error) {
	dir, file := filepath.Dir(path), path
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		dir, file = path, filepath.Join(path, ConfigFile)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	c, err := ParseConfig(data, file)
	if err != nil {
		return nil, err
	}
	switch src, err := os.ReadFile(filepath.Join(dir, TemplateFile)); {
	case err == nil:
		c.Templates["default"] = string(src)
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	return c, nil
}

// Template compiles the named chat template of the configuration ("" is
// "default"). The template's Name is "auto" for the default, else its
// name; its SpecialTokens are the configuration's Specials.
func (c *Config) Template(name string) (Template, error) {
	if name == "" {
		name = "default"
	}
	src, ok := c.Templates[name]
	if !ok {
		if len(c.Templates) == 0 {
			return Template{}, fmt.Errorf("%s has no chat_template", c.Source)
		}
		names := make([]string, 0, len(c.Templates))
		for n := range c.Templates {
			names = append(names, n)
		}
		slices.Sort(names)
		return Template{}, fmt.Errorf("%s has no chat template %q (it has: %s)", c.Source, name, strings.Join(names, ", "))
	}
	j, err := compileJinja(src, c)
	if err != nil {
		return Template{}, fmt.Errorf("%s: chat template %q: %w", c.Source, name, err)
	}
	tname := name
	if name == "default" {
		tname = Auto
	}
	return Template{Name: tname, SpecialTokens: c.Specials, jinja: j}, nil
}

// Auto is the name of the template a model's tokenizer_config.json holds,
// as tokenize and split take it.
const Auto = "auto"

// Resolve returns the template a command names: Auto is the default chat
// template of the tokenizer_config.json at configPath (the file, or the
// folder holding it); any other name is Lookup's.
func Resolve(name, configPath string) (Template, error) {
	if name != Auto {
		return Lookup(name)
	}
	if configPath == "" {
		return Template{}, errors.New("template auto needs a tokenizer folder with a tokenizer_config.json that holds the model's chat_template")
	}
	c, err := LoadConfig(configPath)
	if err != nil {
		return Template{}, err
	}
	return c.Template("")
}
