// Package validate checks conversation data against the record schema
// (schemas/sharegpt.schema.json, JSON Schema 2020-12) and against what a
// schema cannot express: ids unique across all inputs and, optionally,
// turns that alternate human/gpt from a human start.
//
// A [Validator] reads [pipeline.Source]s and reports each [Violation] with
// its file, record index, id and field path. Broken structure that makes
// the rest of a file unreadable is returned as an error instead.
package validate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/sharegpt/sharegpt/pipeline"
	"github.com/sharegpt/sharegpt/schemas"
)

// Kinds of violation.
const (
	KindSchema      = "schema"
	KindInvalidJSON = "invalid-json"
	KindInvalidUTF8 = "invalid-utf8"
	KindTooLarge    = "too-large"
	KindDuplicateID = "duplicate-id"
	KindRoles       = "roles"
)

// Violation is one problem found in one record.
type Violation struct {
	File  string `json:"file"`
	Index int64  `json:"index"`
	Line  int64  `json:"line,omitempty"`
	ID    string `json:"id,omitempty"`
	Path  string `json:"path"` // field path, "" for the record itself
	Kind  string `json:"kind"`
	Msg   string `json:"message"`
}

func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: record %d", v.File, v.Index)
	if v.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", v.Line)
	}
	if v.ID != "" {
		fmt.Fprintf(&b, " id %q", v.ID)
	}
	if v.Path != "" {
		fmt.Fprintf(&b, ": %s", v.Path)
	}
	fmt.Fprintf(&b, ": %s", v.Msg)
	return b.String()
}

// Options configure a Validator.
type Options struct {
	// Schema is a JSON Schema document; nil uses the built-in record schema.
	Schema []byte
	// StrictRoles requires turns to alternate human, gpt, ... from a human
	// turn (one leading system turn is allowed).
	StrictRoles bool
}

// Validator checks records; it remembers ids across sources.
type Validator struct {
	schema  *jsonschema.Schema
	strict  bool
	seed    maphash.Seed
	ids     map[uint64]int64 // id hash → first record number (1-based, over all inputs)
	printer *message.Printer
	records int64
}

// New compiles the schema.
func New(opts Options) (*Validator, error) {
	doc := opts.Schema
	if doc == nil {
		var err error
		if doc, err = fs.ReadFile(schemas.FS, schemas.Record); err != nil {
			return nil, err
		}
	}
	parsed, err := jsonschema.UnmarshalJSON(strings.NewReader(string(doc)))
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("schema.json", parsed); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	sch, err := c.Compile("schema.json")
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return &Validator{
		schema:  sch,
		strict:  opts.StrictRoles,
		seed:    maphash.MakeSeed(),
		ids:     map[uint64]int64{},
		printer: message.NewPrinter(language.English),
	}, nil
}

// Records returns the number of records checked so far.
func (v *Validator) Records() int64 { return v.records }

// Check reads every record of src, calling report for each violation. It
// returns an error when the input cannot be read to its end.
func (v *Validator) Check(ctx context.Context, src pipeline.Source, report func(Violation)) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		el, err := src.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", src.Name(), err)
		}
		v.records++
		for _, viol := range v.record(el) {
			viol.File, viol.Index, viol.Line = src.Name(), el.Index, el.Line
			report(viol)
		}
	}
}

func (v *Validator) record(el pipeline.Element) []Violation {
	if el.Err != nil {
		return []Violation{{Kind: string(el.Err.Reason), Msg: el.Err.Msg}}
	}
	if el.Raw == nil && el.Rec != nil {
		// A typed format (Parquet, Arrow) gives records: check the JSON
		// record the row stands for.
		el.Raw = pipeline.AppendRecord(nil, el.Rec, pipeline.OutShareGPT)
	}
	// The record decoder finds syntax and encoding errors with offsets
	// and field paths; shape errors are left to the schema.
	rec, err := pipeline.DecodeRecord(el.Raw, pipeline.StyleShareGPT)
	var de *pipeline.DecodeError
	if errors.As(err, &de) && de.Reason != pipeline.ReasonBadShape {
		kind := KindInvalidJSON
		if de.Reason == pipeline.ReasonInvalidUTF8 {
			kind = KindInvalidUTF8
		}
		msg := de.Msg
		if kind == KindInvalidJSON {
			msg = fmt.Sprintf("invalid JSON at byte %d: %s", el.Offset+int64(de.Offset), de.Msg)
		}
		return []Violation{{Kind: kind, Path: de.Path, Msg: msg}}
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(string(el.Raw)))
	if err != nil {
		return []Violation{{Kind: KindInvalidJSON, Msg: err.Error()}}
	}
	id := recordID(inst)
	var out []Violation
	if err := v.schema.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return []Violation{{ID: id, Kind: KindSchema, Msg: err.Error()}}
		}
		v.leaves(ve, id, &out)
	}
	if id != "" {
		h := maphash.String(v.seed, id)
		if first, ok := v.ids[h]; ok {
			out = append(out, Violation{ID: id, Path: "id", Kind: KindDuplicateID, Msg: fmt.Sprintf("duplicate id %q (first seen in record %d)", id, first-1)})
		} else {
			v.ids[h] = v.records
		}
	}
	if v.strict && rec != nil {
		out = append(out, roleViolations(rec, id)...)
	}
	return out
}

func recordID(inst any) string {
	m, ok := inst.(map[string]any)
	if !ok {
		return ""
	}
	id, _ := m["id"].(string)
	return id
}

// leaves collects the innermost causes of a validation error: the ones
// that name a concrete field and fault.
func (v *Validator) leaves(e *jsonschema.ValidationError, id string, out *[]Violation) {
	if len(e.Causes) == 0 {
		*out = append(*out, Violation{
			ID:   id,
			Path: fieldPath(e.InstanceLocation),
			Kind: KindSchema,
			Msg:  e.ErrorKind.LocalizedString(v.printer),
		})
		return
	}
	for _, c := range e.Causes {
		v.leaves(c, id, out)
	}
}

// fieldPath turns ["conversations","3","from"] into conversations[3].from.
func fieldPath(loc []string) string {
	var b strings.Builder
	for _, tok := range loc {
		if _, err := strconv.Atoi(tok); err == nil {
			fmt.Fprintf(&b, "[%s]", tok)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

func roleViolations(rec *pipeline.Record, id string) []Violation {
	turns := rec.Conversations
	offset := 0
	if len(turns) > 0 && turns[0].From == pipeline.RoleSystem {
		offset = 1
	}
	for i := offset; i < len(turns); i++ {
		want := pipeline.RoleHuman
		if (i-offset)%2 == 1 {
			want = pipeline.RoleGPT
		}
		if turns[i].From != want {
			return []Violation{{
				ID:   id,
				Path: fmt.Sprintf("conversations[%d].from", i),
				Kind: KindRoles,
				Msg:  fmt.Sprintf("expected %q, got %q: turns must alternate human/gpt from a human turn", want, turns[i].From),
			}}
		}
	}
	return nil
}

// MarshalViolations writes violations as a JSON document for machines.
func MarshalViolations(records int64, viols []Violation, total int64) ([]byte, error) {
	if viols == nil {
		viols = []Violation{}
	}
	return json.MarshalIndent(struct {
		Valid      bool        `json:"valid"`
		Records    int64       `json:"records"`
		Total      int64       `json:"violations_total"`
		Violations []Violation `json:"violations"`
	}{total == 0, records, total, viols}, "", "  ")
}
