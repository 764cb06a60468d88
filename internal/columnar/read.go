package columnar

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"github.com/sharegpt/sharegpt/pipeline"
)

// batchReader yields record batches; io.EOF after the last. Its errors
// are *readError; where says what it was reading, for errors found outside
// it (a panic, a damaged batch).
type batchReader interface {
	schema() *arrow.Schema
	next() (arrow.Record, error) // the record is released by the caller
	close() error
	format() string
	where() string
}

// OpenParquet returns a source of the records in a Parquet file.
func OpenParquet(f *os.File, name string, opts pipeline.ReadOptions) (pipeline.Source, error) {
	mem := newCappedAllocator(allocLimit(opts, fileSize(f)))
	br, err := newParquetBatches(f, mem)
	if err != nil {
		return nil, err
	}
	return newTableSource(br, name, opts)
}

// OpenArrow returns a source of the records in an Arrow IPC file or stream
// (told apart by the magic bytes).
func OpenArrow(f *os.File, name string, opts pipeline.ReadOptions) (pipeline.Source, error) {
	var head [8]byte
	n, _ := io.ReadFull(f, head[:])
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	size := fileSize(f)
	mem := newCappedAllocator(allocLimit(opts, size))
	if format, ok := Sniff(head[:n]); ok && format == ArrowStream {
		return newArrowStreamSource(f, size, name, opts, mem)
	}
	br, err := newIPCFileBatches(f, mem)
	if err != nil {
		return nil, err
	}
	return newTableSource(br, name, opts)
}

// NewArrowStreamSource returns a source of the records in an Arrow IPC
// stream.
func NewArrowStreamSource(r io.Reader, name string, opts pipeline.ReadOptions) (pipeline.Source, error) {
	var size int64 // what is left of a file, else unknown (0)
	if f, ok := r.(*os.File); ok {
		if pos, err := f.Seek(0, io.SeekCurrent); err == nil && fileSize(f) > pos {
			size = fileSize(f) - pos
		}
	}
	return newArrowStreamSource(r, size, name, opts, newCappedAllocator(allocLimit(opts, size)))
}

func newArrowStreamSource(r io.Reader, size int64, name string, opts pipeline.ReadOptions, mem *cappedAllocator) (pipeline.Source, error) {
	br, err := newIPCStreamBatches(r, size, mem)
	if err != nil {
		return nil, err
	}
	return newTableSource(br, name, opts)
}

// fileSize returns the size of a regular file, else 0.
func fileSize(f *os.File) int64 {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return 0
	}
	return st.Size()
}

// tableSource turns rows into pipeline elements. Rows of the record
// schema become records directly when they are plain (the common case) and
// otherwise go through their JSON form; rows of any other schema become
// JSON objects, one member per non-null column, which the pipeline decodes
// as it decodes JSON input. A row whose values alone are over the record
// limit is rejected as too large before it is built.
//
// Any failure of the file (a damaged batch, a panic in the arrow library)
// ends the source: Next returns a *pipeline.InputError naming the row group
// or batch, then the same error again.
type tableSource struct {
	name     string
	br       batchReader
	style    pipeline.InputStyle
	ours     bool // the record schema
	cols     recordColumns
	maxBytes int64
	layout   int // index of the _layout column, -1 if none

	cur    arrow.Record
	row    int
	index  int64
	buf    []byte
	failed error
}

func newTableSource(br batchReader, name string, opts pipeline.ReadOptions) (_ pipeline.Source, err error) {
	defer func() {
		if err != nil {
			_ = safely(br.close) // the first error is the one to report
		}
	}()
	s := &tableSource{name: name, br: br, style: opts.Style, maxBytes: maxRecordBytes(opts), layout: -1}
	err = safely(func() error {
		sch := br.schema()
		_, marked := sch.Metadata().GetValue(schemaKey)
		s.ours = marked || (sch.HasField(ColConversations) && sch.HasField(ColLayout))
		if s.ours {
			if idx := sch.FieldIndices(ColLayout); len(idx) > 0 {
				s.layout = idx[0]
			}
		}
		return nil
	})
	if err != nil {
		return nil, &readError{format: br.format(), err: err}
	}
	return s, nil
}

func (s *tableSource) Name() string { return s.name }

func (s *tableSource) Close() error {
	return safely(func() error {
		if s.cur != nil {
			s.cur.Release()
			s.cur = nil
		}
		return s.br.close()
	})
}

// fail ends the source with err, which names where it happened.
func (s *tableSource) fail(err error, row int64) error {
	re, ok := err.(*readError)
	if !ok {
		re = &readError{format: s.br.format(), where: s.br.where(), err: err}
		if row >= 0 {
			re.where = strings.TrimPrefix(re.where+fmt.Sprintf(", record %d", row), ", ")
		}
	}
	s.failed = &pipeline.InputError{Err: re}
	if s.cur != nil {
		// The batch may be what is damaged; releasing it must not panic.
		_ = safely(func() error { s.cur.Release(); return nil })
		s.cur = nil
	}
	return s.failed
}

// Next returns the next row as an element.
func (s *tableSource) Next() (el pipeline.Element, err error) {
	if s.failed != nil {
		return pipeline.Element{}, s.failed
	}
	row := int64(-1)
	defer func() {
		if p := recover(); p != nil {
			el, err = pipeline.Element{}, s.fail(panicError(p), row)
		}
	}()
	for s.cur == nil || s.row >= int(s.cur.NumRows()) {
		if s.cur != nil {
			s.cur.Release()
			s.cur = nil
		}
		rec, err := s.br.next()
		if err == io.EOF {
			return pipeline.Element{}, err
		}
		if err != nil {
			return pipeline.Element{}, s.fail(err, -1)
		}
		s.cur, s.row = rec, 0
		if err := checkRecord(rec); err != nil {
			return pipeline.Element{}, s.fail(err, -1)
		}
		if s.ours {
			s.cols = bindRecordColumns(rec)
		}
	}
	row = s.index
	el = pipeline.Element{Index: s.index, Offset: s.index}
	s.index++
	i := s.row
	s.row++
	bound := s.rowSize(i)
	if bound > s.maxBytes {
		el.Size = bound
		el.Err = &pipeline.DecodeError{Reason: pipeline.ReasonTooLarge, ID: s.rowID(i),
			Msg: fmt.Sprintf("row of at least %d bytes is over the limit of %d", bound, s.maxBytes)}
		return el, nil
	}
	if s.ours {
		return s.recordRow(el, i, bound), nil
	}
	raw := s.buf[:0]
	raw = append(raw, '{')
	n := 0
	for c, f := range s.cur.Schema().Fields() {
		col := s.cur.Column(c)
		if col.IsNull(i) {
			continue
		}
		if n > 0 {
			raw = append(raw, ',')
		}
		n++
		raw = pipeline.AppendString(raw, f.Name)
		raw = append(raw, ':')
		raw = appendValue(raw, col, i)
	}
	raw = append(raw, '}')
	s.buf = raw
	el.Size = int64(len(raw))
	if el.Size > s.maxBytes {
		el.Err = &pipeline.DecodeError{Reason: pipeline.ReasonTooLarge, ID: s.rowID(i),
			Msg: fmt.Sprintf("row of %d bytes is over the limit of %d", el.Size, s.maxBytes)}
		return el, nil
	}
	el.Raw = append([]byte(nil), raw...)
	return el, nil
}

// recordRow makes an element of row i of a batch in the record schema.
func (s *tableSource) recordRow(el pipeline.Element, i int, bound int64) pipeline.Element {
	if rec, size := s.cols.plainRecord(i); rec != nil {
		el.Rec, el.Size = rec, size
		// Escapes make the JSON up to 6 times the bound (a control
		// character is \u00XX): measure the record when that could
		// take it over the limit, as JSONL measures its line.
		if bound > s.maxBytes/6 {
			s.buf = pipeline.AppendRecord(s.buf[:0], rec, pipeline.OutShareGPT)
			if n := int64(len(s.buf)); n > s.maxBytes {
				el.Rec, el.Size = nil, n
				el.Err = &pipeline.DecodeError{Reason: pipeline.ReasonTooLarge, ID: rec.ID,
					Msg: fmt.Sprintf("row of %d bytes is over the limit of %d", n, s.maxBytes)}
			}
		}
		return el
	}
	raw, err := s.cols.appendJSON(s.buf[:0], i)
	s.buf = raw
	el.Size = int64(len(raw))
	if err != nil {
		el.Err = &pipeline.DecodeError{Reason: pipeline.ReasonBadShape, Msg: err.Error()}
		el.Raw = append([]byte(nil), raw...)
		return el
	}
	if el.Size > s.maxBytes {
		el.Err = &pipeline.DecodeError{Reason: pipeline.ReasonTooLarge, ID: s.rowID(i),
			Msg: fmt.Sprintf("row of %d bytes is over the limit of %d", el.Size, s.maxBytes)}
		return el
	}
	// The JSON form is in the ShareGPT style whatever --input-style says.
	rec, derr := pipeline.DecodeRecord(raw, pipeline.StyleShareGPT)
	if derr != nil {
		de, ok := derr.(*pipeline.DecodeError)
		if !ok {
			de = &pipeline.DecodeError{Reason: pipeline.ReasonInvalidJSON, Msg: derr.Error()}
		}
		el.Err, el.Raw = de, append([]byte(nil), raw...)
		return el
	}
	el.Rec = rec
	return el
}

// rowSize is a lower bound on the size of row i as a JSON record: its
// members' sizes without escapes, from the values' lengths, without
// building anything.
func (s *tableSource) rowSize(i int) int64 {
	size, members := int64(2), int64(0)
	for c, f := range s.cur.Schema().Fields() {
		if c == s.layout {
			continue
		}
		col := s.cur.Column(c)
		if col.IsNull(i) {
			continue
		}
		members++
		if str, ok := col.(*array.String); ok && s.ours && (f.Name == ColExtra || isJSONColumn(f.Name)) {
			// JSON text written as it is: the members of extra without
			// its braces, the value of a JSON column without quotes.
			n := int64(str.ValueLen(i))
			if f.Name == ColExtra {
				size += max(n-2, 0)
				continue
			}
			size += int64(len(f.Name)) + 3 + n
			continue
		}
		size += int64(len(f.Name)) + 3 + jsonSizeAtLeast(col, i)
	}
	return size + max(members-1, 0)
}

func isJSONColumn(name string) bool {
	ti := typedIndex(name)
	return ti >= 0 && typedColumns[ti].kind == kindJSON
}

// rowID returns the id of row i, if it has a short string one.
func (s *tableSource) rowID(i int) string {
	idx := s.cur.Schema().FieldIndices(ColID)
	if len(idx) == 0 {
		return ""
	}
	if id, ok := s.cur.Column(idx[0]).(*array.String); ok && id.IsValid(i) && len(id.Value(i)) <= 256 {
		return strings.ToValidUTF8(id.Value(i), "\uFFFD")
	}
	return ""
}

// jsonSizeAtLeast is a lower bound on the size of value i of arr written
// as JSON by appendValue.
func jsonSizeAtLeast(arr arrow.Array, i int) int64 {
	if arr.IsNull(i) {
		return 4
	}
	list := func(values arrow.Array, start, end int64) int64 {
		n := int64(2) + max(end-start-1, 0) // brackets and commas
		for j := start; j < end; j++ {
			n += jsonSizeAtLeast(values, int(j))
		}
		return n
	}
	switch a := arr.(type) {
	case *array.String:
		return int64(a.ValueLen(i)) + 2
	case *array.LargeString:
		start, end := a.ValueOffset64(i), a.ValueOffset64(i+1)
		return end - start + 2
	case *array.Binary:
		return int64(a.ValueLen(i))*4/3 + 2
	case *array.LargeBinary:
		return int64(len(a.Value(i)))*4/3 + 2
	case *array.List:
		start, end := a.ValueOffsets(i)
		return list(a.ListValues(), start, end)
	case *array.LargeList:
		start, end := a.ValueOffsets(i)
		return list(a.ListValues(), start, end)
	case *array.FixedSizeList:
		n := int64(a.DataType().(*arrow.FixedSizeListType).Len())
		return list(a.ListValues(), int64(i)*n, int64(i+1)*n)
	case *array.Struct:
		st := a.DataType().(*arrow.StructType)
		n, members := int64(2), int64(0)
		for k := 0; k < a.NumField(); k++ {
			if a.Field(k).IsValid(i) {
				members++
				n += int64(len(st.Field(k).Name)) + 3 + jsonSizeAtLeast(a.Field(k), i)
			}
		}
		return n + max(members-1, 0)
	case *array.Dictionary:
		return jsonSizeAtLeast(a.Dictionary(), a.GetValueIndex(i))
	}
	return 1
}

// recordColumns are the columns of a batch in the record schema; any may
// be missing (nil).
type recordColumns struct {
	rec    arrow.Record
	id     *array.String
	conv   *array.List
	from   *array.String
	value  *array.String
	typed  []arrow.Array // per typedColumns entry: *array.String or *array.Int64
	extra  *array.String
	layout *array.String
	others []int // columns of other names (or types), written as members
}

func bindRecordColumns(rec arrow.Record) recordColumns {
	c := recordColumns{rec: rec, typed: make([]arrow.Array, len(typedColumns))}
	for i, f := range rec.Schema().Fields() {
		col := rec.Column(i)
		bound := true
		switch f.Name {
		case ColID:
			c.id, bound = col.(*array.String)
		case ColConversations:
			bound = false
			if l, ok := col.(*array.List); ok {
				if st, ok := l.ListValues().(*array.Struct); ok && st.NumField() == 2 {
					from, ok1 := st.Field(0).(*array.String)
					value, ok2 := st.Field(1).(*array.String)
					stt := st.DataType().(*arrow.StructType)
					if ok1 && ok2 && stt.Field(0).Name == "from" && stt.Field(1).Name == "value" {
						c.conv, c.from, c.value, bound = l, from, value, true
					}
				}
			}
		case ColExtra:
			c.extra, bound = col.(*array.String)
		case ColLayout:
			c.layout, bound = col.(*array.String)
		default:
			ti := typedIndex(f.Name)
			switch {
			case ti < 0:
				bound = false
			case typedColumns[ti].kind == kindInt:
				_, bound = col.(*array.Int64)
			default:
				_, bound = col.(*array.String)
			}
			if bound {
				c.typed[ti] = col
			}
		}
		if !bound {
			c.others = append(c.others, i)
		}
	}
	return c
}

// plainRecord builds the record of a row directly when nothing about it
// needs the JSON path: id and conversations present, no layout, no extra or
// augmentation members, no other columns, valid UTF-8 text.
func (c *recordColumns) plainRecord(row int) (*pipeline.Record, int64) {
	if c.id == nil || c.conv == nil || c.id.IsNull(row) || c.conv.IsNull(row) || len(c.others) > 0 ||
		(c.layout != nil && c.layout.IsValid(row)) || (c.extra != nil && c.extra.IsValid(row)) {
		return nil, 0
	}
	if a := c.typed[typedIndex(ColAugmentation)]; a != nil && a.IsValid(row) {
		return nil, 0
	}
	id := c.id.Value(row)
	if !utf8.ValidString(id) {
		return nil, 0
	}
	size := int64(len(id))
	start, end := c.conv.ValueOffsets(row)
	turns := make([]pipeline.Turn, 0, end-start)
	for j := int(start); j < int(end); j++ {
		if c.from.IsNull(j) || c.value.IsNull(j) {
			return nil, 0
		}
		from, value := c.from.Value(j), c.value.Value(j)
		if !utf8.ValidString(from) || !utf8.ValidString(value) {
			return nil, 0
		}
		size += int64(len(from) + len(value))
		// Copies: the batch's buffers are released after the row is read.
		turns = append(turns, pipeline.Turn{From: cloneString(from), Value: cloneString(value)})
	}
	rec := pipeline.NewRecord(cloneString(id), turns)
	for ti, col := range c.typed {
		if col == nil || col.IsNull(row) {
			continue
		}
		var raw []byte
		switch col := col.(type) {
		case *array.String:
			v := col.Value(row)
			if !utf8.ValidString(v) {
				return nil, 0
			}
			raw = pipeline.AppendString(nil, v)
		case *array.Int64:
			raw = strconv.AppendInt(nil, col.Value(row), 10)
		}
		size += int64(len(raw))
		rec.SetField(typedColumns[ti].name, raw)
	}
	return rec, size
}

func cloneString(s string) string {
	if s == "" {
		return ""
	}
	return string([]byte(s))
}

// appendJSON writes a row of the record schema as its JSON record.
func (c *recordColumns) appendJSON(dst []byte, row int) ([]byte, error) {
	type member struct {
		key string
		put func([]byte) []byte
	}
	var lay layoutJSON
	if c.layout != nil && c.layout.IsValid(row) {
		if err := json.Unmarshal([]byte(c.layout.Value(row)), &lay); err != nil {
			return dst, fmt.Errorf("column %s: %v", ColLayout, err)
		}
	}
	var extraKeys []string
	extraVals := map[string]json.RawMessage{}
	if c.extra != nil && c.extra.IsValid(row) {
		keys, vals, err := objectMembers([]byte(c.extra.Value(row)))
		if err != nil {
			return dst, fmt.Errorf("column %s: %v", ColExtra, err)
		}
		extraKeys = keys
		for i, k := range keys {
			extraVals[k] = vals[i]
		}
	}
	typedMember := func(ti int) (member, bool) {
		col := c.typed[ti]
		if col == nil || col.IsNull(row) {
			return member{}, false
		}
		m := member{key: typedColumns[ti].name}
		switch col := col.(type) {
		case *array.String:
			v := col.Value(row)
			if typedColumns[ti].kind == kindJSON {
				m.put = func(b []byte) []byte { return append(b, v...) }
			} else {
				m.put = func(b []byte) []byte { return pipeline.AppendString(b, v) }
			}
		case *array.Int64:
			v := col.Value(row)
			m.put = func(b []byte) []byte { return strconv.AppendInt(b, v, 10) }
		}
		return m, true
	}
	var fields []member
	if lay.Fields != nil {
		for _, k := range lay.Fields {
			if ti := typedIndex(k); ti >= 0 {
				if m, ok := typedMember(ti); ok {
					fields = append(fields, m)
					continue
				}
			}
			v, ok := extraVals[k]
			if !ok {
				return dst, fmt.Errorf("column %s names member %q, which the row does not hold", ColLayout, k)
			}
			fields = append(fields, member{key: k, put: func(b []byte) []byte { return append(b, v...) }})
			delete(extraVals, k)
		}
	} else {
		for ti := range typedColumns {
			if m, ok := typedMember(ti); ok {
				fields = append(fields, m)
			}
		}
	}
	for _, i := range c.others {
		col := c.rec.Column(i)
		if col.IsNull(row) {
			continue
		}
		fields = append(fields, member{key: c.rec.Schema().Field(i).Name, put: func(b []byte) []byte { return appendValue(b, col, row) }})
	}
	for _, k := range extraKeys {
		if v, ok := extraVals[k]; ok {
			fields = append(fields, member{key: k, put: func(b []byte) []byte { return append(b, v...) }})
		}
	}
	var members []member
	hasID := c.id != nil && c.id.IsValid(row)
	hasConv := c.conv != nil && c.conv.IsValid(row)
	idPos, convPos := -1, -1
	if hasID {
		idPos = 0
		if lay.IDPos != nil {
			idPos = *lay.IDPos
		}
	}
	if hasConv {
		convPos = 0
		if hasID {
			convPos = 1
		}
		if lay.ConvPos != nil {
			convPos = *lay.ConvPos
		}
	}
	total := len(fields)
	if hasID {
		total++
	}
	if hasConv {
		total++
	}
	fi := 0
	for pos := 0; pos < total; pos++ {
		switch {
		case pos == idPos:
			v := c.id.Value(row)
			members = append(members, member{key: ColID, put: func(b []byte) []byte { return pipeline.AppendString(b, v) }})
		case pos == convPos:
			members = append(members, member{key: ColConversations, put: func(b []byte) []byte { return c.appendTurns(b, row, lay.Turns) }})
		default:
			if fi >= len(fields) {
				return dst, fmt.Errorf("column %s: member positions out of range", ColLayout)
			}
			members = append(members, fields[fi])
			fi++
		}
	}
	dst = append(dst, '{')
	for i, m := range members {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = pipeline.AppendString(dst, m.key)
		dst = append(dst, ':')
		dst = m.put(dst)
	}
	return append(dst, '}'), nil
}

func (c *recordColumns) appendTurns(dst []byte, row int, special []turnLayout) []byte {
	start, end := c.conv.ValueOffsets(row)
	dst = append(dst, '[')
	k := 0
	for j := int(start); j < int(end); j++ {
		i := j - int(start)
		if i > 0 {
			dst = append(dst, ',')
		}
		var tl *turnLayout
		for k < len(special) && special[k].Index < i {
			k++
		}
		if k < len(special) && special[k].Index == i {
			tl = &special[k]
		}
		from := func(b []byte) []byte {
			b = append(b, `"from":`...)
			if c.from.IsNull(j) {
				return append(b, "null"...)
			}
			return pipeline.AppendString(b, c.from.Value(j))
		}
		value := func(b []byte) []byte {
			b = append(b, `"value":`...)
			if tl != nil && len(tl.Value) > 0 {
				return append(b, tl.Value...) // a list of content parts
			}
			if c.value.IsNull(j) {
				return append(b, "null"...)
			}
			return pipeline.AppendString(b, c.value.Value(j))
		}
		dst = append(dst, '{')
		if tl != nil && tl.ValueFirst {
			dst = from(append(value(dst), ','))
		} else {
			dst = value(append(from(dst), ','))
		}
		if tl != nil && len(tl.Fields) > 2 {
			// the members of the object, without its braces
			dst = append(dst, ',')
			dst = append(dst, tl.Fields[1:len(tl.Fields)-1]...)
		}
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// objectMembers splits a JSON object into its members, in order.
func objectMembers(data []byte) ([]string, []json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, errors.New("not a JSON object")
	}
	var keys []string
	var vals []json.RawMessage
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, nil, errors.New("not a JSON object")
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		keys, vals = append(keys, key), append(vals, v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, err
	}
	return keys, vals, nil
}

// appendValue writes the value of row i of an Arrow array as JSON.
func appendValue(dst []byte, arr arrow.Array, i int) []byte {
	if arr.IsNull(i) {
		return append(dst, "null"...)
	}
	switch a := arr.(type) {
	case *array.String:
		return pipeline.AppendString(dst, a.Value(i))
	case *array.LargeString:
		return pipeline.AppendString(dst, a.Value(i))
	case *array.Binary:
		return pipeline.AppendString(dst, base64.StdEncoding.EncodeToString(a.Value(i)))
	case *array.LargeBinary:
		return pipeline.AppendString(dst, base64.StdEncoding.EncodeToString(a.Value(i)))
	case *array.Boolean:
		return strconv.AppendBool(dst, a.Value(i))
	case *array.Int8:
		return strconv.AppendInt(dst, int64(a.Value(i)), 10)
	case *array.Int16:
		return strconv.AppendInt(dst, int64(a.Value(i)), 10)
	case *array.Int32:
		return strconv.AppendInt(dst, int64(a.Value(i)), 10)
	case *array.Int64:
		return strconv.AppendInt(dst, a.Value(i), 10)
	case *array.Uint8:
		return strconv.AppendUint(dst, uint64(a.Value(i)), 10)
	case *array.Uint16:
		return strconv.AppendUint(dst, uint64(a.Value(i)), 10)
	case *array.Uint32:
		return strconv.AppendUint(dst, uint64(a.Value(i)), 10)
	case *array.Uint64:
		return strconv.AppendUint(dst, a.Value(i), 10)
	case *array.Float32:
		return appendFloat(dst, float64(a.Value(i)), 32)
	case *array.Float64:
		return appendFloat(dst, a.Value(i), 64)
	case *array.List:
		start, end := a.ValueOffsets(i)
		return appendRange(dst, a.ListValues(), int(start), int(end))
	case *array.LargeList:
		start, end := a.ValueOffsets(i)
		return appendRange(dst, a.ListValues(), int(start), int(end))
	case *array.FixedSizeList:
		n := int(a.DataType().(*arrow.FixedSizeListType).Len())
		return appendRange(dst, a.ListValues(), i*n, (i+1)*n)
	case *array.Struct:
		st := a.DataType().(*arrow.StructType)
		dst = append(dst, '{')
		n := 0
		for k := 0; k < a.NumField(); k++ {
			if a.Field(k).IsNull(i) {
				continue // absent, as datasets writes missing keys
			}
			if n > 0 {
				dst = append(dst, ',')
			}
			n++
			dst = pipeline.AppendString(dst, st.Field(k).Name)
			dst = append(dst, ':')
			dst = appendValue(dst, a.Field(k), i)
		}
		return append(dst, '}')
	case *array.Dictionary:
		return appendValue(dst, a.Dictionary(), a.GetValueIndex(i))
	}
	b, err := json.Marshal(arr.GetOneForMarshal(i))
	if err != nil {
		return pipeline.AppendString(dst, arr.ValueStr(i))
	}
	return append(dst, b...)
}

func appendRange(dst []byte, values arrow.Array, start, end int) []byte {
	dst = append(dst, '[')
	for j := start; j < end; j++ {
		if j > start {
			dst = append(dst, ',')
		}
		dst = appendValue(dst, values, j)
	}
	return append(dst, ']')
}

func appendFloat(dst []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, bits)
}
