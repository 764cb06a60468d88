package columnar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/sharegpt/sharegpt/pipeline"
)

// Column names of the record schema.
const (
	ColID            = "id"
	ColConversations = "conversations"
	ColModel         = "model"
	ColLang          = "lang"
	ColNTokens       = "n_tokens"
	ColAugmentedFrom = "augmented_from"
	ColAugmentation  = "augmentation"
	// ColExtra holds the members without a column of their own, as a JSON
	// object in input order; null when there are none.
	ColExtra = "extra"
	// ColLayout holds, as JSON, what the columns cannot say about a record:
	// member order when it is not id, conversations, the typed columns in
	// schema order, then the extra members; turns whose "value" came before
	// "from"; turn members other than from and value. Null for almost every
	// record.
	ColLayout = "_layout"
)

// schemaKey marks files written with the record schema.
const (
	schemaKey   = "sharegpt"
	schemaValue = `{"schema":"record","version":1}`
)

type fieldKind int

const (
	kindString fieldKind = iota // a JSON string, stored as utf8
	kindInt                     // a JSON integer, stored as int64
	kindJSON                    // any JSON value, stored as its text
)

// typedColumns are the optional fields stages add, in schema order.
var typedColumns = []struct {
	name string
	kind fieldKind
}{
	{ColModel, kindString},
	{ColLang, kindString},
	{ColNTokens, kindInt},
	{ColAugmentedFrom, kindString},
	{ColAugmentation, kindJSON},
}

func typedIndex(key string) int {
	for i, c := range typedColumns {
		if c.name == key {
			return i
		}
	}
	return -1
}

// TurnType is the type of one turn: struct<from: utf8, value: utf8>.
var TurnType = arrow.StructOf(
	arrow.Field{Name: "from", Type: arrow.BinaryTypes.String, Nullable: true},
	arrow.Field{Name: "value", Type: arrow.BinaryTypes.String, Nullable: true},
)

// RecordSchema returns the schema conversation records are written in:
// id, conversations, model, lang, n_tokens (int64), augmented_from,
// augmentation (JSON text), extra (JSON object text), _layout (JSON text),
// every column nullable (null: the record has no such member). Its
// metadata marks it (key "sharegpt") and carries the Hugging Face features
// (key "huggingface").
func RecordSchema() *arrow.Schema {
	return RecordSchemaOf(nil)
}

// RecordColumns returns the names of the record schema's columns, in order.
func RecordColumns() []string {
	names := []string{ColID, ColConversations}
	for _, c := range typedColumns {
		names = append(names, c.name)
	}
	return append(names, ColExtra, ColLayout)
}

// RecordSchemaOf returns the record schema with only the named columns (all
// when names is nil), in schema order; id and conversations are always
// kept. Records that need a column it lacks cannot be appended to it.
func RecordSchemaOf(names []string) *arrow.Schema {
	keep := func(name string) bool {
		if names == nil || name == ColID || name == ColConversations {
			return true
		}
		for _, n := range names {
			if n == name {
				return true
			}
		}
		return false
	}
	var fields []arrow.Field
	for _, name := range RecordColumns() {
		if !keep(name) {
			continue
		}
		var t arrow.DataType = arrow.BinaryTypes.String
		switch {
		case name == ColConversations:
			t = arrow.ListOf(TurnType)
		case name == ColNTokens:
			t = arrow.PrimitiveTypes.Int64
		}
		fields = append(fields, arrow.Field{Name: name, Type: t, Nullable: true})
	}
	plain := arrow.NewSchema(fields, nil)
	md := arrow.NewMetadata([]string{schemaKey, HFMetadataKey}, []string{schemaValue, string(mustHFMetadata(plain))})
	return arrow.NewSchema(fields, &md)
}

func mustHFMetadata(schema *arrow.Schema) []byte {
	b, err := HFSchemaMetadata(schema)
	if err != nil {
		panic(fmt.Sprintf("columnar: features of the record schema: %v", err)) // a bug, not input
	}
	return b
}

// RecordWriter writes conversation records in the record schema to one
// stream; it is the pipeline's FormatWriter for the columnar formats.
type RecordWriter struct {
	enc       Encoder
	err       error
	b         *array.RecordBuilder
	app       *RecordAppender
	rows      int
	batchRows int
	batchMax  int64 // bytes of Arrow data that close a batch
	out       countingWriter
	rawDone   int64 // Arrow bytes of the batches written
}

// NewRecordWriter returns a writer of records to w. Errors in the options
// are returned by the first Write.
func NewRecordWriter(w io.Writer, opts Options) *RecordWriter {
	schema := RecordSchema()
	rw := &RecordWriter{batchRows: opts.batchRows(), batchMax: opts.batchBytes(), out: countingWriter{w: w}}
	rw.b = array.NewRecordBuilder(opts.alloc(), schema)
	rw.app, rw.err = NewRecordAppender(rw.b)
	if rw.err == nil {
		rw.enc, rw.err = NewEncoder(&rw.out, schema, opts)
	}
	return rw
}

// Write appends a record; a batch is written when full.
func (rw *RecordWriter) Write(rec *pipeline.Record) error {
	if rw.err != nil {
		return rw.err
	}
	if err := rw.app.Append(rec); err != nil {
		return err
	}
	rw.rows++
	if rw.rows >= rw.batchRows || recordBuilderBytes(rw.b) >= rw.batchMax {
		return rw.flush()
	}
	return nil
}

// PendingBytes estimates the bytes the records not yet written will take
// in the stream: their Arrow size, times the ratio of bytes written to
// Arrow bytes so far (Parquet compresses).
func (rw *RecordWriter) PendingBytes() int64 {
	return scaled(recordBuilderBytes(rw.b), rw.out.n, rw.rawDone)
}

func (rw *RecordWriter) flush() error {
	if rw.rows == 0 {
		return nil
	}
	rec := rw.b.NewRecord()
	defer rec.Release()
	rw.rows = 0
	rw.rawDone += RecordBytes(rec)
	if err := rw.enc.Write(rec); err != nil {
		rw.err = err
		return err
	}
	return nil
}

// Close writes the last batch and the end of the stream.
func (rw *RecordWriter) Close() error {
	defer rw.b.Release()
	if rw.err != nil {
		return rw.err
	}
	if err := rw.flush(); err != nil {
		return err
	}
	return rw.enc.Close()
}

// RecordAppender appends conversation records to the builders of a record
// schema (RecordSchema or RecordSchemaOf a subset).
type RecordAppender struct {
	// IgnoreOrder drops member order from the _layout column: a dataset
	// for training has no use for it (turn members are still kept).
	IgnoreOrder       bool
	b                 *array.RecordBuilder
	id, extra, layout *array.StringBuilder
	conv              *array.ListBuilder
	turn              *array.StructBuilder
	from, value       *array.StringBuilder
	typed             []array.Builder // nil where the schema lacks the column
	shape             recordShape
	scratch           []byte
}

// NewRecordAppender binds the builders of b, whose schema must be the
// record schema or a subset of its columns.
func NewRecordAppender(b *array.RecordBuilder) (*RecordAppender, error) {
	a := &RecordAppender{b: b, typed: make([]array.Builder, len(typedColumns))}
	for i, f := range b.Schema().Fields() {
		fb := b.Field(i)
		ok := true
		switch f.Name {
		case ColID:
			a.id, ok = fb.(*array.StringBuilder)
		case ColConversations:
			a.conv, ok = fb.(*array.ListBuilder)
			if ok {
				a.turn, ok = a.conv.ValueBuilder().(*array.StructBuilder)
			}
			if ok && a.turn.NumField() == 2 {
				a.from, ok = a.turn.FieldBuilder(0).(*array.StringBuilder)
				if ok {
					a.value, ok = a.turn.FieldBuilder(1).(*array.StringBuilder)
				}
			}
		case ColExtra:
			a.extra, ok = fb.(*array.StringBuilder)
		case ColLayout:
			a.layout, ok = fb.(*array.StringBuilder)
		default:
			ti := typedIndex(f.Name)
			ok = ti >= 0 && (typedColumns[ti].kind == kindInt) == (f.Type.ID() == arrow.INT64)
			if ok {
				a.typed[ti] = fb
			}
		}
		if !ok {
			return nil, fmt.Errorf("columnar: column %s (%s) is not in the record schema", f.Name, f.Type)
		}
	}
	if a.id == nil || a.conv == nil || a.from == nil {
		return nil, errors.New("columnar: a record schema needs the id and conversations columns")
	}
	return a, nil
}

// Append appends one record: one value to every column.
func (a *RecordAppender) Append(rec *pipeline.Record) error {
	sh := &a.shape
	sh.of(rec, &a.scratch, a.IgnoreOrder)
	// Check first, so that a record that does not fit leaves no half row.
	for ti := range typedColumns {
		if sh.typedAt[ti] >= 0 && a.typed[ti] == nil {
			return fmt.Errorf("columnar: record %q needs column %s, which the schema lacks", rec.ID, typedColumns[ti].name)
		}
	}
	if len(sh.extras) > 0 && a.extra == nil {
		return fmt.Errorf("columnar: record %q needs column %s, which the schema lacks", rec.ID, ColExtra)
	}
	if sh.special && a.layout == nil {
		return fmt.Errorf("columnar: record %q needs column %s, which the schema lacks", rec.ID, ColLayout)
	}
	if rec.HasID() {
		a.id.Append(rec.ID)
	} else {
		a.id.AppendNull()
	}
	if rec.HasConversations() {
		a.conv.Append(true)
		for i := range rec.Conversations {
			t := &rec.Conversations[i]
			a.turn.Append(true)
			a.from.Append(t.From)
			a.value.Append(t.Value)
		}
	} else {
		a.conv.AppendNull()
	}
	for ti, c := range typedColumns {
		if a.typed[ti] == nil {
			continue
		}
		fi := sh.typedAt[ti]
		if fi < 0 {
			a.typed[ti].AppendNull()
			continue
		}
		raw := rec.Fields[fi].Value
		switch c.kind {
		case kindString:
			s, _ := rec.StringField(c.name)
			a.typed[ti].(*array.StringBuilder).Append(s)
		case kindInt:
			n, _ := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
			a.typed[ti].(*array.Int64Builder).Append(n)
		case kindJSON:
			a.typed[ti].(*array.StringBuilder).Append(string(compactJSON(a.scratch[:0], raw)))
		}
	}
	if a.extra != nil {
		if len(sh.extras) == 0 {
			a.extra.AppendNull()
		} else {
			b := append(a.scratch[:0], '{')
			for i, fi := range sh.extras {
				if i > 0 {
					b = append(b, ',')
				}
				f := rec.Fields[fi]
				b = pipeline.AppendString(b, f.Key)
				b = append(b, ':')
				b = compactJSON(b, f.Value)
			}
			b = append(b, '}')
			a.extra.Append(string(b))
			a.scratch = b[:0]
		}
	}
	if a.layout != nil {
		if !sh.special {
			a.layout.AppendNull()
		} else {
			a.layout.Append(string(sh.lay.appendJSON(a.scratch[:0], rec, !sh.canonical)))
		}
	}
	return nil
}

// recordShape is how a record maps onto the columns.
type recordShape struct {
	lay       layoutInfo
	typedAt   []int // per typed column: the index in rec.Fields, or -1
	extras    []int // indexes in rec.Fields of members without a column
	canonical bool  // members in the order the columns give back
	special   bool  // the record needs the _layout column
}

func (sh *recordShape) of(rec *pipeline.Record, scratch *[]byte, ignoreOrder bool) {
	sh.lay = scanLayout(rec, scratch)
	if sh.typedAt == nil {
		sh.typedAt = make([]int, len(typedColumns))
	}
	for i := range sh.typedAt {
		sh.typedAt[i] = -1
	}
	sh.extras = sh.extras[:0]
	sh.canonical = sh.lay.canonicalPositions(rec)
	lastTyped := -1
	for fi, f := range rec.Fields {
		ti := typedIndex(f.Key)
		if ti >= 0 && representable(typedColumns[ti].kind, f.Value) {
			sh.typedAt[ti] = fi
			if ti < lastTyped || len(sh.extras) > 0 {
				sh.canonical = false // typed members out of schema order, or after an extra one
			}
			lastTyped = ti
			continue
		}
		sh.extras = append(sh.extras, fi)
	}
	if ignoreOrder {
		sh.canonical = true
	}
	sh.special = !sh.canonical || sh.lay.turnsSpecial(rec)
}

// ColumnUse records which columns of the record schema a set of records
// needs, so that a dataset can be written without columns that would be
// null in every row.
type ColumnUse struct {
	// IgnoreOrder: as RecordAppender.IgnoreOrder.
	IgnoreOrder bool
	used        map[string]bool
	shape       recordShape
	scratch     []byte
}

// Add notes the columns rec needs.
func (u *ColumnUse) Add(rec *pipeline.Record) {
	if u.used == nil {
		u.used = map[string]bool{}
	}
	sh := &u.shape
	sh.of(rec, &u.scratch, u.IgnoreOrder)
	for ti, fi := range sh.typedAt {
		if fi >= 0 {
			u.used[typedColumns[ti].name] = true
		}
	}
	if len(sh.extras) > 0 {
		u.used[ColExtra] = true
	}
	if sh.special {
		u.used[ColLayout] = true
	}
}

// Columns returns the columns needed, in schema order (id and
// conversations always).
func (u *ColumnUse) Columns() []string {
	var names []string
	for _, n := range RecordColumns() {
		if n == ColID || n == ColConversations || u.used[n] {
			names = append(names, n)
		}
	}
	return names
}

// representable reports whether a member's raw JSON value fits its typed
// column exactly, so that it is written back byte for byte.
func representable(kind fieldKind, raw json.RawMessage) bool {
	switch kind {
	case kindString:
		return len(raw) > 0 && raw[0] == '"'
	case kindInt:
		s := string(bytes.TrimSpace(raw))
		if s == "" || s == "-0" {
			return false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return err == nil && strconv.FormatInt(n, 10) == s
	}
	return true
}

// compactJSON appends a valid raw JSON value without insignificant space.
func compactJSON(dst []byte, raw []byte) []byte {
	if !bytes.ContainsAny(raw, " \t\r\n") {
		return append(dst, raw...)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return append(dst, raw...)
	}
	return append(dst, buf.Bytes()...)
}

// layoutInfo is what a Record keeps about its shape beyond its values.
type layoutInfo struct {
	idPos, convPos int    // member positions, -1 when absent
	valueFirst     []bool // per turn; nil when no turn has value first
}

// scanLayout finds where id and conversations stand among the record's
// members and which turns had "value" before "from". The pipeline keeps
// these for its writers; they are read back here from a cheap encoding of
// a stripped copy of the record (no text, no values).
func scanLayout(rec *pipeline.Record, scratch *[]byte) layoutInfo {
	lay := layoutInfo{idPos: -1, convPos: -1}
	c := *rec // copies the member positions the pipeline keeps
	c.ID = ""
	fields := make([]pipeline.Field, len(rec.Fields))
	for i := range fields {
		fields[i] = pipeline.Field{Value: json.RawMessage("0")}
	}
	c.Fields = fields
	turns := make([]pipeline.Turn, len(rec.Conversations))
	for i := range rec.Conversations {
		t := rec.Conversations[i] // copies the turn's member order
		t.From, t.Value, t.Fields, t.Parts = "", "", nil, nil
		turns[i] = t
	}
	c.Conversations = turns
	b := pipeline.AppendRecord((*scratch)[:0], &c, pipeline.OutShareGPT)
	*scratch = b
	// b is {"K":V,...} with keys "", "id" or "conversations" and values
	// "" (id), 0 (a field) or [...] (turns of {"from":"","value":""}).
	pos := 0
	for i := 1; i < len(b); i++ {
		if b[i] != ':' {
			continue
		}
		switch b[i+1] {
		case '"':
			lay.idPos = pos
		case '[':
			lay.convPos = pos
			turn := 0
			for j := i + 2; j < len(b) && b[j] != ']'; j++ {
				if b[j] != '{' {
					continue
				}
				if bytes.HasPrefix(b[j+1:], []byte(`"value"`)) {
					if lay.valueFirst == nil {
						lay.valueFirst = make([]bool, len(rec.Conversations))
					}
					lay.valueFirst[turn] = true
				}
				turn++
			}
			// skip past the turns
			for i < len(b) && b[i] != ']' {
				i++
			}
		}
		pos++
	}
	return lay
}

// canonicalPositions reports whether id and conversations come first, in
// that order (each when present).
func (l layoutInfo) canonicalPositions(rec *pipeline.Record) bool {
	want := 0
	if rec.HasID() {
		if l.idPos != 0 {
			return false
		}
		want = 1
	}
	return !rec.HasConversations() || l.convPos == want
}

// turnsSpecial reports whether some turn needs the layout column.
func (l layoutInfo) turnsSpecial(rec *pipeline.Record) bool {
	if l.valueFirst != nil {
		return true
	}
	for i := range rec.Conversations {
		if len(rec.Conversations[i].Fields) > 0 || rec.Conversations[i].Parts != nil {
			return true
		}
	}
	return false
}

// layoutJSON is the _layout column's content.
type layoutJSON struct {
	IDPos   *int         `json:"id_pos,omitempty"`
	ConvPos *int         `json:"conversations_pos,omitempty"`
	Fields  []string     `json:"fields,omitempty"`
	Turns   []turnLayout `json:"turns,omitempty"`
}

type turnLayout struct {
	Index      int             `json:"index"`
	ValueFirst bool            `json:"value_first,omitempty"`
	Fields     json.RawMessage `json:"fields,omitempty"` // an object
	// Value is the turn's value when it is a list of content parts (the
	// value column holds their text, for other readers).
	Value json.RawMessage `json:"value,omitempty"`
}

func (l layoutInfo) appendJSON(dst []byte, rec *pipeline.Record, order bool) []byte {
	var lj layoutJSON
	if order {
		if rec.HasID() {
			p := l.idPos
			lj.IDPos = &p
		}
		if rec.HasConversations() {
			p := l.convPos
			lj.ConvPos = &p
		}
		lj.Fields = make([]string, len(rec.Fields))
		for i, f := range rec.Fields {
			lj.Fields[i] = f.Key
		}
	}
	for i := range rec.Conversations {
		t := &rec.Conversations[i]
		vf := l.valueFirst != nil && l.valueFirst[i]
		if !vf && len(t.Fields) == 0 && t.Parts == nil {
			continue
		}
		tl := turnLayout{Index: i, ValueFirst: vf}
		if t.Parts != nil {
			tl.Value = pipeline.AppendTurnValue(nil, t)
		}
		if len(t.Fields) > 0 {
			b := []byte{'{'}
			for j, f := range t.Fields {
				if j > 0 {
					b = append(b, ',')
				}
				b = pipeline.AppendString(b, f.Key)
				b = append(b, ':')
				b = compactJSON(b, f.Value)
			}
			tl.Fields = append(b, '}')
		}
		lj.Turns = append(lj.Turns, tl)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(lj); err != nil {
		panic(fmt.Sprintf("columnar: encode layout: %v", err)) // plain data: cannot fail
	}
	return append(dst, bytes.TrimSpace(buf.Bytes())...)
}
