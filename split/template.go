package split

import (
	"fmt"
	"slices"
	"strings"
)

// Template is a chat template of FastChat's ADD_COLON_TWO style: the
// system message and Sep, then each turn as role + ": " + value followed
// by Sep after a user turn and by the EOS token after an assistant turn.
type Template struct {
	Name   string
	System string
	Roles  [2]string // user, assistant
	Sep    string    // after the system message and after a user turn
}

// VicunaV11 is FastChat's "vicuna_v1.1" template (conversation.py), the
// one its train.py applies.
var VicunaV11 = Template{
	Name:   "vicuna_v1.1",
	System: "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions.",
	Roles:  [2]string{"USER", "ASSISTANT"},
	Sep:    " ",
}

var templates = []Template{VicunaV11}

// TemplateNames lists the known templates.
func TemplateNames() []string {
	var names []string
	for _, t := range templates {
		names = append(names, t.Name)
	}
	return names
}

// LookupTemplate returns the named template.
func LookupTemplate(name string) (Template, error) {
	i := slices.IndexFunc(templates, func(t Template) bool { return t.Name == name })
	if i < 0 {
		return Template{}, fmt.Errorf("unknown template %q (known: %s)", name, strings.Join(TemplateNames(), ", "))
	}
	return templates[i], nil
}

// appendTurn appends turn j (0: user, 1: assistant, by position) of the
// prompt text to b, as Conversation.get_prompt writes it, leaving out the
// EOS token that follows a non-empty assistant turn. It reports whether
// that EOS follows.
func (t *Template) appendTurn(b []byte, j int, value string) ([]byte, bool) {
	role := t.Roles[j%2]
	if value == "" {
		return append(append(b, role...), ':'), false
	}
	b = append(append(append(b, role...), ": "...), value...)
	if j%2 == 0 {
		return append(b, t.Sep...), false
	}
	return b, true
}
