package augment

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/template"
)

// Prompt is one versioned chat prompt: a system message and a user message,
// both Go text/templates. Translation templates see .From, .To (English
// language names: "German") and .Text; paraphrase templates .Language and
// .Text. .Text holds placeholders ([[CODE_1]]) the model must keep.
type Prompt struct {
	System string `json:"system"`
	User   string `json:"user"`
}

// Prompts are the templates of a run. Version names them in the
// provenance of every augmented record; change it whenever a template
// changes.
type Prompts struct {
	Version    string `json:"version"`
	Translate  Prompt `json:"translate"`
	Paraphrase Prompt `json:"paraphrase"`

	translate, paraphrase [2]*template.Template
}

// DefaultPrompts returns the built-in prompts, version "v1". They ask for
// the text only, so that the answer needs no parsing.
func DefaultPrompts() *Prompts {
	p := &Prompts{
		Version: "v1",
		Translate: Prompt{
			System: "You are a professional translator. You translate faithfully and completely, and you never add anything.",
			User: "Translate the text below from {{.From}} into {{.To}}.\n" +
				"Keep every placeholder such as [[CODE_1]], [[URL_2]] or [[TABLE_3]] exactly as written; a placeholder alone on its line stays alone on its line.\n" +
				"Reply with the translation only: no introduction, no notes, no quotation marks.\n\n" +
				"{{.Text}}",
		},
		Paraphrase: Prompt{
			System: "You are a careful editor. You rewrite texts so that they say exactly the same thing in different words.",
			User: "Rewrite the text below in {{.Language}}, with the same meaning and about the same length, in different words.\n" +
				"Keep every placeholder such as [[CODE_1]], [[URL_2]] or [[TABLE_3]] exactly as written; a placeholder alone on its line stays alone on its line.\n" +
				"Reply with the rewritten text only: no introduction, no notes, no quotation marks.\n\n" +
				"{{.Text}}",
		},
	}
	if err := p.compile(); err != nil {
		panic(err) // the built-in templates are tested
	}
	return p
}

// LoadPrompts reads prompts from a JSON file:
//
//	{"version": "mine-v2",
//	 "translate": {"system": "...", "user": "... {{.From}} ... {{.To}} ... {{.Text}}"},
//	 "paraphrase": {"system": "...", "user": "... {{.Language}} ... {{.Text}}"}}
//
// A missing prompt is the built-in one; the version is required.
func LoadPrompts(path string) (*Prompts, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("prompt file: %w", err)
	}
	def := DefaultPrompts()
	p := &Prompts{}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		return nil, fmt.Errorf("prompt file %s: %w", path, err)
	}
	if strings.TrimSpace(p.Version) == "" {
		return nil, fmt.Errorf("prompt file %s: no \"version\": name the prompts so that augmented records say which made them", path)
	}
	if p.Translate.User == "" {
		p.Translate = def.Translate
	}
	if p.Paraphrase.User == "" {
		p.Paraphrase = def.Paraphrase
	}
	if err := p.compile(); err != nil {
		return nil, fmt.Errorf("prompt file %s: %w", path, err)
	}
	return p, nil
}

func (p *Prompts) compile() error {
	for _, c := range []struct {
		name string
		src  Prompt
		dst  *[2]*template.Template
		data any
	}{
		{"translate", p.Translate, &p.translate, translateData{From: "English", To: "German", Text: "x"}},
		{"paraphrase", p.Paraphrase, &p.paraphrase, paraphraseData{Language: "English", Text: "x"}},
	} {
		for i, text := range []string{c.src.System, c.src.User} {
			t, err := template.New(c.name).Option("missingkey=error").Parse(text)
			if err != nil {
				return fmt.Errorf("%s prompt: %w", c.name, err)
			}
			if err := t.Execute(new(strings.Builder), c.data); err != nil {
				return fmt.Errorf("%s prompt: %w", c.name, err)
			}
			c.dst[i] = t
		}
		if !strings.Contains(c.src.User, ".Text") {
			return fmt.Errorf("%s prompt: the user template never uses {{.Text}}", c.name)
		}
	}
	return nil
}

type translateData struct{ From, To, Text string }

type paraphraseData struct{ Language, Text string }

// messages renders a prompt pair into chat messages; the system message is
// left out when its template renders empty.
func render(ts [2]*template.Template, data any) ([]Message, error) {
	var msgs []Message
	for i, role := range []string{"system", "user"} {
		var b strings.Builder
		if err := ts[i].Execute(&b, data); err != nil {
			return nil, err
		}
		if s := b.String(); s != "" || role == "user" {
			msgs = append(msgs, Message{Role: role, Content: s})
		}
	}
	return msgs, nil
}

func (p *Prompts) translateMessages(from, to, text string) ([]Message, error) {
	return render(p.translate, translateData{From: from, To: to, Text: text})
}

func (p *Prompts) paraphraseMessages(lang, text string) ([]Message, error) {
	return render(p.paraphrase, paraphraseData{Language: lang, Text: text})
}
