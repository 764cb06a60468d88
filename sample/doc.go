// Package sample takes a seeded sample of conversations the way FastChat's
// fastchat/data/sample.py does, so that the same input, window and seed
// give the same records in the same order.
//
// FastChat loads the whole JSON list, shuffles it with numpy
// (np.random.seed(42); np.random.shuffle), then walks positions
// begin..min(end, n)-1 of the shuffled list and keeps each conversation
// whose turn values, concatenated, are at most max_length characters
// (Unicode code points, as Python's len counts them); --keep-order skips
// the shuffle. Several inputs are sampled as one list, as if merged first.
//
// The shuffle needs the number of records, n, before the first record can
// be placed, so a shuffled sample makes two passes and never holds records
// in memory:
//
//  1. count the input's records (stdin is first copied to an unlinked
//     temporary file, so it can be read twice) and compute numpy's
//     permutation of 0..n-1 (package internal/nprand): 4 bytes per input
//     record, released before the second pass;
//  2. stream the records through the runner: a record at a sampled
//     position that passes the length cap is encoded into a temporary
//     spool file (16 bytes of index per sampled position); all others are
//     rejected with a reason. After the pass the spool is written to the
//     output in shuffled order.
//
// With KeepOrder the sample is one streaming pass with no spool.
//
// Every input record is kept or rejected: not-sampled (outside the
// window), too-long (over the length cap), or a read reason.
package sample
