package importer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/sharegpt/sharegpt/pipeline"
)

// Format names, the values of Options.From.
const (
	FromAuto        = "auto"
	FromChatGPT     = "chatgpt"
	FromChatGPTHTML = "chatgpt-html"
	FromSharePage   = "share-page"
	FromClaude      = "claude"
	FromOpenWebUI   = "openwebui"
	FromChatbotUI   = "chatbotui"
	FromAlpaca      = "alpaca"
	FromDolly       = "dolly"
	// fromDOM is the carrier format of conversations read from a page's DOM.
	fromDOM = "dom"
)

// Froms lists the accepted values of Options.From.
var Froms = []string{FromAuto, FromChatGPT, FromChatGPTHTML, FromSharePage, FromClaude, FromOpenWebUI, FromChatbotUI, FromAlpaca, FromDolly}

// Branch policies, the values of Options.Branches.
const (
	BranchesActive  = "active"
	BranchesAll     = "all"
	BranchesLongest = "longest"
)

// Roles written in "from" besides human, gpt and system.
const (
	RoleFunctionCall = "function_call"
	RoleObservation  = "observation"
)

// Reasons the import stage rejects a conversation with.
const (
	ReasonNoMapping     pipeline.Reason = "no-mapping"      // a tree export without its tree
	ReasonMissingRoot   pipeline.Reason = "missing-root"    // a parent or current node that is not in the tree
	ReasonBadTree       pipeline.Reason = "bad-tree"        // a cycle, several roots, a child that is not in the tree
	ReasonNoContentType pipeline.Reason = "no-content-type" // a ChatGPT message without content.content_type
	ReasonNoTurns       pipeline.Reason = "no-turns"        // nothing left to write (no human or gpt text)
	ReasonBadShape                      = pipeline.ReasonBadShape
)

// Stage name in reports and rejects.
const StageName = "import"

// Options configure an import.
type Options struct {
	From          string    // one of Froms; "" is auto
	Branches      string    // active (default), all or longest
	Tools         string    // keep (default) or drop: function_call and observation turns
	KeepReasoning bool      // keep reasoning as the next gpt turn's "reasoning" member
	KeepHidden    bool      // keep messages ChatGPT hides (is_visually_hidden_from_conversation)
	NoSystem      bool      // drop system turns (custom instructions, system prompts)
	Log           io.Writer // where auto says what it chose; nil: nowhere
}

// Importer holds checked options and the counts of a run.
type Importer struct {
	o     Options
	stage *stage
}

// New checks the options.
func New(o Options) (*Importer, error) {
	if o.From == "" {
		o.From = FromAuto
	}
	if !slices.Contains(Froms, o.From) {
		return nil, pipeline.OptionErrorf("{from} %q: want one of %s", o.From, strings.Join(Froms, ", "))
	}
	switch o.Branches {
	case "":
		o.Branches = BranchesActive
	case BranchesActive, BranchesAll, BranchesLongest:
	default:
		return nil, pipeline.OptionErrorf("{branches} %q: want active, all or longest", o.Branches)
	}
	switch o.Tools {
	case "":
		o.Tools = "keep"
	case "keep", "drop":
	default:
		return nil, pipeline.OptionErrorf("{tools} %q: want keep or drop", o.Tools)
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return &Importer{o: o, stage: &stage{o: o}}, nil
}

// Prepare makes a job read its inputs as o.From: it adds the import
// formats to the job's registry (its output formats stay), selects the
// input format, and sets the import stage and its report details.
func (im *Importer) Prepare(job *pipeline.Job) {
	var formats []pipeline.Format
	formats = append(formats, im.Formats()...)
	if job.Registry != nil {
		formats = append(formats, job.Registry.Formats()...)
	}
	job.Registry = pipeline.NewRegistry(formats...)
	job.Read.Format = im.o.From
	im.stage.maxOut = job.Read.MaxRecordBytes
	if im.stage.maxOut <= 0 {
		im.stage.maxOut = pipeline.DefaultMaxRecordBytes
	}
	job.Stages = []pipeline.Stage{im.Stage()}
	job.Finish = func(rep *pipeline.Report) error {
		rep.Stage(StageName).Details = im.Details()
		return nil
	}
}

// Stage returns the stage that converts carrier records into records.
func (im *Importer) Stage() pipeline.Stage { return im.stage }

// Details are the import stage's own counts, in the report.
type Details struct {
	Records       int64 `json:"records"`        // records written
	Branches      int64 `json:"branches"`       // records that are a branch of a conversation (Branches all)
	BranchPoints  int64 `json:"branch_points"`  // nodes with several children, in conversations written
	ToolTurns     int64 `json:"tool_turns"`     // function_call and observation turns written
	ToolsDropped  int64 `json:"tools_dropped"`  // tool messages dropped (Tools drop)
	Images        int64 `json:"images"`         // image pointers listed
	SystemTurns   int64 `json:"system_turns"`   // system turns written
	Reasoning     int64 `json:"reasoning"`      // reasoning messages or blocks (kept or dropped)
	HiddenDropped int64 `json:"hidden_dropped"` // hidden messages dropped
}

// Details returns the counts so far.
func (im *Importer) Details() Details {
	s := im.stage
	return Details{
		Records: s.records.Load(), Branches: s.branches.Load(), BranchPoints: s.branchPoints.Load(),
		ToolTurns: s.toolTurns.Load(), ToolsDropped: s.toolsDropped.Load(), Images: s.images.Load(),
		SystemTurns: s.systemTurns.Load(), Reasoning: s.reasoning.Load(), HiddenDropped: s.hidden.Load(),
	}
}

// Carrier records: a conversation in its source form, on its way from a
// source to the stage. A rejected conversation is written to --rejects in
// this form, its source JSON under "source".
const (
	fieldFormat = "import_format"
	fieldSource = "source"
)

func carrier(format string, raw []byte) *pipeline.Record {
	r := pipeline.NewRecordWithoutID(nil) // --shard places it by its content
	r.SetStringField(fieldFormat, format)
	r.SetField(fieldSource, raw)
	return r
}

// rejection is why a conversation cannot be imported.
type rejection struct {
	reason pipeline.Reason
	field  string
	msg    string
}

func (r *rejection) Error() string {
	if r.field == "" {
		return r.msg
	}
	return r.field + ": " + r.msg
}

func reject(reason pipeline.Reason, field, format string, args ...any) *rejection {
	return &rejection{reason: reason, field: field, msg: fmt.Sprintf(format, args...)}
}

// stage converts carriers; it keeps no state across records but counts.
type stage struct {
	o Options
	// maxOut bounds the bytes of text one conversation's paths may hold
	// together (--branches all writes a path per leaf; see tree.paths).
	maxOut                          int64
	records, branches, branchPoints atomic.Int64
	toolTurns, toolsDropped, images atomic.Int64
	systemTurns, reasoning, hidden  atomic.Int64
}

func (s *stage) Name() string { return StageName }

// conv is what a reader makes of one conversation before it becomes
// records: its id and metadata, and its paths (one unless Branches is all).
type conv struct {
	id     string
	fields []pipeline.Field // title, model, create_time...
	paths  []path
	active int              // index of the active path in paths
	points int              // branch points
	ready  *pipeline.Record // a record made directly (instruction sets)
}

func (s *stage) Process(_ context.Context, rec *pipeline.Record, out *pipeline.Out) error {
	format, _ := rec.StringField(fieldFormat)
	raw, _ := rec.Field(fieldSource)
	_, index := out.Origin()
	c := &counts{}
	var cv *conv
	var id string
	var rj *rejection
	if i := invalidUTF8At(raw); i >= 0 {
		rj = reject(pipeline.ReasonInvalidUTF8, "", "invalid UTF-8 at byte %d of the conversation (as every reader rejects it)", i)
	} else {
		cv, id, rj = s.convert(format, raw, index, c)
	}
	if rj == nil && cv != nil {
		recs := []*pipeline.Record{cv.ready}
		if cv.ready == nil {
			recs = s.records_(cv, c)
		}
		if len(recs) == 0 {
			rj = reject(ReasonNoTurns, "", "no human or gpt text")
		} else {
			for _, r := range recs {
				out.Keep(r)
			}
			c.add(s)
			s.records.Add(int64(len(recs)))
			s.branchPoints.Add(int64(cv.points))
			if len(recs) > 1 {
				s.branches.Add(int64(len(recs)))
			}
			return nil
		}
	}
	if id == "" {
		id = fmt.Sprintf("%s_%d", format, index)
	}
	r := rec.Clone()
	r.SetID(id)
	if rj.reason == pipeline.ReasonInvalidUTF8 {
		// The rejects file holds the conversation as text, the bad bytes
		// replaced: as read, it is not JSON any writer can write.
		r.SetStringField(fieldSource, strings.ToValidUTF8(string(raw), "\uFFFD"))
	}
	out.Reject(r, rj.reason, fmt.Sprintf("conversation %d (id %s): %s", index, id, rj.Error()))
	return nil
}

// invalidUTF8At returns the offset of the first byte of raw that is not
// valid UTF-8, or -1. encoding/json would replace it with U+FFFD unseen.
func invalidUTF8At(raw []byte) int {
	if utf8.Valid(raw) {
		return -1
	}
	for i := 0; i < len(raw); {
		r, n := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// convert dispatches on the carrier's format.
func (s *stage) convert(format string, raw json.RawMessage, index int64, c *counts) (*conv, string, *rejection) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, "", reject(ReasonBadShape, "", "a conversation must be a JSON object")
	}
	switch format {
	case FromChatGPT:
		return s.chatgpt(raw, c)
	case FromClaude:
		return s.claude(raw, c)
	case FromOpenWebUI:
		return s.openWebUI(raw, c)
	case FromChatbotUI:
		return s.chatbotUI(raw, c)
	case FromAlpaca, FromDolly:
		return s.instruction(format, raw, index)
	case fromDOM:
		return s.dom(raw, c)
	}
	return nil, "", reject(ReasonBadShape, fieldFormat, "unknown carrier format %q", format)
}

// counts are one conversation's contributions to Details, added only when
// it is written.
type counts struct {
	toolTurns, toolsDropped, images, systemTurns, reasoning, hidden int64
}

func (c *counts) add(s *stage) {
	s.toolTurns.Add(c.toolTurns)
	s.toolsDropped.Add(c.toolsDropped)
	s.images.Add(c.images)
	s.systemTurns.Add(c.systemTurns)
	s.reasoning.Add(c.reasoning)
	s.hidden.Add(c.hidden)
}
