package importer

import (
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/sharegpt/sharegpt/pipeline"
)

func stringField(key, value string) pipeline.Field {
	return pipeline.Field{Key: key, Value: pipeline.AppendString(nil, value)}
}

// Claude: an export conversation or a share snapshot.
type claudeConv struct {
	UUID             string          `json:"uuid"`
	Name             *string         `json:"name"`
	SnapshotName     *string         `json:"snapshot_name"`
	ConversationUUID string          `json:"conversation_uuid"`
	CreatedAt        json.RawMessage `json:"created_at"`
	Model            string          `json:"model"`
	Messages         *[]struct {
		Sender  string          `json:"sender"`
		Index   *int            `json:"index"`
		Text    string          `json:"text"`
		Content []claudeContent `json:"content"`
		Files   []struct {
			FileKind string `json:"file_kind"`
			FileName string `json:"file_name"`
			UUID     string `json:"file_uuid"`
		} `json:"files"`
	} `json:"chat_messages"`
}

type claudeContent struct {
	Type     string          `json:"type"`
	Text     string          `json:"text"`
	Thinking string          `json:"thinking"`
	Name     string          `json:"name"`
	Input    json.RawMessage `json:"input"`
	Content  json.RawMessage `json:"content"`
}

func (s *stage) claude(raw json.RawMessage, c *counts) (*conv, string, *rejection) {
	var cc claudeConv
	if err := json.Unmarshal(raw, &cc); err != nil {
		return nil, "", shapeError("", err)
	}
	id := cc.UUID
	if cc.Messages == nil {
		return nil, id, reject(ReasonBadShape, "chat_messages", "missing")
	}
	msgs := *cc.Messages
	// Snapshots list messages in any order, with an index.
	sort.SliceStable(msgs, func(i, j int) bool {
		if msgs[i].Index == nil || msgs[j].Index == nil {
			return false
		}
		return *msgs[i].Index < *msgs[j].Index
	})
	var p path
	for i, m := range msgs {
		field := fmt.Sprintf("chat_messages[%d]", i)
		role := pipeline.RoleGPT
		switch m.Sender {
		case "human":
			role = pipeline.RoleHuman
		case "assistant":
		default:
			return nil, id, reject(ReasonBadShape, field+".sender", "unknown sender %q", m.Sender)
		}
		var text []string
		flush := func() {
			if len(text) > 0 {
				p = append(p, &msg{role: role, value: strings.Join(text, "\n\n")})
				text = nil
			}
		}
		for _, b := range m.Content {
			switch b.Type {
			case "text":
				if b.Text != "" {
					text = append(text, b.Text)
				}
			case "thinking":
				c.reasoning++
				p = append(p, &msg{reasoning: b.Thinking})
			case "tool_use":
				flush()
				if s.o.Tools == "drop" {
					c.toolsDropped++
					continue
				}
				args := b.Input
				if len(args) == 0 {
					args = json.RawMessage("{}")
				}
				v, _ := json.Marshal(struct {
					Name      string          `json:"name"`
					Arguments json.RawMessage `json:"arguments"`
				}{b.Name, args})
				p = append(p, &msg{role: RoleFunctionCall, value: string(v)})
			case "tool_result":
				flush()
				if s.o.Tools == "drop" {
					c.toolsDropped++
					continue
				}
				p = append(p, &msg{role: RoleObservation, value: blockText(b.Content), name: b.Name})
			}
		}
		if len(m.Content) == 0 && m.Text != "" {
			text = append(text, m.Text)
		}
		flush()
		for _, f := range m.Files {
			if f.FileKind == "image" && len(p) > 0 {
				p[len(p)-1].images = append(p[len(p)-1].images, image{Pointer: f.UUID})
			}
		}
	}
	cv := &conv{id: id, paths: []path{p}}
	if id == "" {
		cv.id = cc.ConversationUUID
	}
	for _, t := range []*string{cc.Name, cc.SnapshotName} {
		if t != nil {
			cv.fields = append(cv.fields, stringField("title", *t))
			break
		}
	}
	if cc.Model != "" {
		cv.fields = append(cv.fields, stringField("model", cc.Model))
	}
	if len(cc.CreatedAt) > 0 && string(cc.CreatedAt) != "null" {
		cv.fields = append(cv.fields, pipeline.Field{Key: "create_time", Value: cc.CreatedAt})
	}
	return cv, cv.id, nil
}

// blockText is the text of a tool result: a string or a list of blocks.
func blockText(raw json.RawMessage) string {
	if s := str(raw); s != "" {
		return s
	}
	var blocks []struct {
		Text string `json:"text"`
	}
	json.Unmarshal(raw, &blocks)
	var parts []string
	for _, b := range blocks {
		if b.Text != "" {
			parts = append(parts, b.Text)
		}
	}
	return strings.Join(parts, "\n\n")
}

// Open WebUI: {"id", "title", "chat": {"history": {"currentId", "messages": {...}}}}.
type owuiConv struct {
	ID        string          `json:"id"`
	Title     *string         `json:"title"`
	CreatedAt json.RawMessage `json:"created_at"`
	Chat      *struct {
		History *struct {
			CurrentID *string         `json:"currentId"`
			Messages  json.RawMessage `json:"messages"`
		} `json:"history"`
	} `json:"chat"`
}

type owuiMsg struct {
	ParentID    *string   `json:"parentId"`
	ChildrenIDs *[]string `json:"childrenIds"`
	Role        string    `json:"role"`
	Content     string    `json:"content"`
	Model       string    `json:"model"`
}

// Open WebUI writes reasoning and tool calls into the answer as <details>.
var detailsRE = regexp.MustCompile(`(?s)<details type="(reasoning|tool_calls|code_interpreter)"[^>]*>(.*?)</details>\s*`)
var summaryRE = regexp.MustCompile(`(?s)^\s*<summary>.*?</summary>\s*`)

func (s *stage) openWebUI(raw json.RawMessage, c *counts) (*conv, string, *rejection) {
	var o owuiConv
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, "", shapeError("", err)
	}
	id := o.ID
	if o.Chat == nil || o.Chat.History == nil || len(o.Chat.History.Messages) == 0 {
		return nil, id, reject(ReasonNoMapping, "chat.history.messages", "missing")
	}
	keys, vals, err := orderedObject(o.Chat.History.Messages)
	if err != nil {
		return nil, id, reject(ReasonBadShape, "chat.history.messages", "%v", err)
	}
	t := newTree("chat.history.messages")
	if o.Chat.History.CurrentID != nil {
		t.current = *o.Chat.History.CurrentID
	}
	for i, key := range keys {
		var m owuiMsg
		field := "chat.history.messages." + key
		if err := json.Unmarshal(vals[i], &m); err != nil {
			return nil, id, shapeError(field, err)
		}
		tn := linkNode(m.ParentID, m.ChildrenIDs)
		switch m.Role {
		case "user":
			tn.msgs = []*msg{{role: pipeline.RoleHuman, value: m.Content}}
		case "system":
			if !s.o.NoSystem && strings.TrimSpace(m.Content) != "" {
				tn.msgs = []*msg{{role: pipeline.RoleSystem, value: m.Content}}
			}
		case "assistant":
			// Details blocks before the answer become reasoning and
			// observation messages before it.
			var pre []*msg
			answer := detailsRE.ReplaceAllStringFunc(m.Content, func(d string) string {
				sm := detailsRE.FindStringSubmatch(d)
				body := strings.TrimSpace(html.UnescapeString(summaryRE.ReplaceAllString(sm[2], "")))
				if sm[1] == "reasoning" {
					c.reasoning++
					body = strings.TrimSpace(strings.TrimPrefix(body, ">"))
					pre = append(pre, &msg{reasoning: body})
				} else if s.o.Tools == "drop" {
					c.toolsDropped++
				} else if body != "" {
					pre = append(pre, &msg{role: RoleObservation, value: body, name: sm[1]})
				}
				return ""
			})
			tn.msgs = append(pre, &msg{role: pipeline.RoleGPT, value: strings.TrimSpace(answer), model: m.Model})
		default:
			return nil, id, reject(ReasonBadShape, field+".role", "unknown role %q", m.Role)
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
	if o.Title != nil {
		cv.fields = append(cv.fields, stringField("title", *o.Title))
	}
	if len(o.CreatedAt) > 0 && string(o.CreatedAt) != "null" {
		cv.fields = append(cv.fields, pipeline.Field{Key: "create_time", Value: o.CreatedAt})
	}
	return cv, id, nil
}

// Chatbot UI: one element of the export's "history".
type chatbotUIConv struct {
	ID       string          `json:"id"`
	Name     *string         `json:"name"`
	Prompt   string          `json:"prompt"`
	Model    json.RawMessage `json:"model"`
	Messages *[]struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
}

func (s *stage) chatbotUI(raw json.RawMessage, c *counts) (*conv, string, *rejection) {
	var cc chatbotUIConv
	if err := json.Unmarshal(raw, &cc); err != nil {
		return nil, "", shapeError("", err)
	}
	if cc.Messages == nil {
		return nil, cc.ID, reject(ReasonBadShape, "messages", "missing")
	}
	var p path
	if !s.o.NoSystem && strings.TrimSpace(cc.Prompt) != "" {
		p = append(p, &msg{role: pipeline.RoleSystem, value: cc.Prompt})
	}
	for i, m := range *cc.Messages {
		switch m.Role {
		case "user":
			p = append(p, &msg{role: pipeline.RoleHuman, value: m.Content})
		case "assistant":
			p = append(p, &msg{role: pipeline.RoleGPT, value: m.Content})
		case "system":
			if !s.o.NoSystem {
				p = append(p, &msg{role: pipeline.RoleSystem, value: m.Content})
			}
		default:
			return nil, cc.ID, reject(ReasonBadShape, fmt.Sprintf("messages[%d].role", i), "unknown role %q", m.Role)
		}
	}
	cv := &conv{id: cc.ID, paths: []path{p}}
	if cc.Name != nil {
		cv.fields = append(cv.fields, stringField("title", *cc.Name))
	}
	var model struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(cc.Model, &model) == nil && model.ID != "" {
		cv.fields = append(cv.fields, stringField("model", model.ID))
	}
	return cv, cc.ID, nil
}

// instruction converts an Alpaca or Dolly record exactly as FastChat's
// fastchat/data/convert_alpaca.py does:
//
//	if len(c["input"].strip()) > 1:
//	    q, a = c["instruction"] + "\nInput:\n" + c["input"], c["output"]
//	else:
//	    q, a = c["instruction"], c["output"]
//	{"id": f"alpaca_{i}", "conversations": [human q, gpt a]}
//
// Dolly's context and response play input and output; its category is kept.
func (s *stage) instruction(format string, raw json.RawMessage, index int64) (*conv, string, *rejection) {
	var r struct {
		Instruction *string `json:"instruction"`
		Input       *string `json:"input"`
		Output      *string `json:"output"`
		Context     *string `json:"context"`
		Response    *string `json:"response"`
		Category    *string `json:"category"`
	}
	id := fmt.Sprintf("%s_%d", format, index)
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, id, shapeError("", err)
	}
	input, output, inName, outName := r.Input, r.Output, "input", "output"
	if format == FromDolly {
		input, output, inName, outName = r.Context, r.Response, "context", "response"
	}
	switch {
	case r.Instruction == nil:
		return nil, id, reject(ReasonBadShape, "instruction", "missing")
	case output == nil:
		return nil, id, reject(ReasonBadShape, outName, "missing")
	case input == nil:
		return nil, id, reject(ReasonBadShape, inName, "missing")
	}
	q := *r.Instruction
	if utf8.RuneCountInString(pyStrip(*input)) > 1 {
		q += "\nInput:\n" + *input
	}
	rec := pipeline.NewRecord(id, []pipeline.Turn{{From: pipeline.RoleHuman, Value: q}, {From: pipeline.RoleGPT, Value: *output}})
	if r.Category != nil && format == FromDolly {
		rec.SetStringField("category", *r.Category)
	}
	return &conv{id: id, ready: rec}, id, nil
}

// pyStrip is Python's str.strip(): it trims the characters str.isspace
// accepts, which include the separators U+001C..U+001F that Go's
// unicode.IsSpace does not.
func pyStrip(s string) string {
	return strings.TrimFunc(s, isPySpace)
}

func isPySpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r', 0x1c, 0x1d, 0x1e, 0x1f, 0x85, 0xa0, 0x1680,
		0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// A conversation read from a page's DOM.
type domConv struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Site     string `json:"site"`
	Messages []struct {
		Role string `json:"role"`
		Text string `json:"text"`
	} `json:"messages"`
}

func (s *stage) dom(raw json.RawMessage, _ *counts) (*conv, string, *rejection) {
	var d domConv
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, "", shapeError("", err)
	}
	var p path
	for _, m := range d.Messages {
		role := pipeline.RoleGPT
		if m.Role == "user" {
			role = pipeline.RoleHuman
		}
		p = append(p, &msg{role: role, value: m.Text})
	}
	cv := &conv{id: d.ID, paths: []path{p}}
	if d.Title != "" {
		cv.fields = append(cv.fields, stringField("title", d.Title))
	}
	cv.fields = append(cv.fields, stringField("site", d.Site))
	return cv, d.ID, nil
}
