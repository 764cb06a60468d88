// Package importer turns chat exports into sharegpt records: the front door
// of the pipeline, so that `sharegpt import … | sharegpt clean | …` is the
// whole path from a user's own data to training data.
//
// Formats (Options.From; "auto" sniffs the first 64 KiB of each input and
// says on Options.Log what it chose):
//
//   - chatgpt: ChatGPT "Export data" conversations.json, an array of
//     conversations or one conversation object. Each conversation's mapping
//     is a tree; Options.Branches picks the active path (root to
//     current_node, the default), every root-to-leaf path ("all": records
//     ID#b0, ID#b1… with branch_of and active) or the longest one.
//   - chatgpt-html: the export's chat.html, whose `var jsonData = [...]`
//     holds the same conversations.
//   - share-page: a saved page, read with goquery: a 2023-24 chatgpt.com
//     share page (__NEXT_DATA__ JSON), a 2025 one (React Router
//     turbo-stream payload, decoded), else the DOM of a ChatGPT
//     ([data-message-author-role]), Claude or Gemini page. Assistant turns
//     from the DOM are passed on as HTML, for clean's converter.
//   - claude: Claude exports (chat_messages with text or content[] blocks:
//     text, thinking, tool_use, tool_result) and share snapshots.
//   - openwebui: Open WebUI exports (history.messages tree, currentId).
//   - chatbotui: Chatbot UI exports ({"history": [...]}).
//   - alpaca, dolly: instruction sets, converted as FastChat's
//     convert_alpaca.py does (ids alpaca_N, dolly_N; Dolly's context is
//     Alpaca's input).
//
// Roles: user → human, assistant → gpt, system (kept when it has text:
// custom instructions), tool calls → function_call (value
// {"name","arguments"}), tool results → observation (turn member "name").
// Consecutive human or gpt turns (an answer cut by a dropped tool call) are
// joined with a blank line. Reasoning (thoughts, thinking blocks) goes to
// the next gpt turn's "reasoning" member with Options.KeepReasoning, else
// it is dropped; "Thought for 12s" recaps always are. Image pointers of
// multimodal messages are listed in the record's "images" member.
//
// Streaming: a JSON input is decoded conversation by conversation with
// encoding/json's Token/More, never whole, so memory is bounded by a small
// multiple of one conversation (a page is one document and is read whole,
// up to ReadOptions.MaxRecordBytes). Each conversation travels through the
// pipeline runner as a carrier record (its format and source JSON), and the
// import stage converts it on the runner's workers: every conversation is
// written (as one record, or several with Branches "all") or rejected with
// a reason (see the Reason constants), the detail naming the conversation
// (index and id) and the field. A JSON input whose structure breaks stops
// the run with an error naming the file, byte offset and conversation.
//
// Wiring (what cmd/import.go does):
//
//	job, _ := ioflags.job("import", args, ios) // a pipeline.Job
//	imp, err := importer.New(opts)
//	imp.Prepare(job) // import formats, the import stage, report details
//	job.Run(ctx)
package importer
