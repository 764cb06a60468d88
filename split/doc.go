// Package split cuts conversations into segments that fit a trainer's token
// limit, the way FastChat's split_long_conversation.py prepared the Vicuna
// training data, without losing anything silently.
//
// # Rules (FastChat's, exactly)
//
// A conversation is first cut to an even number of turns (a trailing
// unanswered turn is dropped and counted in the report); one with fewer
// than two turns is rejected ([ReasonTooShort]). Its turns are then walked
// in (human, gpt) pairs, accumulating each pair's length; when adding a
// pair would make the open segment longer than MaxLength, the open segment
// is emitted and a new one starts at that pair; at the last pair the open
// segment is emitted. Each segment's id is ORIGINALID_STARTINDEX, where
// STARTINDEX is the index of its first turn; a record without an id uses
// its 0-based position among all input records of the run (Out.Seq) as
// ORIGINALID, so the third record of a run without ids gives "2_0",
// "2_4", .... Segments are then checked: an empty one is dropped
// ([ReasonEmptySegment]), one whose roles do not alternate human, gpt from
// its first turn is dropped ([ReasonInvalidRoles]; a "system" turn, two
// human turns in a row...). The roles do not change the cutting: FastChat
// counts a wrong pair like any other.
//
// Segments keep every other field of their record ("model", ...) in order.
// With TokenCounts each kept segment gets "n_tokens": its length under the
// chosen counting.
//
// # FastChat's quirks, and the default mode
//
// FastChat's loop has three traced quirks. A pair longer than the limit
// becomes a segment of its own (trainers truncate it); with DropOversize
// such a segment is rejected instead ([ReasonOversize]). When the first
// pair alone is over the limit, FastChat emits an empty segment first,
// which its filter drops. When the last pair is the one that overflows,
// FastChat emits the open segment and never the last pair: it is lost.
//
// [ModeDefault] emits that last pair as a segment of its own, and does not
// make the empty segment. [ModeFastChat] reproduces FastChat's output
// exactly, for rebuilding the original Vicuna data, but still reports what
// FastChat dropped: the lost pair is a rejected part ([ReasonLostPair]) and
// the empty segment is rejected ([ReasonEmptySegment]). Otherwise both
// modes give identical segments.
//
// # Counting
//
// [CountFastChat] (the default) is FastChat's count: a turn is
// len(tokens(value)) + 1 (FastChat's tokenizer call adds BOS) + 6, a pair
// the sum of its two turns, a segment the sum of its pairs. It ignores the
// chat template, so a segment of 2048 by this count is longer for the
// trainer.
//
// [CountTemplate] counts the exact tokens the trainer sees for a segment
// under a chat template of package chat, the same templates tokenize
// applies: "vicuna_v1.1" (FastChat's train.py, the default), "llama-2",
// "chatml", or "auto", the model's own Jinja chat template from the
// tokenizer_config.json named by Options.TemplateConfig. The segment's
// turns are rendered with the template's default system message, roles by
// position (user, assistant, user, ...). The vicuna_v1.1 prompt is
// FastChat's Conversation.get_prompt (SeparatorStyle.ADD_COLON_TWO): the
// system message and " ", then for each turn "USER: " + value + " " or
// "ASSISTANT: " + value + "</s>" (an empty value gives "USER:" or
// "ASSISTANT:" alone, with no separator). The text is cut at the special
// tokens the template placed that are control tokens of the tokenizer
// ("</s>" for vicuna_v1.1 with LLaMA): each is one token, and the text
// between two of them is encoded as one text (with its own SentencePiece
// dummy prefix), as Hugging Face's Llama tokenizer does with the text
// around special tokens. A named template's segment adds 1 for the BOS
// the trainer's tokenizer adds; a Jinja template writes its own bos_token
// (transformers encodes its rendering with add_special_tokens=False). The
// loop is the same, so no segment of more than one pair exceeds MaxLength
// tokens for the trainer (set MaxLength to its model_max_length). A
// conversation the template refuses (a Jinja template's raise_exception)
// is rejected whole ([ReasonTemplate]).
//
// Text is always text: "</s>" or "<s>" typed inside a turn are counted as
// the characters they are. (A Hugging Face tokenizer that splits special
// tokens out of the text would give them fewer tokens, so the count here
// is never lower than the trainer's.)
//
// # Differences from FastChat's script that do not change segments
//
// FastChat writes only id, model (adding "model": "" when absent) and
// conversations; this package keeps every field and adds none. FastChat
// drops records and turns without a word; here every record or segment
// that is not emitted is a reject with a reason, and the trailing turns cut
// off are counted in the report ([Details]).
package split
