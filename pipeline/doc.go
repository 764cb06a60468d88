// Package pipeline holds what every sharegpt stage shares: the conversation
// record, streaming readers and writers, and an ordered parallel runner.
//
// A [Record] is one conversation: an id, its turns, and every other member
// of the input kept as raw JSON in input order, so records pass through any
// stage without losing what the stage does not know. ShareGPT records
// ("conversations" of {"from","value"}) and OpenAI-style records
// ("messages" of {"role","content"}) are both read; roles user, assistant
// and system map to human, gpt and system.
//
// Inputs are read element by element, never whole: a JSON array (the form
// ShareGPT and FastChat use), a stream of JSON objects, or JSONL, each
// optionally gzip or zstd compressed (recognised by magic bytes). A
// [Registry] maps file extensions to [Format]s; [Registry.Open] returns a
// [Source] of raw [Element]s, which workers decode with [DecodeRecord].
// Broken structure is a [SyntaxError] naming the byte offset and record
// index; a record that is not valid JSON, not valid UTF-8, of the wrong
// shape or over the size limit is rejected with a [Reason] instead.
//
// Writers produce JSONL (compact, non-ASCII unescaped) or a JSON array
// byte for byte as Python's json.dump(indent=2, ensure_ascii=False) writes
// it. File outputs are written under a temporary name and renamed on
// [FileWriter.Commit], so an interrupted run leaves no finished-looking file.
//
// A [Runner] moves records through [Stage]s on several goroutines with
// bounded memory, keeps input order, runs [OrderedStage]s one record at a
// time in order, writes rejects with their stage and reason, and returns a
// [Report] whose counts add up: every input record is kept or rejected.
package pipeline
