package cmd

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/sharegpt/sharegpt/importer"
)

func newImportCmd(ios *IOStreams) *cobra.Command {
	var f ioFlags
	var o importer.Options
	c := &cobra.Command{
		Use:   "import [INPUT...]",
		Short: "Turn ChatGPT, Claude, Open WebUI and Chatbot UI exports, saved share pages and Alpaca/Dolly sets into records",
		Long: `Import reads chat exports and writes sharegpt records, the start of
import | clean | split | tokenize.

--from names the input format (auto, the default, sniffs each input and says on
stderr what it chose):
  chatgpt       ChatGPT "Export data" conversations.json (an array, or one conversation)
  chatgpt-html  the export's chat.html (var jsonData = [...])
  share-page    a saved chatgpt.com/share page (__NEXT_DATA__ or the 2025
                turbo-stream), or the DOM of a ChatGPT, Claude or Gemini chat page;
                assistant turns from the DOM stay HTML for clean to convert
  claude        Claude export (chat_messages) or share snapshot
  openwebui     Open WebUI export (message tree with currentId)
  chatbotui     Chatbot UI export ({"history": [...]})
  alpaca        instruction/input/output, as FastChat's convert_alpaca.py (ids alpaca_N)
  dolly         instruction/context/response (context is Alpaca's input; ids dolly_N)

Trees (ChatGPT, Open WebUI): --branches active (root to the current node),
all (every root-to-leaf path: ID#b0, ID#b1... with branch_of and active: edited
prompts and regenerated answers become extra data) or longest.

Roles: human, gpt, system (custom instructions, kept when they have text;
--no-system drops them), function_call (a tool call: {"name","arguments"}) and
observation (a tool's result, with "name"); --tools drop drops the tool turns.
Reasoning (ChatGPT thoughts, Claude thinking) is dropped unless
--keep-reasoning, which puts it in the next gpt turn's "reasoning" member.
Image pointers go to the record's "images" member. Hidden messages are dropped
unless --keep-hidden.

A JSON export is decoded one conversation at a time. Reject reasons (stage
import): no-mapping, missing-root, bad-tree, no-content-type, no-turns,
bad-shape; the detail names the conversation (index and id) and the field.`,
		Example: `  sharegpt import conversations.json -o chats.jsonl
  sharegpt import --from chatgpt --branches all --tools drop conversations.json | sharegpt clean -o clean.json
  sharegpt import saved-share-page.html chat.html -o chats.jsonl
  sharegpt import --from alpaca alpaca_data.json -o alpaca.json`,
		RunE: func(c *cobra.Command, args []string) error {
			o.Log = ios.ErrOut
			imp, err := importer.New(o)
			if err != nil {
				return usageError(err)
			}
			job, err := f.job("import", args, ios)
			if err != nil {
				return err
			}
			imp.Prepare(job)
			_, err = f.run(c.Context(), job, ios)
			return err
		},
	}
	f.bind(c, true)
	fl := c.Flags()
	fl.StringVar(&o.From, "from", importer.FromAuto, "input format: "+strings.Join(importer.Froms, ", "))
	fl.StringVar(&o.Branches, "branches", importer.BranchesActive, "conversation trees: active, all or longest")
	fl.StringVar(&o.Tools, "tools", "keep", "tool calls and results: keep (function_call, observation) or drop")
	fl.BoolVar(&o.KeepReasoning, "keep-reasoning", false, `keep reasoning in the next gpt turn's "reasoning" member`)
	fl.BoolVar(&o.KeepHidden, "keep-hidden", false, "keep messages ChatGPT hides from the conversation")
	fl.BoolVar(&o.NoSystem, "no-system", false, "drop system turns (custom instructions, system prompts)")
	for _, name := range []string{"input-format", "input-style"} {
		fl.MarkHidden(name) // --from chooses how inputs are read
	}
	return c
}
