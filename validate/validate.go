// Package validate checks conversation data against the record schema
// (schemas/sharegpt.schema.json, JSON Schema 2020-12) and against what a
// schema cannot express: ids unique across all inputs and, optionally,
// turns that alternate human/gpt from a human start.
//
// Records are read exactly as every other command reads them, through the
// same readers and [pipeline.DecodeRecord]: a record any command rejects
// (not JSON, not UTF-8, a wrong shape such as a repeated member, too large)
// is a violation whose kind is that command's reject reason.
//
// A [Validator] reads [pipeline.Source]s and reports each [Violation] with
// its file, record index, id and field path. Broken structure that makes
// the rest of a file unreadable is returned as an error instead.
package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/sharegpt/sharegpt/pipeline"
	"github.com/sharegpt/sharegpt/schemas"
)

// Kinds of violation. A record that cannot be read has the reason every
// other command rejects it with as its kind.
const (
	KindSchema      = "schema"
	KindInvalidJSON = string(pipeline.ReasonInvalidJSON)
	KindInvalidUTF8 = string(pipeline.ReasonInvalidUTF8)
	KindBadShape    = string(pipeline.ReasonBadShape)
	KindTooLarge    = string(pipeline.ReasonTooLarge)
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
	// Style is the record style, as for every other command (--input-style);
	// the zero value is auto.
	Style pipeline.InputStyle
}

// Validator checks records; it remembers ids across sources.
type Validator struct {
	schema  *jsonschema.Schema
	strict  bool
	style   pipeline.InputStyle
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
		style:   opts.Style,
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
		v.report(src.Name(), el, v.inspect(el), report)
	}
}

// finding is what inspect found in one record, before the ids are
// compared across records.
type finding struct {
	viols, roles []Violation
	id           string
}

// report counts the record, adds a duplicate-id violation and reports
// them all, in input order (it must see the records in order).
func (v *Validator) report(file string, el pipeline.Element, f finding, report func(Violation)) {
	v.records++
	out := f.viols
	if f.id != "" {
		h := maphash.String(v.seed, f.id)
		if first, ok := v.ids[h]; ok {
			out = append(out, Violation{ID: f.id, Path: "id", Kind: KindDuplicateID, Msg: fmt.Sprintf("duplicate id %q (first seen in record %d)", f.id, first-1)})
		} else {
			v.ids[h] = v.records
		}
	}
	out = append(out, f.roles...)
	for _, viol := range out {
		viol.File, viol.Index, viol.Line = file, el.Index, el.Line
		report(viol)
	}
}

// inspect checks one record on its own. It is safe for concurrent use.
func (v *Validator) inspect(el pipeline.Element) finding {
	if el.Err != nil {
		return finding{viols: []Violation{{ID: el.Err.ID, Path: el.Err.Path, Kind: string(el.Err.Reason), Msg: el.Err.Msg}}}
	}
	raw, style := el.Raw, v.style
	if raw == nil && el.Rec != nil {
		// A typed format (Parquet, Arrow) gives records, read in the
		// style asked for: check the JSON record the row stands for.
		raw, style = pipeline.AppendRecord(nil, el.Rec, pipeline.OutShareGPT), pipeline.StyleShareGPT
	}
	rec, err := pipeline.DecodeRecord(raw, style)
	var de *pipeline.DecodeError
	if err != nil {
		if !errors.As(err, &de) {
			de = &pipeline.DecodeError{Reason: pipeline.ReasonInvalidJSON, Msg: err.Error()}
		}
		if de.Reason != pipeline.ReasonBadShape {
			msg := de.Msg
			if de.Reason == pipeline.ReasonInvalidJSON {
				msg = fmt.Sprintf("invalid JSON at byte %d: %s", el.Offset+int64(de.Offset), de.Msg)
			}
			return finding{viols: []Violation{{Kind: string(de.Reason), Path: de.Path, Msg: msg}}}
		}
	}
	var id string
	var roles []Violation
	switch {
	case rec != nil:
		id = rec.ID
		if v.strict {
			roles = roleViolations(rec, id)
		}
	case de != nil:
		id = de.ID
	}
	out, root, serr := v.schemaViolations(raw)
	if id == "" {
		if m, ok := root.(map[string]any); ok {
			id, _ = m["id"].(string)
		}
	}
	for i := range out {
		out[i].ID = id
	}
	switch {
	case de != nil && (serr != nil || !schemaSays(out, de)):
		out = append([]Violation{{ID: id, Kind: KindBadShape, Path: de.Path, Msg: de.Msg}}, out...)
	case serr != nil: // not expected: the record was read whole
		out = append(out, Violation{ID: id, Kind: KindSchema, Msg: "cannot check the record: " + serr.Error()})
	}
	return finding{viols: out, roles: roles, id: id}
}

// schemaSays reports whether the schema found the fault the decoder
// rejected a record for: a value of the wrong kind or a missing member at
// the same place, in its own words. Other faults (a member given twice, two
// conversation lists) are beyond what a schema sees.
func schemaSays(viols []Violation, de *pipeline.DecodeError) bool {
	if !strings.HasPrefix(de.Msg, "expected ") && !strings.HasPrefix(de.Msg, "missing ") {
		return false
	}
	return slices.ContainsFunc(viols, func(v Violation) bool { return v.Path == de.Path })
}

// schemaViolations checks the record raw against the schema. It returns
// the violations, in field path order, and the value the schema saw for
// the record; an error when raw is not JSON after all (a record with the
// wrong shape is decoded only up to its first fault).
func (v *Validator) schemaViolations(raw []byte) ([]Violation, any, error) {
	var out []Violation
	root, err := v.check(v.schema, raw, nil, &out)
	slices.SortStableFunc(out, func(a, b Violation) int { return strings.Compare(a.Path, b.Path) })
	return out, root, err
}

// check validates the JSON value raw, at loc in the record, against sch,
// adding violations to out, and returns the instance it built for raw.
// Arrays whose elements the schema checks one by one are checked after the
// value that holds them (see instance and checkArray).
func (v *Validator) check(sch *jsonschema.Schema, raw []byte, loc []string, out *[]Violation) (any, error) {
	var later []deferred
	inst, err := instance(raw, []*jsonschema.Schema{sch}, nil, &later)
	if err != nil {
		return nil, err
	}
	v.validate(sch, inst, loc, 0, out)
	for _, d := range later {
		if err := v.checkArray(d, loc, out); err != nil {
			return nil, err
		}
	}
	return inst, nil
}

// deferred is an array whose schemas check each element alone (items), so
// that it can be checked a slice of elements at a time: the instance of a
// conversation of a million turns is never built whole.
type deferred struct {
	loc   []string // within the value it was found in
	raw   []byte
	heads []*jsonschema.Schema // the schemas that apply to the array
	items []*jsonschema.Schema // those that apply to each element
}

// Elements of a deferred array are checked in slices of at most this many
// elements and bytes.
const (
	sliceElements = 1024
	sliceBytes    = 1 << 20
)

// checkArray checks the elements of d, found in the value at loc.
func (v *Validator) checkArray(d deferred, loc []string, out *[]Violation) error {
	loc = append(slices.Clip(loc), d.loc...)
	var elems []any
	var later []deferred // arrays inside the elements, at [index, ...]
	base, size := 0, 0
	flush := func() error {
		for _, h := range d.heads {
			v.validate(h, elems, loc, base, out)
		}
		for _, n := range later {
			if err := v.checkArray(n, loc, out); err != nil {
				return err
			}
		}
		base += len(elems)
		elems, later, size = elems[:0], later[:0], 0
		return nil
	}
	err := pipeline.ArrayElements(d.raw, func(elem []byte) error {
		x, err := instance(elem, d.items, []string{strconv.Itoa(base + len(elems))}, &later)
		if err != nil {
			return err
		}
		elems, size = append(elems, x), size+len(elem)
		if len(elems) >= sliceElements || size >= sliceBytes {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// validate validates inst, the value at loc, against sch and adds the
// violations to out. inst may be a slice of an array, starting at element
// base.
func (v *Validator) validate(sch *jsonschema.Schema, inst any, loc []string, base int, out *[]Violation) {
	err := sch.Validate(inst)
	if err == nil {
		return
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		*out = append(*out, Violation{Path: fieldPath(loc), Kind: KindSchema, Msg: err.Error()})
		return
	}
	v.leaves(ve, loc, base, out)
}

// instance builds the value the schema validator sees for raw, which the
// schemas heads check. It builds only what they can look at, so that
// checking a record costs about its size even when a member nobody
// constrains nests deep or holds a million small values, which as maps and
// slices would take tens of times their size:
//   - a member no keyword can see is left out (a record's "meta", say, when
//     the schema neither lists it nor constrains other members);
//   - an object or array whose schemas look at its type only is an empty
//     one, a string the empty string;
//   - an array whose schemas only check each element (items) is empty
//     here, and is added to later to be checked a slice at a time;
//   - what any other keyword (enum, anyOf, unevaluatedProperties, ...)
//     looks at is built whole, as the validator's own reader would.
func instance(raw []byte, heads []*jsonschema.Schema, loc []string, later *[]deferred) (any, error) {
	schemas := expand(heads)
	switch raw[0] {
	case '{':
		if typeOnly(schemas, objectKeywords) {
			return map[string]any{}, nil
		}
		if !simple(schemas, objectKeywords, simpleObjectKeywords) {
			return whole(raw)
		}
		m := map[string]any{}
		err := pipeline.ObjectMembers(raw, func(key string, value []byte) error {
			sub, visible := memberSchemas(schemas, key)
			if !visible {
				return nil
			}
			x, err := instance(value, sub, append(slices.Clip(loc), key), later)
			m[key] = x
			return err
		})
		return m, err
	case '[':
		if typeOnly(schemas, arrayKeywords) {
			return []any{}, nil
		}
		if !simple(schemas, arrayKeywords, simpleArrayKeywords) {
			return whole(raw)
		}
		var items []*jsonschema.Schema
		for _, s := range schemas {
			if s.Items2020 != nil {
				items = append(items, s.Items2020)
			}
			if it, ok := s.Items.(*jsonschema.Schema); ok {
				items = append(items, it)
			}
		}
		if len(items) > 0 {
			*later = append(*later, deferred{loc: slices.Clone(loc), raw: raw, heads: heads, items: items})
		}
		return []any{}, nil
	case '"':
		if typeOnly(schemas, stringKeywords) {
			return "", nil
		}
		return pipeline.UnquoteString(raw)
	case 't':
		return true, nil
	case 'f':
		return false, nil
	case 'n':
		return nil, nil
	}
	return number(json.Number(raw)), nil
}

// whole decodes raw as the schema validator's own reader does.
func whole(raw []byte) (any, error) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	return shortNumbers(v), err
}

// maxExactNumber is the length of the longest number the schema validator
// is given as it is written. The validator reads numbers as exact
// fractions, in time that grows with the square of their length (minutes
// for a number of a few million digits); a longer number is checked as the
// nearest float64 (±math.MaxFloat64 beyond), which keeps its sign and,
// but for the last digits, its value.
const maxExactNumber = 1000

func number(n json.Number) json.Number {
	if len(n) <= maxExactNumber {
		return n
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil && math.IsInf(f, 0) {
		f = math.Copysign(math.MaxFloat64, f)
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
}

// shortNumbers applies number to the numbers in v, a value decoded whole.
func shortNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		return number(v)
	case map[string]any:
		for k, x := range v {
			v[k] = shortNumbers(x)
		}
	case []any:
		for i, x := range v {
			v[i] = shortNumbers(x)
		}
	}
	return v
}

// expand returns the schemas heads and those they refer to with $ref,
// which apply to the same value.
func expand(heads []*jsonschema.Schema) []*jsonschema.Schema {
	out := slices.Clip(heads)
	for _, s := range heads {
		for s.Ref != nil && !slices.Contains(out, s.Ref) {
			s = s.Ref
			out = append(out, s)
		}
	}
	return out
}

// Which keywords look at what. A keyword of one JSON type ignores values
// of the others.
type keywords func(s *jsonschema.Schema) bool

// anyTypeKeywords are the keywords that look at a value of any type.
func anyTypeKeywords(s *jsonschema.Schema) bool {
	return s.Enum != nil || s.Const != nil || s.Not != nil || len(s.AllOf) > 0 || len(s.AnyOf) > 0 ||
		len(s.OneOf) > 0 || s.If != nil || s.Then != nil || s.Else != nil || s.Format != nil ||
		s.RecursiveRef != nil || s.DynamicRef != nil || len(s.Extensions) > 0
}

func objectKeywords(s *jsonschema.Schema) bool {
	return s.MaxProperties != nil || s.MinProperties != nil || len(s.Required) > 0 || s.PropertyNames != nil ||
		len(s.Properties) > 0 || len(s.PatternProperties) > 0 || s.AdditionalProperties != nil ||
		len(s.Dependencies) > 0 || len(s.DependentRequired) > 0 || len(s.DependentSchemas) > 0 ||
		s.UnevaluatedProperties != nil
}

// simpleObjectKeywords are the object keywords that instance follows:
// those that look at member names, or at each member's value alone.
func simpleObjectKeywords(s *jsonschema.Schema) bool {
	for _, dep := range s.Dependencies {
		if _, ok := dep.([]string); !ok {
			return false
		}
	}
	return len(s.DependentSchemas) == 0 && s.UnevaluatedProperties == nil
}

func arrayKeywords(s *jsonschema.Schema) bool {
	return s.MinItems != nil || s.MaxItems != nil || s.UniqueItems || s.Contains != nil ||
		s.MinContains != nil || s.MaxContains != nil || s.Items != nil || s.AdditionalItems != nil ||
		len(s.PrefixItems) > 0 || s.Items2020 != nil || s.UnevaluatedItems != nil
}

// simpleArrayKeywords: items alone, one schema for every element.
func simpleArrayKeywords(s *jsonschema.Schema) bool {
	_, one := s.Items.(*jsonschema.Schema)
	return (s.Items == nil || one) && s.MinItems == nil && s.MaxItems == nil && !s.UniqueItems &&
		s.Contains == nil && s.MinContains == nil && s.MaxContains == nil && s.AdditionalItems == nil &&
		len(s.PrefixItems) == 0 && s.UnevaluatedItems == nil
}

func stringKeywords(s *jsonschema.Schema) bool {
	return s.MinLength != nil || s.MaxLength != nil || s.Pattern != nil || s.ContentEncoding != nil ||
		s.ContentMediaType != nil || s.ContentSchema != nil
}

// typeOnly reports whether the schemas look at no more than the type of a
// value whose type has the given keywords. Boolean schemas look at nothing.
func typeOnly(schemas []*jsonschema.Schema, kind keywords) bool {
	for _, s := range schemas {
		if s.Bool == nil && (anyTypeKeywords(s) || kind(s)) {
			return false
		}
	}
	return true
}

// simple reports whether instance can follow the schemas into a value
// whose type has the given keywords: no keyword of any type, and only
// the type's keywords that ok accepts.
func simple(schemas []*jsonschema.Schema, kind, ok keywords) bool {
	for _, s := range schemas {
		if s.Bool == nil && (anyTypeKeywords(s) || kind(s) && !ok(s)) {
			return false
		}
	}
	return true
}

// memberSchemas returns the schemas that apply to the value of the member
// key of an object the (simple) schemas check (not expanded), and whether
// any keyword sees the member at all.
func memberSchemas(schemas []*jsonschema.Schema, key string) ([]*jsonschema.Schema, bool) {
	var sub []*jsonschema.Schema
	visible := false
	for _, s := range schemas {
		if s.Bool != nil {
			continue
		}
		matched := false
		if ps, ok := s.Properties[key]; ok {
			sub, matched = append(sub, ps), true
		}
		for re, ps := range s.PatternProperties {
			if re.MatchString(key) {
				sub, matched = append(sub, ps), true
			}
		}
		switch ap := s.AdditionalProperties.(type) {
		case *jsonschema.Schema:
			if !matched {
				sub = append(sub, ap)
			}
		case bool:
			visible = true
		}
		if s.MinProperties != nil || s.MaxProperties != nil || s.PropertyNames != nil ||
			slices.Contains(s.Required, key) {
			visible = true
		}
		for k, deps := range s.DependentRequired {
			if k == key || slices.Contains(deps, key) {
				visible = true
			}
		}
		for k, dep := range s.Dependencies {
			if deps, _ := dep.([]string); k == key || slices.Contains(deps, key) {
				visible = true
			}
		}
	}
	return sub, visible || len(sub) > 0
}

// leaves collects the innermost causes of a validation error of the value
// at loc (a slice of an array from element base): the ones that name a
// concrete field and fault.
func (v *Validator) leaves(e *jsonschema.ValidationError, loc []string, base int, out *[]Violation) {
	if len(e.Causes) == 0 {
		at := e.InstanceLocation
		if base > 0 && len(at) > 0 {
			i, _ := strconv.Atoi(at[0])
			at = append([]string{strconv.Itoa(base + i)}, at[1:]...)
		}
		*out = append(*out, Violation{
			Path: fieldPath(append(slices.Clip(loc), at...)),
			Kind: KindSchema,
			Msg:  e.ErrorKind.LocalizedString(v.printer),
		})
		return
	}
	for _, c := range e.Causes {
		v.leaves(c, loc, base, out)
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
