// Package dedup finds exact and near-duplicate conversations, at scale,
// and reports which kept record each removed one duplicated.
//
// # What is compared
//
// A key ([Key]) picks the text: the whole conversation (every turn,
// each preceded by a marker naming its role, so turn boundaries and roles
// count), the first human turn (the first turn when none is human), all
// human turns, all gpt turns, or the id. With normalisation (the default)
// the text is put in Unicode NFC, case folded (full folding: "Straße" and
// "STRASSE" are equal), white space runs are collapsed to one space and
// trimmed; optionally punctuation and symbols become spaces. A record
// with nothing to compare (no such turn, only empty text, no id) is
// nobody's duplicate.
//
// # Exact and near duplicates
//
// Exact mode hashes the normalised key (64-bit, fixed seed) and joins
// records with equal hashes. Near mode (which also joins exact
// duplicates) shingles the key into runs of n words or n characters
// (characters for languages written without spaces), computes a MinHash
// signature of k permutations (k = 256 by default; h(x) = (a·x+b)>>32 on
// 32-bit shingle hashes, a strongly universal family, with fixed random
// a, b) and cuts it into b bands of r rows. Records sharing a band's hash
// are candidates; a candidate pair counts only if its estimated Jaccard
// similarity (the fraction of equal signature positions) is at least the
// threshold. Verified pairs and exact duplicates are joined by union-find
// into clusters.
//
// b and r are derived from the threshold t ([ChooseParams]): they
// minimise the sum of the false-positive area ∫₀ᵗ P(s) ds and the
// false-negative area ∫ₜ¹ (1-P(s)) ds with equal weights, where P(s) is
// the probability that a pair of similarity s is reported: becoming a
// candidate, 1-(1-s^r)^b, times passing verification, the upper tail of
// Binomial(k, s) at t·k. For k = 256: t = 0.7 gives 34 bands × 6 rows,
// t = 0.8 gives 25 × 10, t = 0.9 gives 15 × 17. The command prints the
// curve; the report holds it.
//
// # Keep policy
//
// In each cluster one record is kept: the first in input order, the
// longest (characters of all turns) or the one with most turns; ties go
// to the earliest. Decisions depend only on the records and their input
// positions, never on the number of workers. The others are rejected with
// reason "duplicate", related = the kept record's id, and a detail naming
// the estimated similarity to it (1 for exact duplicates), its input
// position and the cluster number.
//
// # Against another dataset
//
// Records of --against inputs are signed first and take part in the
// clusters but are never written. A cluster that holds one has every
// input member rejected with reason "duplicate-against", related = its
// first --against record (so a record that matches another input record
// that matches the test set goes too).
//
// # Passes and memory
//
// Duplicates need global state, so a run reads its inputs twice (stdin is
// spooled to an unlinked temporary file). Pass 1 ([Signer], parallel)
// stores a compact state per record, indexed by its input position:
// 32 bytes of fixed state (key hash, characters, turns, id offset and
// length, flags), in near mode the signature (4·k bytes) and the band
// hashes (8·b bytes), and the id's bytes. [Deduper.Resolve] then sorts
// the key hashes (exact duplicates) and, band by band, the band hashes
// (candidates), and adds per record the union-find parent, the cluster
// grouping and the decision (4 + 8 + 12 bytes) and one band's sort entry
// (16 bytes). That is [Deduper.BytesPerRecord]: 1296 bytes per record in
// near mode with the defaults (k = 256, 25 bands) and 72 bytes in exact
// mode, plus the id; 1 M conversations need about 1.3 GB. Pass 2
// ([Deduper.Filter], parallel) keeps or rejects each record as decided.
//
// Signatures and band hashes live in chunks of 4096 records allocated
// outside the Go heap (so the garbage collector neither scans them nor
// doubles them). With a memory limit ([Options.MemoryLimit]) the chunks
// that do not fit are spilled to unlinked files in [Options.TempDir] and
// read back with pread: band by band for the sort, and per candidate pair
// for verification. What stays in memory then is the fixed state, the id
// bytes and the resolve arrays (about 70 bytes per record plus the ids),
// so spilling bounds the dominant part of the state but not all of it.
//
// Within one LSH bucket a record is verified against at most the 64
// records before it that are not already in its cluster: huge buckets are
// templated text that is almost all one cluster.
package dedup
