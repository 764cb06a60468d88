package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Reason is the machine-readable code a record is rejected with.
type Reason string

// Reasons of the read stage: the input record is not a usable conversation.
const (
	ReasonInvalidJSON     Reason = "invalid-json"
	ReasonInvalidUTF8     Reason = "invalid-utf8"
	ReasonBadShape        Reason = "bad-shape"
	ReasonTooLarge        Reason = "too-large"
	ReasonNoConversations Reason = "no-conversations"
)

// StageRead names the stage that decodes input records.
const StageRead = "read"

// Reject says why a stage rejected a record.
type Reject struct {
	Stage   string
	Reason  Reason
	Detail  string // human-readable, may be empty
	Related string // the id of a related record (the kept duplicate, say)
}

// StageReport counts what one stage did. For every stage
// In = Out + the sum of Rejected: a record that a stage splits into several
// counts once in Out, and its parts in Emitted.
type StageReport struct {
	Name     string           `json:"stage"`
	In       int64            `json:"in"`
	Out      int64            `json:"out"`
	Emitted  int64            `json:"emitted"`
	Rejected map[Reason]int64 `json:"rejected"`
	// PartsRejected counts parts of kept records that were rejected (an
	// oversize segment of a conversation whose other segments were kept).
	PartsRejected map[Reason]int64 `json:"parts_rejected,omitempty"`
	// Details holds what the stage reports of its own (hit counts, a
	// language distribution, a length histogram).
	Details any `json:"details,omitempty"`
}

func newStageReport(name string) *StageReport {
	return &StageReport{Name: name, Rejected: map[Reason]int64{}}
}

// RejectedTotal sums the stage's rejected records.
func (s *StageReport) RejectedTotal() int64 {
	var n int64
	for _, c := range s.Rejected {
		n += c
	}
	return n
}

// Report is the summary of a run. RecordsIn = Kept + Rejected: every input
// record was kept (it gave RecordsOut records in all) or rejected.
type Report struct {
	Command   string   `json:"command"`
	Inputs    []string `json:"inputs"`
	RecordsIn int64    `json:"records_in"`
	// OtherShards counts the input records left to other shards (--shard).
	OtherShards int64 `json:"other_shards,omitempty"`
	Kept        int64 `json:"kept"`
	Rejected    int64 `json:"rejected"`
	RecordsOut  int64 `json:"records_out"`
	BytesIn     int64 `json:"bytes_in"`
	BytesOut    int64 `json:"bytes_out"`
	// NonTextParts counts the content parts that are not text (images,
	// audio, files) in the records written: kept in the records, not
	// seen by the stages that work on text.
	NonTextParts int64          `json:"non_text_parts,omitempty"`
	Seconds      float64        `json:"seconds"`
	Stages       []*StageReport `json:"stages"`
	Extra        map[string]any `json:"extra,omitempty"`
	start        time.Time
}

// Stage returns the report of the named stage, adding it if needed.
func (r *Report) Stage(name string) *StageReport {
	for _, s := range r.Stages {
		if s.Name == name {
			return s
		}
	}
	s := newStageReport(name)
	r.Stages = append(r.Stages, s)
	return s
}

// Check verifies that the counts add up; a failure is a bug in a stage.
func (r *Report) Check() error {
	if r.RecordsIn != r.Kept+r.Rejected {
		return fmt.Errorf("%d records in, %d kept, %d rejected: counts do not add up", r.RecordsIn, r.Kept, r.Rejected)
	}
	for _, s := range r.Stages {
		if s.In != s.Out+s.RejectedTotal() {
			return fmt.Errorf("stage %s: %d in, %d out, %d rejected: counts do not add up", s.Name, s.In, s.Out, s.RejectedTotal())
		}
	}
	return nil
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteTable writes the human summary that commands print on stderr.
func (r *Report) WriteTable(w io.Writer) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "stage\tin\tout\trejected\treason\t\n")
	for _, s := range r.Stages {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t\t\n", s.Name, s.In, s.Out, s.RejectedTotal())
		for _, reason := range slices.Sorted(maps.Keys(s.Rejected)) {
			fmt.Fprintf(tw, "\t\t\t%d\t%s\t\n", s.Rejected[reason], reason)
		}
		for _, reason := range slices.Sorted(maps.Keys(s.PartsRejected)) {
			fmt.Fprintf(tw, "\t\t\t%d\t%s (part)\t\n", s.PartsRejected[reason], reason)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// Every line names the command, and the summary goes out in one write,
	// so that the summaries of a pipeline's commands do not interleave.
	var out bytes.Buffer
	for line := range bytes.Lines(buf.Bytes()) {
		out.WriteString(r.Command)
		out.WriteString(": ")
		out.Write(line)
	}
	mb := func(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
	fmt.Fprintf(&out, "%s: %d records in, %d kept, %d rejected; %d records out; %s in, %s out; %.2fs\n",
		r.Command, r.RecordsIn, r.Kept, r.Rejected, r.RecordsOut, mb(r.BytesIn), mb(r.BytesOut), r.Seconds)
	if r.NonTextParts > 0 {
		fmt.Fprintf(&out, "%s: %d content parts that are not text (images, audio, files) kept in the records written\n", r.Command, r.NonTextParts)
	}
	_, err := w.Write(out.Bytes())
	return err
}

// String returns the table form.
func (r *Report) String() string {
	var b strings.Builder
	r.WriteTable(&b)
	return b.String()
}
