package pipeline

import "encoding/json"

// ShareGPT role names, the values of a turn's "from".
const (
	RoleHuman  = "human"
	RoleGPT    = "gpt"
	RoleSystem = "system"
)

// Field is a JSON member the pipeline does not interpret: its key and its
// value as raw, syntactically valid JSON. Fields keep their input order.
type Field struct {
	Key   string
	Value json.RawMessage
}

// Turn is one message of a conversation.
type Turn struct {
	From  string // "human", "gpt", "system", or any other role as given
	Value string
	// Fields holds the turn's other members ("weight", "name", ...).
	Fields []Field
	// Parts is the turn's text as the input gave it when that was a list
	// of content parts ([{"type": "text", "text": ...}, {"type":
	// "image_url", ...}]), nil when it was a string. Value then holds the
	// text parts' texts joined with PartsSeparator. Writers write Parts
	// as it was while Value is unchanged; after a stage changed Value,
	// one text part with the new Value followed by the other parts.
	Parts json.RawMessage
	// NonText counts the parts of Parts that are not text (images,
	// audio, files).
	NonText int
	// valueFirst records that "value" preceded "from" in the input.
	valueFirst bool
	// partsText is Value as read from Parts.
	partsText string
}

// Record is one conversation. Members other than id and conversations stay
// in Fields, untouched and in order, so a record passes through every stage
// without losing what the stage does not know about.
type Record struct {
	ID            string
	Conversations []Turn

	// Fields holds the other top-level members ("model", "lang", ...).
	Fields []Field

	// Where id and the conversation list stood among the members, so that
	// writers keep the input's member order; -1 when absent.
	idPos, convPos int
}

// NewRecord returns a record with an id and turns, written as
// {"id": ..., "conversations": [...]} followed by any fields set later.
func NewRecord(id string, turns []Turn) *Record {
	return &Record{ID: id, Conversations: turns, idPos: 0, convPos: 1}
}

// NewRecordWithoutID returns a record with no id member, written as
// {"conversations": [...]} followed by any fields set later; --shard
// places it by its content.
func NewRecordWithoutID(turns []Turn) *Record {
	return &Record{Conversations: turns, idPos: -1, convPos: 0}
}

// HasID reports whether the record carries an id member.
func (r *Record) HasID() bool { return r.idPos >= 0 }

// HasConversations reports whether the record carries a conversation list.
// Records without one (plain "text" records, say) pass through convert but
// are rejected by the stages that work on turns.
func (r *Record) HasConversations() bool { return r.convPos >= 0 }

// SetID sets the id, adding the member first if the record had none.
func (r *Record) SetID(id string) {
	r.ID = id
	if r.idPos < 0 {
		r.idPos = 0
		if r.convPos >= 0 {
			r.convPos++
		}
	}
}

// Field returns the raw value of the named top-level field.
func (r *Record) Field(key string) (json.RawMessage, bool) {
	for _, f := range r.Fields {
		if f.Key == key {
			return f.Value, true
		}
	}
	return nil, false
}

// StringField returns the named field if it is a JSON string.
func (r *Record) StringField(key string) (string, bool) {
	raw, ok := r.Field(key)
	if !ok || len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// Model returns the record's "model" field, or "" when absent.
func (r *Record) Model() string {
	s, _ := r.StringField("model")
	return s
}

// SetField sets a top-level field to a raw JSON value, replacing an existing
// one in place or appending it. value must be valid JSON.
func (r *Record) SetField(key string, value json.RawMessage) {
	for i := range r.Fields {
		if r.Fields[i].Key == key {
			r.Fields[i].Value = value
			return
		}
	}
	r.Fields = append(r.Fields, Field{Key: key, Value: value})
}

// SetStringField sets a top-level field to a JSON string.
func (r *Record) SetStringField(key, value string) {
	r.SetField(key, AppendString(nil, value))
}

// DeleteField removes a top-level field; it reports whether it was present.
func (r *Record) DeleteField(key string) bool {
	for i := range r.Fields {
		if r.Fields[i].Key == key {
			r.Fields = append(r.Fields[:i], r.Fields[i+1:]...)
			return true
		}
	}
	return false
}

// Clone returns a copy whose turns and fields can be changed without
// touching r. Raw field values are shared; they are never modified in place.
func (r *Record) Clone() *Record {
	c := *r
	c.Conversations = append([]Turn(nil), r.Conversations...)
	c.Fields = append([]Field(nil), r.Fields...)
	return &c
}

// WithTurns returns a copy of r holding the given turns and id: the shape of
// a segment cut from a longer conversation.
func (r *Record) WithTurns(id string, turns []Turn) *Record {
	c := r.Clone()
	c.Conversations = turns
	c.SetID(id)
	return c
}

// Chars returns the number of bytes of turn text in the record.
func (r *Record) Chars() int {
	n := 0
	for _, t := range r.Conversations {
		n += len(t.Value)
	}
	return n
}
