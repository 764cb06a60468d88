package columnar

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Arrow IPC metadata is a flatbuffer, which the arrow library reads with
// generated code that trusts every offset and length in it: a damaged
// vector length makes it allocate up to 2^32 elements (hundreds of GB, a
// fatal out-of-memory that no recover catches). The flatbuffers of a file
// are therefore checked first, as a flatbuffers verifier (which Go's
// flatbuffers package lacks) would: every table, vtable, string and vector
// that the generated code may follow lies inside the buffer.

// fbType describes a flatbuffer table: its fields by slot.
type fbType struct {
	name   string
	fields []fbField
}

type fbKind uint8

const (
	fbScalar    fbKind = iota // size bytes inline
	fbString                  // offset to a string
	fbTable                   // offset to a table of type table
	fbVecScalar               // offset to a vector of size-byte scalars or structs
	fbVecString               // offset to a vector of strings
	fbVecTable                // offset to a vector of tables of type table
	fbUnion                   // offset to a table of type union[value of slot typeSlot]
)

type fbField struct {
	kind     fbKind
	size     int
	table    *fbType
	union    []*fbType
	typeSlot int
}

func scalar(size int) fbField       { return fbField{kind: fbScalar, size: size} }
func vecOf(size int) fbField        { return fbField{kind: fbVecScalar, size: size} }
func tableOf(t *fbType) fbField     { return fbField{kind: fbTable, table: t} }
func vecOfTables(t *fbType) fbField { return fbField{kind: fbVecTable, table: t} }
func unionOf(typeSlot int, u []*fbType) fbField {
	return fbField{kind: fbUnion, union: u, typeSlot: typeSlot}
}

var fbStr = fbField{kind: fbString}

// The tables of Arrow's Schema.fbs, Message.fbs and File.fbs that the
// arrow library reads.
var (
	fbKeyValue   = &fbType{name: "KeyValue", fields: []fbField{fbStr, fbStr}}
	fbInt        = &fbType{name: "Int", fields: []fbField{scalar(4), scalar(1)}}
	fbDictEnc    = &fbType{name: "DictionaryEncoding", fields: []fbField{scalar(8), tableOf(fbInt), scalar(1), scalar(2)}}
	fbTimestamp  = &fbType{name: "Timestamp", fields: []fbField{scalar(2), fbStr}}
	fbUnionType  = &fbType{name: "Union", fields: []fbField{scalar(2), vecOf(4)}}
	fbField_     = &fbType{name: "Field"}
	fbSchema     = &fbType{name: "Schema", fields: []fbField{scalar(2), vecOfTables(fbField_), vecOfTables(fbKeyValue), vecOf(8)}}
	fbBodyComp   = &fbType{name: "BodyCompression", fields: []fbField{scalar(1), scalar(1)}}
	fbRecBatch   = &fbType{name: "RecordBatch", fields: []fbField{scalar(8), vecOf(16), vecOf(16), tableOf(fbBodyComp), vecOf(8)}}
	fbDictBatch  = &fbType{name: "DictionaryBatch", fields: []fbField{scalar(8), tableOf(fbRecBatch), scalar(1)}}
	fbEmpty      = &fbType{name: "table"}
	fbMessage    = &fbType{name: "Message"}
	fbFooter     = &fbType{name: "Footer", fields: []fbField{scalar(2), tableOf(fbSchema), vecOf(24), vecOf(24), vecOfTables(fbKeyValue)}}
	fbShortTable = &fbType{name: "type", fields: []fbField{scalar(2)}}
	fbTime       = &fbType{name: "Time", fields: []fbField{scalar(2), scalar(4)}}
	fbDecimal    = &fbType{name: "Decimal", fields: []fbField{scalar(4), scalar(4), scalar(4)}}
	fbInt32Table = &fbType{name: "type", fields: []fbField{scalar(4)}}
	fbBoolTable  = &fbType{name: "type", fields: []fbField{scalar(1)}}
)

func init() {
	// Type union, by Type enum value (Schema.fbs).
	types := []*fbType{
		0: nil, 1: fbEmpty, 2: fbInt, 3: fbShortTable, 4: fbEmpty, 5: fbEmpty, 6: fbEmpty,
		7: fbDecimal, 8: fbShortTable, 9: fbTime, 10: fbTimestamp, 11: fbShortTable,
		12: fbEmpty, 13: fbEmpty, 14: fbUnionType, 15: fbInt32Table, 16: fbInt32Table,
		17: fbBoolTable, 18: fbShortTable, 19: fbEmpty, 20: fbEmpty, 21: fbEmpty,
		22: fbEmpty, 23: fbEmpty, 24: fbEmpty, 25: fbEmpty, 26: fbEmpty,
	}
	fbField_.fields = []fbField{fbStr, scalar(1), scalar(1), unionOf(2, types), tableOf(fbDictEnc), vecOfTables(fbField_), vecOfTables(fbKeyValue)}
	// MessageHeader union: Schema, DictionaryBatch, RecordBatch, Tensor,
	// SparseTensor (the last two arrow does not read).
	headers := []*fbType{0: nil, 1: fbSchema, 2: fbDictBatch, 3: fbRecBatch, 4: fbEmpty, 5: fbEmpty}
	fbMessage.fields = []fbField{scalar(2), scalar(1), unionOf(1, headers), scalar(8), vecOfTables(fbKeyValue)}
}

const (
	fbMaxDepth  = 64
	fbMaxTables = 100_000
)

type fbChecker struct {
	b      []byte
	tables int
}

var errFlatbuffer = errors.New("damaged metadata")

func (c *fbChecker) fail(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errFlatbuffer, fmt.Sprintf(format, args...))
}

func (c *fbChecker) has(at, n uint64) bool { return at <= uint64(len(c.b)) && n <= uint64(len(c.b))-at }

func (c *fbChecker) u32(at uint64) uint32 { return binary.LittleEndian.Uint32(c.b[at:]) }
func (c *fbChecker) u16(at uint64) uint16 { return binary.LittleEndian.Uint16(c.b[at:]) }

// checkFlatbuffer checks a flatbuffer whose root table is of type t.
func checkFlatbuffer(b []byte, t *fbType) error {
	c := &fbChecker{b: b}
	if !c.has(0, 4) {
		return c.fail("%s of %d bytes", t.name, len(b))
	}
	return c.table(uint64(c.u32(0)), t, 0)
}

func (c *fbChecker) table(pos uint64, t *fbType, depth int) error {
	if depth > fbMaxDepth {
		return c.fail("nested deeper than %d", fbMaxDepth)
	}
	if c.tables++; c.tables > fbMaxTables {
		return c.fail("more than %d tables", fbMaxTables)
	}
	if !c.has(pos, 4) {
		return c.fail("%s at %d, past the end (%d)", t.name, pos, len(c.b))
	}
	vt := int64(int32(uint32(pos)) - int32(c.u32(pos)))
	if vt < 0 || !c.has(uint64(vt), 4) {
		return c.fail("%s at %d: vtable at %d", t.name, pos, vt)
	}
	vsize, tsize := uint64(c.u16(uint64(vt))), uint64(c.u16(uint64(vt)+2))
	if vsize < 4 || vsize%2 != 0 || !c.has(uint64(vt), vsize) || tsize < 4 || !c.has(pos, tsize) {
		return c.fail("%s at %d: vtable of %d bytes for a table of %d", t.name, pos, vsize, tsize)
	}
	slot := func(k int) uint64 {
		at := uint64(4 + 2*k)
		if at+2 > vsize {
			return 0
		}
		return uint64(c.u16(uint64(vt) + at))
	}
	for k, f := range t.fields {
		o := slot(k)
		if o == 0 {
			continue
		}
		if f.kind == fbScalar {
			if o+uint64(f.size) > tsize {
				return c.fail("%s at %d: field %d out of the table", t.name, pos, k)
			}
			continue
		}
		if o+4 > tsize {
			return c.fail("%s at %d: field %d out of the table", t.name, pos, k)
		}
		at := pos + o
		target := uint64(uint32(at) + c.u32(at)) // as the generated code adds
		if err := c.field(target, f, t, pos, depth, func() uint64 {
			if ts := slot(f.typeSlot); ts != 0 && ts < tsize {
				return uint64(c.b[pos+ts])
			}
			return 0
		}); err != nil {
			return err
		}
	}
	return nil
}

func (c *fbChecker) field(target uint64, f fbField, t *fbType, pos uint64, depth int, unionType func() uint64) error {
	switch f.kind {
	case fbTable:
		return c.table(target, f.table, depth+1)
	case fbUnion:
		typ := unionType()
		if typ < uint64(len(f.union)) && f.union[typ] != nil {
			return c.table(target, f.union[typ], depth+1)
		}
		if !c.has(target, 4) {
			return c.fail("%s at %d: union value past the end", t.name, pos)
		}
		return nil
	}
	if !c.has(target, 4) {
		return c.fail("%s at %d: vector or string past the end", t.name, pos)
	}
	n := uint64(c.u32(target))
	data := target + 4
	switch f.kind {
	case fbString:
		if !c.has(data, n) {
			return c.fail("%s at %d: string of %d bytes past the end", t.name, pos, n)
		}
	case fbVecScalar:
		if !c.has(data, n*uint64(f.size)) {
			return c.fail("%s at %d: vector of %d past the end", t.name, pos, n)
		}
	case fbVecString, fbVecTable:
		if !c.has(data, n*4) {
			return c.fail("%s at %d: vector of %d past the end", t.name, pos, n)
		}
		for i := range n {
			at := data + 4*i
			elem := uint64(uint32(at) + c.u32(at))
			var err error
			if f.kind == fbVecString {
				err = c.field(elem, fbStr, t, pos, depth, nil)
			} else {
				err = c.table(elem, f.table, depth+1)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}
