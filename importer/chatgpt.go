package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sharegpt/sharegpt/pipeline"
)

// ChatGPT export: a conversation object with a mapping tree.
type gptConv struct {
	ID               string          `json:"id"`
	ConversationID   string          `json:"conversation_id"`
	Title            *string         `json:"title"`
	CreateTime       json.RawMessage `json:"create_time"`
	CurrentNode      *string         `json:"current_node"`
	DefaultModelSlug string          `json:"default_model_slug"`
	Mapping          json.RawMessage `json:"mapping"`
}

type gptNode struct {
	ID       *string          `json:"id"`
	Parent   *string          `json:"parent"`
	Children *[]string        `json:"children"`
	Message  *json.RawMessage `json:"message"`
}

type gptMessage struct {
	Author struct {
		Role string  `json:"role"`
		Name *string `json:"name"`
	} `json:"author"`
	Content   *gptContent `json:"content"`
	Recipient string      `json:"recipient"`
	Metadata  struct {
		Hidden              bool   `json:"is_visually_hidden_from_conversation"`
		IsUserSystemMessage bool   `json:"is_user_system_message"`
		ModelSlug           string `json:"model_slug"`
		UserContext         *struct {
			AboutUser  string `json:"about_user_message"`
			AboutModel string `json:"about_model_message"`
		} `json:"user_context_message_data"`
	} `json:"metadata"`
}

type gptContent struct {
	ContentType *string           `json:"content_type"`
	Parts       []json.RawMessage `json:"parts"`
	Text        json.RawMessage   `json:"text"`
	Result      json.RawMessage   `json:"result"`
	Title       json.RawMessage   `json:"title"`
	URL         json.RawMessage   `json:"url"`
	Content     json.RawMessage   `json:"content"`
	Thoughts    []struct {
		Summary string `json:"summary"`
		Content string `json:"content"`
	} `json:"thoughts"`
	UserProfile      string `json:"user_profile"`
	UserInstructions string `json:"user_instructions"`
}

// str decodes a raw JSON string; anything else is "".
func str(raw json.RawMessage) string {
	var s string
	if len(raw) > 0 && raw[0] == '"' {
		json.Unmarshal(raw, &s)
	}
	return s
}

// shapeError turns a json type error into a bad-shape rejection naming the
// field.
func shapeError(prefix string, err error) *rejection {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if prefix != "" && field != "" {
			field = prefix + "." + field
		} else if field == "" {
			field = prefix
		}
		return reject(ReasonBadShape, field, "%s where %s was expected", te.Value, te.Type)
	}
	return reject(ReasonBadShape, prefix, "%v", err)
}

// orderedObject decodes a JSON object's members in order.
func orderedObject(raw json.RawMessage) ([]string, []json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	t, err := dec.Token()
	if err != nil {
		return nil, nil, err
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return nil, nil, fmt.Errorf("not an object")
	}
	var keys []string
	var vals []json.RawMessage
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		keys, vals = append(keys, k), append(vals, v)
	}
	return keys, vals, nil
}

func (s *stage) chatgpt(raw json.RawMessage, c *counts) (*conv, string, *rejection) {
	var g gptConv
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil, "", shapeError("", err)
	}
	id := g.ID
	if id == "" {
		id = g.ConversationID
	}
	if len(g.Mapping) == 0 || string(g.Mapping) == "null" {
		return nil, id, reject(ReasonNoMapping, "mapping", "the conversation has no mapping (a 2025 export without its messages?)")
	}
	keys, vals, err := orderedObject(g.Mapping)
	if err != nil {
		return nil, id, reject(ReasonBadShape, "mapping", "%v", err)
	}
	t := newTree("mapping")
	if g.CurrentNode != nil {
		t.current = *g.CurrentNode
	}
	for i, key := range keys {
		var n gptNode
		field := "mapping." + key
		if err := json.Unmarshal(vals[i], &n); err != nil {
			return nil, id, shapeError(field, err)
		}
		tn := linkNode(n.Parent, n.Children)
		if n.Message != nil && string(*n.Message) != "null" {
			var m gptMessage
			if err := json.Unmarshal(*n.Message, &m); err != nil {
				return nil, id, shapeError(field+".message", err)
			}
			mm, rj := s.gptMsg(&m, field+".message", c)
			if rj != nil {
				return nil, id, rj
			}
			if mm != nil {
				tn.msgs = []*msg{mm}
			}
		}
		if rj := t.add(key, tn); rj != nil {
			return nil, id, rj
		}
	}
	paths, active, points, rj := t.paths(s.o.Branches, s.maxOut)
	if rj != nil {
		return nil, id, rj
	}
	cv := &conv{id: id, paths: paths, active: active, points: points}
	if g.Title != nil {
		cv.fields = append(cv.fields, pipeline.Field{Key: "title", Value: pipeline.AppendString(nil, *g.Title)})
	}
	if g.DefaultModelSlug != "" {
		cv.fields = append(cv.fields, pipeline.Field{Key: "model", Value: pipeline.AppendString(nil, g.DefaultModelSlug)})
	}
	if len(g.CreateTime) > 0 && string(g.CreateTime) != "null" {
		cv.fields = append(cv.fields, pipeline.Field{Key: "create_time", Value: g.CreateTime})
	}
	return cv, id, nil
}

// gptMsg maps one ChatGPT message to a turn (or nothing).
func (s *stage) gptMsg(m *gptMessage, field string, c *counts) (*msg, *rejection) {
	if m.Content == nil {
		return nil, reject(ReasonNoContentType, field+".content", "the message has no content")
	}
	if m.Content.ContentType == nil {
		return nil, reject(ReasonNoContentType, field+".content.content_type", "missing")
	}
	ct := *m.Content.ContentType
	cont := m.Content
	out := &msg{model: m.Metadata.ModelSlug}
	var images []image
	text := ""
	switch ct {
	case "text", "multimodal_text":
		var parts []string
		for i, p := range cont.Parts {
			switch {
			case len(p) > 0 && p[0] == '"':
				if s := str(p); s != "" {
					parts = append(parts, s)
				}
			case len(p) > 0 && p[0] == '{':
				var ip struct {
					ContentType string          `json:"content_type"`
					Pointer     string          `json:"asset_pointer"`
					Width       json.RawMessage `json:"width"`
					Height      json.RawMessage `json:"height"`
					Text        string          `json:"text"`
				}
				if err := json.Unmarshal(p, &ip); err != nil {
					return nil, shapeError(fmt.Sprintf("%s.content.parts[%d]", field, i), err)
				}
				if ip.ContentType == "image_asset_pointer" && ip.Pointer != "" {
					images = append(images, image{Pointer: ip.Pointer, Width: ip.Width, Height: ip.Height})
				} else if ip.Text != "" {
					parts = append(parts, ip.Text)
				}
			}
		}
		text = strings.Join(parts, "\n")
	case "code", "execution_output", "system_error":
		text = str(cont.Text)
	case "tether_browsing_display":
		text = str(cont.Result)
	case "tether_quote":
		text = strings.TrimSpace(strings.Join([]string{str(cont.Title), str(cont.URL), str(cont.Text)}, "\n"))
	case "thoughts":
		var th []string
		for _, t := range cont.Thoughts {
			if x := strings.TrimSpace(t.Summary + "\n" + t.Content); x != "" {
				th = append(th, x)
			}
		}
		c.reasoning++
		return &msg{reasoning: strings.Join(th, "\n\n")}, nil
	case "reasoning_recap":
		return nil, nil // "Thought for 12s": the UI's, not the model's
	case "user_editable_context":
		text = strings.TrimSpace(strings.Join([]string{cont.UserProfile, cont.UserInstructions}, "\n\n"))
		if text == "" || s.o.NoSystem {
			return nil, nil
		}
		return &msg{role: pipeline.RoleSystem, value: text}, nil
	default:
		text = str(cont.Text)
		for _, p := range cont.Parts {
			if s := str(p); s != "" {
				text += s
			}
		}
	}
	if m.Metadata.Hidden && !s.o.KeepHidden {
		// Custom instructions are hidden system messages: kept as system.
		if !(m.Author.Role == "system" && m.Metadata.IsUserSystemMessage) {
			c.hidden++
			return nil, nil
		}
	}
	out.value, out.images = text, images
	tool := m.Recipient != "" && m.Recipient != "all"
	switch {
	case m.Author.Role == "system":
		if m.Metadata.UserContext != nil && strings.TrimSpace(text) == "" {
			text = strings.TrimSpace(m.Metadata.UserContext.AboutUser + "\n\n" + m.Metadata.UserContext.AboutModel)
		}
		if strings.TrimSpace(text) == "" || s.o.NoSystem {
			return nil, nil
		}
		out.role, out.value = pipeline.RoleSystem, text
	case m.Author.Role == "tool":
		if s.o.Tools == "drop" {
			c.toolsDropped++
			return nil, nil
		}
		if text == "" && len(images) == 0 {
			return nil, nil
		}
		out.role = RoleObservation
		if m.Author.Name != nil {
			out.name = *m.Author.Name
		}
	case tool: // an assistant (or user) message addressed to a tool
		if s.o.Tools == "drop" {
			c.toolsDropped++
			return nil, nil
		}
		if text == "" {
			return nil, nil
		}
		b, _ := json.Marshal(struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		}{m.Recipient, text})
		out.role, out.value = RoleFunctionCall, string(b)
	case m.Author.Role == "user":
		out.role = pipeline.RoleHuman
	case m.Author.Role == "assistant":
		if strings.TrimSpace(text) == "" && len(images) == 0 {
			return nil, nil
		}
		out.role = pipeline.RoleGPT
	default:
		return nil, reject(ReasonBadShape, field+".author.role", "unknown role %q", m.Author.Role)
	}
	return out, nil
}
