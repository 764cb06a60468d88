package tokenize

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/sharegpt/sharegpt/internal/chat"
	"github.com/sharegpt/sharegpt/pipeline"
)

// Roles of LLaMA-Factory's ShareGPT format beyond human, gpt and system.
const (
	// RoleFunctionCall is an assistant turn that calls a function; its
	// value is {"name", "arguments"} (or a list of them) as JSON.
	RoleFunctionCall = "function_call"
	// RoleObservation is a function's result, a tool message.
	RoleObservation = "observation"
)

// Conversation maps a record to the messages of a model's own (Jinja) chat
// template, as LLaMA-Factory reads its ShareGPT format: human (or user) is
// a user message, gpt (or assistant) an assistant message, system a system
// message (a leading one, or else the record's "system" field, or else
// Options.System, is the conversation's system message), function_call an assistant
// message with tool calls and no content, observation (or tool) a tool
// message; the record's "tools" field (a JSON array, or a string holding
// one) is offered to the template. As in Messages, a gpt turn that opens
// the conversation is dropped unless StrictRoles, empty turns (but
// function_call's content) are rejected and a conversation needs a reply.
// Whether the order of the roles suits the model is the template's to say
// (Gemma's raises an exception, a ReasonTemplate reject).
func (s *Stage) Conversation(rec *pipeline.Record) (c *chat.Conversation, dropped bool, rerr *RejectError) {
	turns := rec.Conversations
	c = &chat.Conversation{}
	if s.opts.System != nil {
		c.System = *s.opts.System
	}
	if sys, ok := rec.StringField("system"); ok {
		c.System = sys
	}
	first := 0
	if len(turns) > 0 && turns[0].From == pipeline.RoleSystem {
		c.System = turns[0].Value
		first = 1
	}
	if raw, ok := rec.Field("tools"); ok {
		tools, err := toolsJSON(raw)
		if err != nil {
			return nil, false, reject(ReasonBadToolCall, "tools: %v", err)
		}
		c.Tools = tools
	}
	if !s.opts.StrictRoles && first < len(turns) && isAssistant(turns[first].From) {
		first++
		dropped = true
	}
	c.Messages = make([]chat.Message, 0, len(turns)-first)
	replies := 0
	for i := first; i < len(turns); i++ {
		t := turns[i]
		m := chat.Message{Content: t.Value}
		switch t.From {
		case pipeline.RoleHuman, "user":
			m.Role = chat.User
		case pipeline.RoleGPT, "assistant":
			m.Role = chat.Assistant
		case pipeline.RoleSystem:
			m.Role = chat.System
		case RoleObservation, "tool":
			m.Role = chat.Tool
		case RoleFunctionCall:
			calls, err := toolCalls(t.Value)
			if err != nil {
				return nil, false, reject(ReasonBadToolCall, "turn %d (%s): %v", i, t.From, err)
			}
			m = chat.Message{Role: chat.Assistant, ToolCalls: calls}
		default:
			return nil, false, reject(ReasonInvalidRoles, "turn %d: from %q; known roles are human, gpt, system, function_call and observation", i, t.From)
		}
		if t.Value == "" {
			return nil, false, reject(ReasonEmptyTurn, "turn %d (%s) is empty", i, t.From)
		}
		if m.Role == chat.Assistant {
			replies++
		}
		c.Messages = append(c.Messages, m)
	}
	if replies == 0 {
		return nil, false, reject(ReasonNoReply, "%d turn(s), no gpt or function_call turn", len(turns))
	}
	return c, dropped, nil
}

// toolsJSON returns a record's tools as a JSON array: the field holds the
// array, or a string holding it (LLaMA-Factory's files do that).
func toolsJSON(raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		raw = bytes.TrimSpace([]byte(s))
		if len(raw) == 0 {
			return nil, nil
		}
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errors.New("not a JSON array of tool definitions")
	}
	if len(list) == 0 {
		return nil, nil
	}
	return raw, nil
}

// toolCalls parses a function_call turn's value: {"name", "arguments"} or
// a list of them; arguments is an object (kept as written) or a string.
func toolCalls(value string) ([]chat.ToolCall, error) {
	type call struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	}
	v := bytes.TrimSpace([]byte(value))
	var calls []call
	if len(v) > 0 && v[0] == '[' {
		if err := json.Unmarshal(v, &calls); err != nil {
			return nil, err
		}
	} else {
		var c call
		if err := json.Unmarshal(v, &c); err != nil {
			return nil, errors.New(`not a JSON {"name", "arguments"} object`)
		}
		calls = []call{c}
	}
	if len(calls) == 0 {
		return nil, errors.New("no call")
	}
	out := make([]chat.ToolCall, len(calls))
	for i, c := range calls {
		if c.Name == "" {
			return nil, errors.New(`a call without a "name"`)
		}
		out[i] = chat.ToolCall{Name: c.Name, Arguments: c.Arguments}
	}
	return out, nil
}

// EncodeRecord is Encode for a model's own chat template: the record's
// turns and its "system" and "tools" fields become the template's
// conversation (Conversation), rendered, tokenized and cut to MaxLength.
// With a named template it is Encode of the record's turns.
func (s *Stage) EncodeRecord(rec *pipeline.Record) (Example, *RejectError) {
	if !s.tmpl.IsJinja() {
		return s.Encode(rec.Conversations)
	}
	c, dropped, rerr := s.Conversation(rec)
	if rerr != nil {
		return Example{}, rerr
	}
	r, err := s.tmpl.RenderConversation(c)
	if err != nil {
		return Example{}, reject(ReasonTemplate, "%v", err)
	}
	return s.encodeRendered(&r, dropped)
}
