package pipeline

import (
	"io"
	"strconv"
	"strings"
)

// RejectWriter writes rejected records as JSONL, one line each:
//
//	{"file":"raw.json","index":12,"line":13,"id":"abc","stage":"clean",
//	 "reason":"blocked-words","detail":"...","related":"...","part":false,
//	 "record":{...}}
//
// "line" appears for JSONL input, "related" when a stage names a related
// record (the kept duplicate), "part" when the rejected record is a part
// of an input record whose other parts were kept. "record" is the rejected
// record as the stage saw it; a record that could not be decoded appears
// as "raw" text instead (absent when it was too large to hold).
type RejectWriter struct {
	w     io.Writer
	style OutputStyle
	buf   []byte
}

// NewRejectWriter writes rejects to w.
func NewRejectWriter(w io.Writer, style OutputStyle) *RejectWriter {
	return &RejectWriter{w: w, style: style}
}

// write writes one reject of an item.
func (rw *RejectWriter) write(it *item, rj rejectedAt) error {
	b := rw.buf[:0]
	b = append(b, `{"file":`...)
	b = AppendString(b, it.file)
	b = append(b, `,"index":`...)
	b = strconv.AppendInt(b, it.el.Index, 10)
	if it.el.Line > 0 {
		b = append(b, `,"line":`...)
		b = strconv.AppendInt(b, it.el.Line, 10)
	}
	switch {
	case rj.rec != nil && rj.rec.HasID():
		b = append(b, `,"id":`...)
		b = AppendString(b, rj.rec.ID)
	case it.el.Err != nil && it.el.Err.ID != "":
		b = append(b, `,"id":`...)
		b = AppendString(b, it.el.Err.ID)
	}
	b = append(b, `,"stage":`...)
	b = AppendString(b, rj.rej.Stage)
	b = append(b, `,"reason":`...)
	b = AppendString(b, string(rj.rej.Reason))
	if rj.rej.Detail != "" {
		b = append(b, `,"detail":`...)
		b = AppendString(b, strings.ToValidUTF8(rj.rej.Detail, "\uFFFD"))
	}
	if rj.rej.Related != "" {
		b = append(b, `,"related":`...)
		b = AppendString(b, rj.rej.Related)
	}
	if rj.part {
		b = append(b, `,"part":true`...)
	}
	switch {
	case rj.rec != nil:
		b = append(b, `,"record":`...)
		b = AppendRecord(b, rj.rec, rw.style)
	case it.el.Raw != nil:
		b = append(b, `,"raw":`...)
		b = AppendString(b, strings.ToValidUTF8(string(it.el.Raw), "\uFFFD"))
	}
	b = append(b, '}', '\n')
	rw.buf = b
	_, err := rw.w.Write(b)
	return err
}
