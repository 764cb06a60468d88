package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/internal/oracle"
	"github.com/sharegpt/sharegpt/pipeline"
)

const samples = "../testdata/imports/"

// sink collects the records a job keeps.
type sink struct{ recs []*pipeline.Record }

func (s *sink) Write(r *pipeline.Record) error { s.recs = append(s.recs, r); return nil }

type result struct {
	recs    []*pipeline.Record
	rep     *pipeline.Report
	details Details
	rejects []map[string]any
	log     string
}

// run imports files through a pipeline job, as the command does.
func run(t *testing.T, o Options, files ...string) result {
	t.Helper()
	return runLimit(t, o, 0, files...)
}

// runLimit is run with a record size limit (0: the default).
func runLimit(t *testing.T, o Options, maxRecordBytes int64, files ...string) result {
	t.Helper()
	var log bytes.Buffer
	o.Log = &log
	im, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var out sink
	job := &pipeline.Job{
		Command:     "import",
		Registry:    pipeline.NewRegistry(pipeline.JSONFormats()...),
		Inputs:      files,
		Sink:        &out,
		RejectsPath: filepath.Join(dir, "rejects.jsonl"),
		Workers:     2,
		Read:        pipeline.ReadOptions{MaxRecordBytes: maxRecordBytes},
	}
	im.Prepare(job)
	rep, err := job.Run(context.Background())
	if err != nil {
		t.Fatalf("%v: %v", files, err)
	}
	res := result{recs: out.recs, rep: rep, details: im.Details(), log: log.String()}
	data, _ := os.ReadFile(job.RejectsPath)
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		if len(line) > 0 {
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatal(err)
			}
			res.rejects = append(res.rejects, m)
		}
	}
	return res
}

func (r result) rejected() map[pipeline.Reason]int64 {
	out := map[pipeline.Reason]int64{}
	for _, s := range r.rep.Stages {
		for k, v := range s.Rejected {
			out[k] += v
		}
	}
	return out
}

func TestEverySample(t *testing.T) {
	tests := []struct {
		file, from              string
		in, records, allRecords int64
		tools, images           int64
		rejected                map[pipeline.Reason]int64
	}{
		{"chatgpt/pkuppens_real_export_2023-06_conversations.json", FromChatGPT, 192, 192, 195, 61, 0, nil},
		{"chatgpt/librechat_chatgpt-export.json", FromChatGPT, 2, 2, 2, 9, 0, nil},
		{"chatgpt/librechat_chatgpt-tree.json", FromChatGPT, 1, 1, 2, 0, 0, nil},
		{"chatgpt/librechat_chatgpt-citations.json", FromChatGPT, 1, 0, 0, 0, 0, map[pipeline.Reason]int64{ReasonMissingRoot: 1}},
		{"chatgpt/librechat_chatgpt-modern-export.json", FromChatGPT, 3, 2, 2, 0, 0, map[pipeline.Reason]int64{ReasonNoMapping: 1}},
		{"chatgpt/chatgpt2graph_code_interpreter.json", FromChatGPT, 1, 1, 1, 22, 0, nil},
		{"chatgpt/pionxzh_fixture_image-generation.json", FromChatGPT, 1, 1, 1, 6, 5, nil},
		{"chatgpt/pionxzh_fixture_thinking-summaries.json", FromChatGPT, 1, 1, 1, 0, 0, nil},
		{"chatgpt/mitkury_example-conversation_branch.json", FromChatGPT, 1, 1, 2, 0, 0, nil},
		{"chatgpt/convonaut_dummy_conversations.json", FromChatGPT, 7, 7, 7, 0, 0, nil},
		{"chatgpt/looselips_degenerate_conversations.json", FromChatGPT, 5, 0, 0, 0, 0, map[pipeline.Reason]int64{ReasonNoContentType: 5}},
		{"share_html/searchts_chatgpt_share_trimmed.html", FromSharePage, 1, 1, 1, 0, 0, nil},
		{"share_html/obsidianAIexporter_chatgpt_dom_chat-simple.html", FromSharePage, 1, 1, 1, 0, 0, nil},
		{"share_html/convonaut_original_export_chat.html", FromChatGPTHTML, 0, 0, 0, 0, 0, nil},
		{"claude/yanndebray_claude_sample_conversations.json", FromClaude, 3, 3, 3, 2, 0, nil},
		{"claude/searchts_claude_share_snapshot.json", FromClaude, 1, 1, 1, 0, 0, nil},
		{"claude/obsidianAIexporter_claude_dom_chat-simple.html", FromSharePage, 1, 1, 1, 0, 0, nil},
		{"other/librechat_openwebui-export.json", FromOpenWebUI, 3, 3, 3, 1, 0, nil},
		{"other/librechat_chatbotui-export.json", FromChatbotUI, 2, 2, 2, 0, 0, nil},
		{"other/obsidianAIexporter_gemini_dom_chat-simple.html", FromSharePage, 1, 1, 1, 0, 0, nil},
		{"instruction/fastchat_alpaca_data_cleaned_1000.json", FromAlpaca, 1000, 1000, 1000, 0, 0, nil},
		{"instruction/dolly15k_first9.jsonl", FromDolly, 9, 9, 9, 0, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			// auto must choose the format the sample is.
			auto := run(t, Options{}, samples+tt.file)
			if !strings.Contains(auto.log, "--from auto chose "+tt.from+" (") {
				t.Errorf("auto said %q, want it to choose %s", auto.log, tt.from)
			}
			r := run(t, Options{From: tt.from}, samples+tt.file)
			if r.rep.RecordsIn != tt.in || int64(len(r.recs)) != tt.records {
				t.Errorf("%d conversations in, %d records; want %d, %d", r.rep.RecordsIn, len(r.recs), tt.in, tt.records)
			}
			if r.details.ToolTurns != tt.tools || r.details.Images != tt.images {
				t.Errorf("tool turns %d, images %d; want %d, %d", r.details.ToolTurns, r.details.Images, tt.tools, tt.images)
			}
			got := r.rejected()
			for reason, n := range tt.rejected {
				if got[reason] != n {
					t.Errorf("rejected %s: %d, want %d (all: %v)", reason, got[reason], n, got)
				}
			}
			var want int64
			for _, n := range tt.rejected {
				want += n
			}
			if r.rep.Rejected != want || int64(len(r.rejects)) != want {
				t.Errorf("%d rejected, %d reject lines; want %d", r.rep.Rejected, len(r.rejects), want)
			}
			all := run(t, Options{From: tt.from, Branches: BranchesAll}, samples+tt.file)
			if int64(len(all.recs)) != tt.allRecords {
				t.Errorf("--branches all: %d records, want %d", len(all.recs), tt.allRecords)
			}
			for _, rec := range r.recs {
				for i, turn := range rec.Conversations {
					switch turn.From {
					case pipeline.RoleHuman, pipeline.RoleGPT, pipeline.RoleSystem, RoleFunctionCall, RoleObservation:
					default:
						t.Errorf("%s turn %d: role %q", rec.ID, i, turn.From)
					}
				}
			}
		})
	}
}

func ids(recs []*pipeline.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

func values(r *pipeline.Record) []string {
	var out []string
	for _, t := range r.Conversations {
		out = append(out, t.From+": "+t.Value)
	}
	return out
}

func TestBranches(t *testing.T) {
	const tree = samples + "chatgpt/librechat_chatgpt-tree.json"
	const id = "d5dc5307-6807-41a0-8b04-4acee626eeb7"
	active := run(t, Options{From: FromChatGPT}, tree)
	if len(active.recs) != 1 || active.recs[0].ID != id {
		t.Fatalf("active: %v", ids(active.recs))
	}
	// The active path ends with the joke (the edited prompt "hi again").
	v := values(active.recs[0])
	if v[2] != "human: hi again" || !strings.HasPrefix(v[len(v)-1], "gpt: Sure, here's one for you") {
		t.Errorf("active path: %q", v)
	}
	if active.details.BranchPoints != 2 {
		t.Errorf("branch points %d, want 2", active.details.BranchPoints)
	}
	all := run(t, Options{From: FromChatGPT, Branches: BranchesAll}, tree)
	// Three leaves: the original prompt's story, and the edited prompt's
	// two regenerated jokes, which are the same text: one record.
	if got := ids(all.recs); strings.Join(got, ",") != id+"#b0,"+id+"#b1" {
		t.Fatalf("all: %v", got)
	}
	for i, r := range all.recs {
		bo, _ := r.StringField("branch_of")
		act, _ := r.Field("active")
		if bo != id || string(act) != []string{"false", "true"}[i] {
			t.Errorf("%s: branch_of %q active %s", r.ID, bo, act)
		}
	}
	if v := values(all.recs[0]); v[2] != "human: so cool bro" || v[4] != "human: tell me a story" {
		t.Errorf("b0: %q", v)
	}
	if all.details.Branches != 2 || all.rep.Stage(StageName).Emitted != 2 || all.rep.Stage(StageName).Out != 1 {
		t.Errorf("branches %d, stage %+v", all.details.Branches, all.rep.Stage(StageName))
	}

	// The real export: 4 branch points (regenerated answers); 3 give a
	// record of their own, the fourth's other answer is empty.
	real := run(t, Options{From: FromChatGPT, Branches: BranchesAll, Tools: "drop"}, samples+"chatgpt/pkuppens_real_export_2023-06_conversations.json")
	if real.details.BranchPoints != 4 || len(real.recs) != 195 || real.details.Branches != 6 {
		t.Errorf("real export: %d branch points, %d records, %d branches", real.details.BranchPoints, len(real.recs), real.details.Branches)
	}
	// longest: the edited prompt's path (6 turns) ties the story's; the
	// active one wins the tie.
	longest := run(t, Options{From: FromChatGPT, Branches: BranchesLongest}, tree)
	if len(longest.recs) != 1 || values(longest.recs[0])[2] != "human: hi again" {
		t.Errorf("longest: %v", longest.recs)
	}
	// mitkury: the edited prompt is a dead end without an answer.
	m := run(t, Options{From: FromChatGPT, Branches: BranchesLongest}, samples+"chatgpt/mitkury_example-conversation_branch.json")
	if v := values(m.recs[0]); len(v) != 4 || !strings.HasPrefix(v[2], "human: How do I write a function in JavaScript") {
		t.Errorf("mitkury longest: %q", v)
	}
}

func TestRolesAndContent(t *testing.T) {
	ci := run(t, Options{From: FromChatGPT}, samples+"chatgpt/chatgpt2graph_code_interpreter.json")
	r := ci.recs[0]
	// Its custom instructions are empty: no system turn.
	if r.Conversations[0].From != pipeline.RoleHuman || ci.details.SystemTurns != 0 {
		t.Errorf("empty custom instructions: first turn %q, %d system turns", r.Conversations[0].From, ci.details.SystemTurns)
	}
	custom := filepath.Join(t.TempDir(), "custom.json")
	os.WriteFile(custom, []byte(`{"id":"ci","mapping":{"r":{"children":["s"]},`+
		`"s":{"parent":"r","children":["u"],"message":{"author":{"role":"system"},"content":{"content_type":"text","parts":[""]},"metadata":{"is_visually_hidden_from_conversation":true,"is_user_system_message":true,"user_context_message_data":{"about_user_message":"I teach.","about_model_message":"Be brief."}}}},`+
		`"u":{"parent":"s","children":["a"],"message":{"author":{"role":"user"},"content":{"content_type":"text","parts":["hi"]}}},`+
		`"a":{"parent":"u","children":[],"message":{"author":{"role":"assistant"},"content":{"content_type":"text","parts":["hello"]}}}}}`), 0o644)
	cr := run(t, Options{From: FromChatGPT}, custom)
	if got := strings.Join(values(cr.recs[0]), "|"); got != "system: I teach.\n\nBe brief.|human: hi|gpt: hello" {
		t.Errorf("custom instructions: %q", got)
	}
	var call, obs *pipeline.Turn
	for i := range r.Conversations {
		t := &r.Conversations[i]
		if t.From == RoleFunctionCall && call == nil {
			call = t
		}
		if t.From == RoleObservation && obs == nil {
			obs = t
		}
	}
	if call == nil || !strings.HasPrefix(call.Value, `{"name":"python","arguments":"`) {
		t.Errorf("function_call: %+v", call)
	}
	if obs == nil || len(obs.Fields) != 1 || obs.Fields[0].Key != "name" || string(obs.Fields[0].Value) != `"python"` {
		t.Errorf("observation: %+v", obs)
	}
	if model := r.Model(); model == "" {
		t.Error("no model from model_slug")
	}
	if ct, ok := r.Field("create_time"); !ok || len(ct) == 0 {
		t.Error("no create_time")
	}
	// --tools drop: no tool turns, and the answers around them are joined.
	drop := run(t, Options{From: FromChatGPT, Tools: "drop"}, samples+"chatgpt/chatgpt2graph_code_interpreter.json")
	for _, turn := range drop.recs[0].Conversations[1:] {
		if turn.From != pipeline.RoleHuman && turn.From != pipeline.RoleGPT {
			t.Errorf("--tools drop left a %s turn", turn.From)
		}
	}
	for i := 2; i < len(drop.recs[0].Conversations); i++ {
		if drop.recs[0].Conversations[i].From == drop.recs[0].Conversations[i-1].From {
			t.Errorf("turns %d and %d have the same role", i-1, i)
		}
	}
	if drop.details.ToolsDropped != 22 || drop.details.ToolTurns != 0 {
		t.Errorf("tools dropped %d, tool turns %d", drop.details.ToolsDropped, drop.details.ToolTurns)
	}

	// Reasoning: dropped by default, kept in "reasoning" on request.
	const th = samples + "chatgpt/pionxzh_fixture_thinking-summaries.json"
	plain := run(t, Options{From: FromChatGPT}, th)
	if got := values(plain.recs[0]); strings.Join(got, "|") != "human: question 1|gpt: answer 1|human: question 2|gpt: answer 2" {
		t.Errorf("thinking: %q", got)
	}
	if plain.details.Reasoning != 4 {
		t.Errorf("reasoning %d, want 4", plain.details.Reasoning)
	}
	keep := run(t, Options{From: FromChatGPT, KeepReasoning: true}, th)
	ans := keep.recs[0].Conversations[1]
	if len(ans.Fields) != 1 || ans.Fields[0].Key != "reasoning" || !bytes.Contains(ans.Fields[0].Value, []byte("summary 1\\nthought 1")) ||
		!bytes.Contains(ans.Fields[0].Value, []byte("summary 5")) {
		t.Errorf("kept reasoning: %+v", ans.Fields)
	}

	// Images: pointers listed with their turn.
	img := run(t, Options{From: FromChatGPT}, samples+"chatgpt/pionxzh_fixture_image-generation.json")
	raw, _ := img.recs[0].Field("images")
	var images []image
	if err := json.Unmarshal(raw, &images); err != nil || len(images) != 5 || images[0].Pointer != "sediment://file_1" || images[0].Turn != 0 {
		t.Errorf("images: %s", raw)
	}
	if img.details.HiddenDropped == 0 {
		t.Error("hidden messages were not dropped")
	}

	// 2025 custom instructions (user_editable_context) become system.
	mod := run(t, Options{From: FromChatGPT}, samples+"chatgpt/librechat_chatgpt-modern-export.json")
	if mod.details.SystemTurns != 1 {
		t.Errorf("user_editable_context: %d system turns", mod.details.SystemTurns)
	}
	if no := run(t, Options{From: FromChatGPT, NoSystem: true}, samples+"chatgpt/librechat_chatgpt-modern-export.json"); no.details.SystemTurns != 0 {
		t.Errorf("--no-system kept %d", no.details.SystemTurns)
	}
}

func TestOtherFormats(t *testing.T) {
	cl := run(t, Options{From: FromClaude}, samples+"claude/yanndebray_claude_sample_conversations.json")
	c0 := cl.recs[0]
	if c0.ID != "11111111-1111-1111-1111-111111111111" || c0.Conversations[1].From != pipeline.RoleGPT || c0.Conversations[2].From != RoleFunctionCall {
		t.Errorf("claude: %q", values(c0))
	}
	if !strings.HasPrefix(c0.Conversations[2].Value, `{"name":"artifacts","arguments":{"id":"product-table"`) {
		t.Errorf("claude tool_use: %s", c0.Conversations[2].Value)
	}
	snap := run(t, Options{From: FromClaude}, samples+"claude/searchts_claude_share_snapshot.json")
	if v := values(snap.recs[0]); len(v) != 2 || v[0] != "human: Can you write a fibonacci function in Python?" {
		t.Errorf("snapshot order: %q", v)
	}
	ow := run(t, Options{From: FromOpenWebUI}, samples+"other/librechat_openwebui-export.json")
	if v := values(ow.recs[0]); strings.Join(v, "|") != "human: What is 15 * 17?|gpt: 255" {
		t.Errorf("openwebui reasoning: %q", v)
	}
	if v := values(ow.recs[1]); len(v) != 3 || v[1] != `observation: "Paris: 18C, rain"` {
		t.Errorf("openwebui tool: %q", v)
	}
	cb := run(t, Options{From: FromChatbotUI}, samples+"other/librechat_chatbotui-export.json")
	if cb.recs[0].Model() != "gpt-4-1106-preview" || cb.recs[0].Conversations[0].From != pipeline.RoleSystem {
		t.Errorf("chatbotui: model %q, %q", cb.recs[0].Model(), values(cb.recs[0])[0])
	}
	dolly := run(t, Options{From: FromDolly}, samples+"instruction/dolly15k_first9.jsonl")
	d0 := dolly.recs[0]
	if d0.ID != "dolly_0" || !strings.HasPrefix(d0.Conversations[0].Value, "When did Virgin Australia start operating?\nInput:\nVirgin Australia,") {
		t.Errorf("dolly: %s %q", d0.ID, d0.Conversations[0].Value)
	}
	if cat, _ := d0.StringField("category"); cat != "closed_qa" {
		t.Errorf("dolly category %q", cat)
	}
	if dolly.recs[1].Conversations[0].Value != "Which is a species of fish? Tope or Rope" {
		t.Errorf("dolly without context: %q", dolly.recs[1].Conversations[0].Value)
	}
}

func TestPages(t *testing.T) {
	share := run(t, Options{From: FromSharePage}, samples+"share_html/searchts_chatgpt_share_trimmed.html")
	r := share.recs[0]
	if r.ID != "67a4266c-dbcc-800f-9b92-f0a8a6480e16" || len(r.Conversations) != 6 || strings.TrimSpace(r.Conversations[0].Value) != "「き」から始まる7文字の言葉を挙げて" {
		t.Errorf("turbo-stream page: %s %q", r.ID, values(r))
	}
	for _, tt := range []struct {
		file, site         string
		humans, assistants int
	}{
		{"share_html/obsidianAIexporter_chatgpt_dom_chat-simple.html", "chatgpt", 5, 5},
		{"claude/obsidianAIexporter_claude_dom_chat-simple.html", "claude", 7, 7},
		{"other/obsidianAIexporter_gemini_dom_chat-simple.html", "gemini", 3, 3},
	} {
		res := run(t, Options{From: FromSharePage}, samples+tt.file)
		rec := res.recs[0]
		site, _ := rec.StringField("site")
		var h, a int
		for _, turn := range rec.Conversations {
			switch turn.From {
			case pipeline.RoleHuman:
				h++
				if strings.Contains(turn.Value, "<") || strings.Contains(turn.Value, "\n ") {
					t.Errorf("%s: human turn with markup or layout: %q", tt.file, turn.Value)
				}
			case pipeline.RoleGPT:
				a++
				// Assistant HTML is passed on with its Markdown wrapper, which
				// clean recognises as share-page HTML.
				if !strings.HasPrefix(turn.Value, "<div ") || !strings.Contains(turn.Value[:strings.Index(turn.Value, ">")], "markdown") {
					t.Errorf("%s: assistant turn is not the markdown container: %.80q", tt.file, turn.Value)
				}
			}
		}
		if site != tt.site || h != tt.humans || a != tt.assistants {
			t.Errorf("%s: site %q, %d human, %d gpt turns; want %s, %d, %d", tt.file, site, h, a, tt.site, tt.humans, tt.assistants)
		}
	}
}

func TestNextData(t *testing.T) {
	conv := `{"id":"nd1","title":"T","current_node":"b","mapping":{"r":{"id":"r","children":["a"]},` +
		`"a":{"id":"a","parent":"r","children":["b"],"message":{"author":{"role":"user"},"content":{"content_type":"text","parts":["hello"]}}},` +
		`"b":{"id":"b","parent":"a","children":[],"message":{"author":{"role":"assistant"},"content":{"content_type":"text","parts":["hi there"]},"metadata":{"model_slug":"gpt-4"}}}}}`
	page := `<html><head><script id="__NEXT_DATA__" type="application/json">{"props":{"pageProps":{"serverResponse":{"data":` + conv + `}}}}</script></head><body></body></html>`
	path := filepath.Join(t.TempDir(), "page.html")
	os.WriteFile(path, []byte(page), 0o644)
	r := run(t, Options{}, path)
	if len(r.recs) != 1 || r.recs[0].ID != "nd1" || strings.Join(values(r.recs[0]), "|") != "human: hello|gpt: hi there" || r.recs[0].Model() != "gpt-4" {
		t.Fatalf("__NEXT_DATA__ page: %v", r.recs)
	}
}

func TestChatHTMLExport(t *testing.T) {
	conv := `{"id":"x1","current_node":"b","mapping":{"r":{"id":"r","children":["a"]},` +
		`"a":{"id":"a","parent":"r","children":["b"],"message":{"author":{"role":"user"},"content":{"content_type":"text","parts":["2+2?"]}}},` +
		`"b":{"id":"b","parent":"a","children":[],"message":{"author":{"role":"assistant"},"content":{"content_type":"text","parts":["4"]}}}}}`
	page := `<html><head><script>
      var jsonData = [` + conv + `,` + strings.Replace(conv, `"x1"`, `"x2"`, 1) + `]
      function getConversationMessages(conversation) { return [] }
    </script></head><body><div id="root"></div></body></html>`
	path := filepath.Join(t.TempDir(), "chat.html")
	os.WriteFile(path, []byte(page), 0o644)
	r := run(t, Options{}, path)
	if !strings.Contains(r.log, "chose chatgpt-html") || strings.Join(ids(r.recs), ",") != "x1,x2" {
		t.Fatalf("chat.html: %q %v", r.log, ids(r.recs))
	}
}

func TestRejectDetails(t *testing.T) {
	r := run(t, Options{From: FromChatGPT}, samples+"chatgpt/looselips_degenerate_conversations.json")
	rj := r.rejects[0]
	if rj["id"] != "conv-employment" || rj["stage"] != StageName || rj["reason"] != string(ReasonNoContentType) ||
		rj["detail"] != "conversation 0 (id conv-employment): mapping.msg1.message.content.content_type: missing" {
		t.Errorf("reject: %v", rj)
	}
	if rec, _ := rj["record"].(map[string]any); rec["source"] == nil {
		t.Errorf("the rejected conversation is not in the reject line: %v", rj["record"])
	}
	c := run(t, Options{From: FromChatGPT}, samples+"chatgpt/librechat_chatgpt-citations.json")
	if d, _ := c.rejects[0]["detail"].(string); !strings.Contains(d, ".parent: node") || !strings.Contains(d, "the root is missing") {
		t.Errorf("citations reject: %v", d)
	}
	// Shapes the readers do not expect are rejects too, naming the field.
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`[1, {"id":"c","mapping":{"r":{"children":["x"]}}}, {"id":"d","mapping":{"a":{"parent":"b"},"b":{"parent":"a"}}},
		{"id":"e","mapping":{"r":{},"m":{"parent":"r","message":{"author":{"role":"user"},"content":{"content_type":"text","parts":"no"}}}}},
		{"id":"f","current_node":"zz","mapping":{"r":{}}}]`), 0o644)
	b := run(t, Options{From: FromChatGPT}, bad)
	want := []string{"bad-shape", "bad-tree", "missing-root", "bad-shape", "missing-root"}
	for i, w := range want {
		if i >= len(b.rejects) || b.rejects[i]["reason"] != w {
			t.Errorf("reject %d: %v, want %s", i, b.rejects, w)
		}
	}
	if d, _ := b.rejects[3]["detail"].(string); !strings.Contains(d, "mapping.m.message") || !strings.Contains(d, "parts") {
		t.Errorf("field not named: %s", d)
	}
}

func TestSyntaxErrorNamesConversation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broken.json")
	os.WriteFile(path, []byte(`[{"id":"a","mapping":{}}, {"id":"b", "mapping": {"x": }]`), 0o644)
	im, _ := New(Options{From: FromChatGPT})
	job := &pipeline.Job{Command: "import", Registry: pipeline.NewRegistry(pipeline.JSONFormats()...), Inputs: []string{path}, Sink: &sink{}}
	im.Prepare(job)
	_, err := job.Run(context.Background())
	var ie *pipeline.InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "broken.json") || !strings.Contains(err.Error(), "record 1") {
		t.Fatalf("err = %v", err)
	}
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestStreamsConversationByConversation(t *testing.T) {
	one := `{"id":"c","mapping":{"r":{"children":["a"]},"a":{"parent":"r","message":{"author":{"role":"user"},"content":{"content_type":"text","parts":["` + strings.Repeat("x", 1000) + `"]}}}}}`
	var b strings.Builder
	b.WriteString("[")
	for i := range 10000 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(one)
	}
	b.WriteString("]")
	cr := &countingReader{r: strings.NewReader(b.String())}
	src := newJSONSource(cr, "big.json", FromChatGPT, "", pipeline.DefaultMaxRecordBytes)
	for i := range 3 {
		el, err := src.Next()
		if err != nil || el.Index != int64(i) || el.Size != int64(len(one)) {
			t.Fatalf("element %d: %+v %v", i, el, err)
		}
	}
	// Three conversations of 1 KB read: nowhere near the 10 MB input.
	if cr.n > 64<<10 {
		t.Errorf("read %d bytes for 3 conversations of %d", cr.n, len(one))
	}
}

func TestSniff(t *testing.T) {
	for _, tt := range []struct{ head, want string }{
		{`[{"title": "x", "mapping": {}}]`, FromChatGPT},
		{"\xef\xbb\xbf  {\"mapping\":{}}", FromChatGPT},
		{`[{"uuid": "u", "chat_messages": []}]`, FromClaude},
		{`[{"chat": {"history": {"currentId": "a"}}}]`, FromOpenWebUI},
		{`{"version": 4, "history": [], "folders": []}`, FromChatbotUI},
		{`[{"instruction": "a", "input": "", "output": "b"}]`, FromAlpaca},
		{`{"instruction": "a", "context": "", "response": "b"}`, FromDolly},
		{`<html><script>var jsonData = []</script>`, FromChatGPTHTML},
		{`<!DOCTYPE html><html>`, FromSharePage},
		{`[{"conversations": []}]`, ""},
		{``, ""},
		{`hello`, ""},
	} {
		if got, why := Sniff([]byte(tt.head)); got != tt.want || why == "" {
			t.Errorf("Sniff(%q) = %q (%s), want %q", tt.head, got, why, tt.want)
		}
	}
}

func TestTurboStream(t *testing.T) {
	// Root object {"a": [1, "x"], "b": null, "c": <same as a>}.
	v, err := DecodeTurboStream([]byte(`[{"_1":2,"_5":-5,"_6":2},"a",[3,4],1,"x","b","c"]`), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(v)
	if string(got) != `{"a":[1,"x"],"b":null,"c":[1,"x"]}` {
		t.Errorf("decoded %s", got)
	}
	for _, bad := range []string{`[]`, `[[0]]`, `[{"_9":0}]`, `[{"_0":1},"k"]`, `[{"x":1}]`, `[[-99]]`, `{}`} {
		if _, err := DecodeTurboStream([]byte(bad), 1<<20); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// TestAlpacaOracle compares the Alpaca conversion with FastChat's
// convert_alpaca.py, run under Python on the FastChat sample (its
// transformers and numpy imports are unused and left out).
func TestAlpacaOracle(t *testing.T) {
	if _, err := os.Stat(oracle.Python); err != nil {
		oracle.Missing(t, "oracle unavailable: %s: %v", oracle.Python, err)
	}
	in, _ := filepath.Abs(samples + "instruction/fastchat_alpaca_data_cleaned_1000.json")
	dir := t.TempDir()
	want := filepath.Join(dir, "fastchat.json")
	const script = `
import json, sys
content = json.load(open(sys.argv[1], "r"))
new_content = []
for i, c in enumerate(content):
    if len(c["input"].strip()) > 1:
        q, a = c["instruction"] + "\nInput:\n" + c["input"], c["output"]
    else:
        q, a = c["instruction"], c["output"]
    new_content.append(
        {
            "id": f"alpaca_{i}",
            "conversations": [
                {"from": "human", "value": q},
                {"from": "gpt", "value": a},
            ],
        }
    )
json.dump(new_content, open(sys.argv[2], "w"), indent=2, ensure_ascii=False)
`
	if out, err := exec.Command(oracle.Python, "-c", script, in, want).CombinedOutput(); err != nil {
		t.Fatalf("python: %v %s", err, out)
	}
	got := filepath.Join(dir, "ours.json")
	im, _ := New(Options{From: FromAlpaca})
	job := &pipeline.Job{Command: "import", Registry: pipeline.NewRegistry(pipeline.JSONFormats()...), Inputs: []string{in}, Output: got}
	im.Prepare(job)
	if _, err := job.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(want)
	b, _ := os.ReadFile(got)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatalf("import differs from convert_alpaca.py (%d vs %d bytes)", len(b), len(a))
	}
	// The sample holds inputs of one character, which FastChat drops.
	var recs []struct{ Conversations []struct{ Value string } }
	json.Unmarshal(a, &recs)
	with := 0
	for _, r := range recs {
		if strings.Contains(r.Conversations[0].Value, "\nInput:\n") {
			with++
		}
	}
	if with == 0 {
		t.Error("no record with an input")
	}
}

func TestPyStrip(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"  a ", "a"}, {"\x1c\x1fa\x1e", "a"}, {"\u3000a\u2009", "a"}, {"\u200ba", "\u200ba"},
	} {
		if got := pyStrip(tt.in); got != tt.want {
			t.Errorf("pyStrip(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{{From: "json"}, {Branches: "some"}, {Tools: "maybe"}} {
		if _, err := New(o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

// TestBranchesBounded checks that --branches all refuses, as too-large, a
// conversation whose paths together hold more text than the record limit
// (a chain of prompts, each with a regenerated answer: every path repeats
// the whole start), instead of building them all, and that the active
// branch of the same conversation imports.
func TestBranchesBounded(t *testing.T) {
	const prompts = 400
	mapping := map[string]any{"root": map[string]any{"id": "root", "children": []string{"u0"}}}
	parent := "root"
	for i := range prompts {
		u, a, b := fmt.Sprintf("u%d", i), fmt.Sprintf("a%d", i), fmt.Sprintf("b%d", i)
		next := []string{}
		if i+1 < prompts {
			next = []string{fmt.Sprintf("u%d", i+1)}
		}
		msg := func(id, role, text string) map[string]any {
			return map[string]any{"id": id, "author": map[string]any{"role": role},
				"content": map[string]any{"content_type": "text", "parts": []string{text}}}
		}
		mapping[u] = map[string]any{"id": u, "parent": parent, "children": []string{a, b}, "message": msg(u, "user", strings.Repeat("question ", 20))}
		mapping[a] = map[string]any{"id": a, "parent": u, "children": next, "message": msg(a, "assistant", strings.Repeat("answer ", 20))}
		mapping[b] = map[string]any{"id": b, "parent": u, "children": []string{}, "message": msg(b, "assistant", "regenerated")}
		parent = a
	}
	conv := map[string]any{"id": "spine", "title": "t", "mapping": mapping, "current_node": fmt.Sprintf("a%d", prompts-1)}
	data, err := json.Marshal([]any{conv})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "spine.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	// 401 paths of up to 800 turns: about 30 MB of text, over the 1 MB limit.
	res := runLimit(t, Options{From: FromChatGPT, Branches: BranchesAll}, 1<<20, path)
	if len(res.recs) != 0 || res.rep.Rejected != 1 {
		t.Fatalf("--branches all: %d records, %d rejected; want the conversation rejected", len(res.recs), res.rep.Rejected)
	}
	if n := res.rep.Stage(StageName).Rejected[pipeline.ReasonTooLarge]; n != 1 {
		t.Errorf("rejects %v, want one too-large", res.rep.Stage(StageName).Rejected)
	}
	res = runLimit(t, Options{From: FromChatGPT}, 1<<20, path)
	if len(res.recs) != 1 || len(res.recs[0].Conversations) != 2*prompts {
		t.Errorf("--branches active: %d records", len(res.recs))
	}
}

// TestInvalidUTF8Rejected checks that a conversation holding bytes that are
// not UTF-8 is rejected as invalid-utf8, as every other reader does, rather
// than imported with the bytes replaced, and that its reject is written.
func TestInvalidUTF8Rejected(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.json")
	data := "[{\"instruction\":\"hi \xff there\",\"input\":\"\",\"output\":\"ok\"},{\"instruction\":\"fine\",\"input\":\"\",\"output\":\"yes\"}]"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	res := run(t, Options{From: FromAlpaca}, path)
	if len(res.recs) != 1 || res.recs[0].ID != "alpaca_1" {
		t.Fatalf("%d records kept, want alpaca_1 only", len(res.recs))
	}
	if got := res.rejected()[pipeline.ReasonInvalidUTF8]; got != 1 || len(res.rejects) != 1 {
		t.Errorf("rejected %v, %d rejects lines; want one invalid-utf8", res.rejected(), len(res.rejects))
	}
}

// TestChildrenListShort checks that a node naming a parent whose children
// list omits it still belongs to the tree, the same way in every branch
// mode, and that a child listed under a node it does not name as its
// parent is a bad tree.
func TestChildrenListShort(t *testing.T) {
	msg := func(id, role, text string) map[string]any {
		return map[string]any{"id": id, "author": map[string]any{"role": role},
			"content": map[string]any{"content_type": "text", "parts": []string{text}}}
	}
	write := func(mapping map[string]any, current string) string {
		data, err := json.Marshal([]any{map[string]any{"id": "c", "mapping": mapping, "current_node": current}})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "c.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	short := write(map[string]any{
		"root": map[string]any{"id": "root", "children": []string{"q"}},
		"q":    map[string]any{"id": "q", "parent": "root", "children": []string{}, "message": msg("q", "user", "question")},
		"x":    map[string]any{"id": "x", "parent": "q", "children": []string{}, "message": msg("x", "assistant", "answer")},
	}, "x")
	for _, b := range []string{BranchesActive, BranchesAll, BranchesLongest} {
		res := run(t, Options{From: FromChatGPT, Branches: b}, short)
		if len(res.recs) != 1 || len(res.recs[0].Conversations) != 2 || res.recs[0].Conversations[1].Value != "answer" {
			t.Errorf("--branches %s: %d records %v, want one of question and answer", b, len(res.recs), res.recs)
		}
	}
	crossed := write(map[string]any{
		"root": map[string]any{"id": "root", "children": []string{"q", "x"}},
		"q":    map[string]any{"id": "q", "parent": "root", "children": []string{}, "message": msg("q", "user", "question")},
		"x":    map[string]any{"id": "x", "parent": "q", "children": []string{}, "message": msg("x", "assistant", "answer")},
	}, "x")
	if res := run(t, Options{From: FromChatGPT}, crossed); len(res.recs) != 0 || res.rejected()[ReasonBadTree] != 1 {
		t.Errorf("a child listed under another parent: %d records, rejects %v; want bad-tree", len(res.recs), res.rejected())
	}
}
