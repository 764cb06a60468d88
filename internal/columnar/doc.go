// Package columnar reads and writes Apache Arrow IPC (stream and file) and
// Parquet files, whole or in shards.
//
// Two layers:
//
//   - Tables of any Arrow schema: [Create] returns a [TableWriter] that
//     takes rows (appended to its builders, then [TableWriter.EndRow]) or
//     whole record batches, writes them in batches with bounded memory, and
//     splits the output into shards named the Hugging Face way
//     (PREFIX-00000-of-00008.parquet) that appear under their final names only
//     on [TableWriter.Commit]; an aborted run leaves no finished-looking file.
//     [NewEncoder] writes batches of one schema to one stream.
//   - Conversation records: [Formats] returns the "parquet", "arrow" and
//     "arrow-stream" formats for the pipeline's registry, so every command
//     reads and writes them. [RecordSchema] is their schema: id,
//     conversations (list of struct{from, value}), the fields stages add
//     (model, lang, n_tokens, augmented_from, augmentation) as nullable
//     columns, "extra" (the other members, a JSON object) and "_layout"
//     (member order and turn members, only for records that need it), so a
//     record comes back from Parquet exactly as it went in.
//
// Parquet files are written with a REQUIRED root (arrow/go v15 writes it
// REPEATED by default, which strict readers refuse), zstd compression by
// default, the Arrow schema stored in the footer, and the Hugging Face
// "huggingface" schema metadata, so datasets loads them with their features.
// Readers recognise every format by its magic bytes; Parquet and the Arrow
// file format need random access, which the pipeline provides (stdin and
// compressed input are copied to a temporary file first).
//
// A damaged file is an input error, never a panic or an allocation of what
// a damaged length claims: the sources name the row group, column or batch
// (see guard.go for how the arrow library is kept from panicking on
// goroutines of its own and from allocating declared sizes). A row whose
// values are over ReadOptions.MaxRecordBytes is rejected as too-large
// before it is built, as a JSONL line is.
package columnar
