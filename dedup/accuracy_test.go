package dedup

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sharegpt/sharegpt/pipeline"
)

// The accuracy benchmark: real conversations (sharegpt_v3_sample_1000)
// and real first prompts (first_turns_2978), each turned into a near
// duplicate by one edit of known kind and rate; the originals are each
// other's negatives. A pair is a true duplicate when the exact Jaccard
// similarity of its shingle sets (word 5-grams of the normalised text) is
// at least the threshold. Predicted pairs are the pairs of each reported
// cluster. Pairs counted: every (original, derived) pair, and every
// predicted pair (labelled by its exact similarity, so every false
// positive is counted); pairs of unrelated records that were not
// predicted are true negatives and not listed.

// baseRecords are the real records the benchmark edits: distinct by
// normalised conversation, at least minWords words.
func baseRecords(t testing.TB) []*pipeline.Record {
	t.Helper()
	tx := newTextor(&Options{Key: KeyConversation, Normalize: true, Shingle: ShingleWord, NGram: 5})
	seen := map[string]bool{}
	var out []*pipeline.Record
	for _, path := range []string{sample1000, firstTurns} {
		for i, r := range readJSONArray(t, path) {
			rec := pipeline.NewRecord(fmt.Sprintf("%s%d", filepath.Base(path)[:5], i), nil)
			for _, c := range r.Conversations {
				rec.Conversations = append(rec.Conversations, pipeline.Turn{From: c.From, Value: c.Value})
			}
			key, ok := tx.keyText(nil, rec)
			if !ok || seen[string(key)] || len(strings.Fields(string(key))) < 40 {
				continue
			}
			seen[string(key)] = true
			out = append(out, rec)
		}
	}
	return out
}

// edit is one kind of change with its rate.
type edit struct {
	kind string
	rate float64
}

var edits = []edit{
	{"delete", 0.005}, {"delete", 0.01}, {"delete", 0.02}, {"delete", 0.05},
	{"insert", 0.005}, {"insert", 0.01}, {"insert", 0.02}, {"insert", 0.05},
	{"substitute", 0.005}, {"substitute", 0.01}, {"substitute", 0.02}, {"substitute", 0.05},
	{"append-turns", 0}, {"truncate-turns", 0},
	{"whitespace-case", 0.1}, {"whitespace-case", 0.3},
}

// applyEdit returns a copy of rec changed by e, using vocab for new words
// and other for appended turns.
func applyEdit(rec *pipeline.Record, e edit, rng *rand.Rand, vocab []string, other *pipeline.Record) *pipeline.Record {
	c := rec.Clone()
	words := func(f func([]string) []string) {
		for i := range c.Conversations {
			c.Conversations[i].Value = strings.Join(f(strings.Fields(c.Conversations[i].Value)), " ")
		}
	}
	switch e.kind {
	case "delete":
		words(func(ws []string) []string {
			var out []string
			for _, w := range ws {
				if rng.Float64() >= e.rate {
					out = append(out, w)
				}
			}
			return out
		})
	case "insert":
		words(func(ws []string) []string {
			var out []string
			for _, w := range ws {
				if rng.Float64() < e.rate {
					out = append(out, vocab[rng.IntN(len(vocab))])
				}
				out = append(out, w)
			}
			return out
		})
	case "substitute":
		words(func(ws []string) []string {
			for i := range ws {
				if rng.Float64() < e.rate {
					ws[i] = vocab[rng.IntN(len(vocab))]
				}
			}
			return ws
		})
	case "append-turns":
		n := min(2, len(other.Conversations))
		c.Conversations = append(c.Conversations, other.Conversations[:n]...)
	case "truncate-turns":
		if len(c.Conversations) > 2 {
			c.Conversations = c.Conversations[:len(c.Conversations)-2]
		} else if len(c.Conversations) > 0 {
			v := strings.Fields(c.Conversations[0].Value)
			c.Conversations[0].Value = strings.Join(v[:len(v)*9/10], " ")
		}
	case "whitespace-case":
		for i := range c.Conversations {
			var b strings.Builder
			for j, w := range strings.Fields(c.Conversations[i].Value) {
				if j > 0 {
					switch r := rng.Float64(); {
					case r < e.rate/2:
						b.WriteString("  ")
					case r < e.rate:
						b.WriteString("\n\t")
					default:
						b.WriteByte(' ')
					}
				}
				switch r := rng.Float64(); {
				case r < e.rate/2:
					w = strings.ToUpper(w)
				case r < e.rate:
					_, n := utf8.DecodeRuneInString(w)
					w = strings.ToUpper(w[:n]) + w[n:]
				}
				b.WriteString(w)
			}
			c.Conversations[i].Value = b.String() + "\n"
		}
	}
	return c
}

// shingleSet is the exact set of a record's shingles.
func shingleSet(tx *textor, rec *pipeline.Record) map[uint32]struct{} {
	set := map[uint32]struct{}{}
	key, ok := tx.keyText(nil, rec)
	if ok {
		tx.shingles(key, func(x uint32) { set[x] = struct{}{} }, nil)
	}
	return set
}

func jaccard(a, b map[uint32]struct{}) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	inter := 0
	for x := range a {
		if _, ok := b[x]; ok {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

type prf struct{ tp, fp, fn int }

func (p prf) precision() float64 { return ratio(p.tp, p.tp+p.fp) }
func (p prf) recall() float64    { return ratio(p.tp, p.tp+p.fn) }
func (p prf) f1() float64 {
	pr, rc := p.precision(), p.recall()
	if pr+rc == 0 {
		return 0
	}
	return 2 * pr * rc / (pr + rc)
}
func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// TestAccuracy runs the benchmark and fails if near mode at 0.8 scores an
// F1 below 0.95 on the edits that keep the similarity at or above it.
func TestAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("accuracy benchmark: not in -short")
	}
	base := baseRecords(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var vocab []string
	for _, r := range base[:200] {
		for _, c := range r.Conversations {
			vocab = append(vocab, strings.Fields(c.Value)...)
		}
	}
	tx := newTextor(&Options{Key: KeyConversation, Normalize: true, Shingle: ShingleWord, NGram: 5})
	type pair struct{ a, b string }
	var recs []*pipeline.Record
	sets := map[string]map[uint32]struct{}{}
	family := map[pair]edit{} // (original, derived)
	for i, r := range base {
		recs = append(recs, r)
		sets[r.ID] = shingleSet(tx, r)
		e := edits[i%len(edits)]
		d := applyEdit(r, e, rng, vocab, base[(i+7)%len(base)])
		d.SetID(r.ID + "~" + e.kind + strconv.FormatFloat(e.rate, 'f', -1, 64))
		recs = append(recs, d)
		sets[d.ID] = shingleSet(tx, d)
		family[pair{r.ID, d.ID}] = e
	}
	// Shuffle so that originals are not always first.
	rng.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	in := writeRecords(t, t.TempDir(), "acc.jsonl", recs)
	t.Logf("%d originals (%d conversations and first prompts of at least 40 words), %d derived, %d records", len(base), len(base), len(base), len(recs))

	type row struct {
		name      string
		threshold float64
		all, goal prf
	}
	var rows []row
	failed := false
	for _, mode := range []Mode{ModeExact, ModeNear} {
		for _, th := range []float64{0.7, 0.8, 0.9} {
			r := run(t, Options{Mode: mode, Normalize: true, Threshold: th}, []string{in}, nil, 2)
			pred := map[pair]bool{}
			for _, c := range parseClusters(t, r.clusters) {
				for i, a := range c.Members {
					for _, b := range c.Members[i+1:] {
						pred[pair{a.ID, b.ID}], pred[pair{b.ID, a.ID}] = true, true
					}
				}
			}
			var all, goal prf
			count := func(p pair, isPred bool) {
				j := jaccard(sets[p.a], sets[p.b])
				pos := j >= th
				_, fam := family[p]
				switch {
				case isPred && pos:
					all.tp++
					goal.tp++
				case isPred && !pos:
					all.fp++
					if !fam { // a family pair below the threshold is outside the goal set
						goal.fp++
					}
				case !isPred && pos:
					all.fn++
					goal.fn++
				}
			}
			for p := range family {
				count(p, pred[p] || pred[pair{p.b, p.a}])
			}
			for p := range pred {
				if p.a < p.b {
					if _, ok := family[p]; ok {
						continue
					}
					if _, ok := family[pair{p.b, p.a}]; ok {
						continue
					}
					count(p, true)
				}
			}
			rows = append(rows, row{mode.String(), th, all, goal})
			if mode == ModeNear && th == 0.8 && goal.f1() < 0.95 {
				failed = true
			}
		}
	}
	// Per edit: true similarity range and near-mode recall at 0.8.
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-6s %4s | %-27s | %-27s\n", "mode", "t", "all derived pairs  P  R  F1", "goal set  P  R  F1")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-6s %4.1f | %8.4f %8.4f %8.4f | %8.4f %8.4f %8.4f  (tp %d fp %d fn %d)\n", r.name, r.threshold,
			r.all.precision(), r.all.recall(), r.all.f1(), r.goal.precision(), r.goal.recall(), r.goal.f1(), r.goal.tp, r.goal.fp, r.goal.fn)
	}
	fmt.Fprintf(&b, "\nedit              rate   pairs  mean J  min J  max J\n")
	type agg struct {
		n             int
		sum, min, max float64
	}
	per := map[edit]*agg{}
	for p, e := range family {
		j := jaccard(sets[p.a], sets[p.b])
		a := per[e]
		if a == nil {
			a = &agg{min: 2}
			per[e] = a
		}
		a.n++
		a.sum += j
		a.min, a.max = min(a.min, j), max(a.max, j)
	}
	for _, e := range edits {
		a := per[e]
		fmt.Fprintf(&b, "%-16s %5.3f %6d  %6.3f %6.3f %6.3f\n", e.kind, e.rate, a.n, a.sum/float64(a.n), a.min, a.max)
	}
	t.Log(b.String())
	if out := os.Getenv("DEDUP_ACCURACY_OUT"); out != "" {
		os.WriteFile(out, []byte(b.String()), 0o644)
	}
	if failed {
		t.Errorf("near mode at 0.8: goal-set F1 below 0.95")
	}
}

// benchRecords returns n conversations made from the real sample by
// repeating it with light edits: a third exact copies (re-ids), a third
// with a few words substituted, a third unchanged originals.
func benchRecords(t testing.TB, n int, seed uint64) []*pipeline.Record {
	t.Helper()
	var src []*pipeline.Record
	for i, r := range readJSONArray(t, sample1000) {
		rec := pipeline.NewRecord(fmt.Sprintf("s%d", i), nil)
		for _, c := range r.Conversations {
			rec.Conversations = append(rec.Conversations, pipeline.Turn{From: c.From, Value: c.Value})
		}
		src = append(src, rec)
	}
	rng := rand.New(rand.NewPCG(seed, 99))
	vocab := strings.Fields(src[0].Conversations[0].Value)
	var out []*pipeline.Record
	for i := range n {
		r := src[i%len(src)]
		switch {
		case i < len(src):
			r = r.Clone()
		case rng.IntN(3) == 0:
			r = r.Clone()
		default:
			r = applyEdit(r, edit{"substitute", 0.01 + 0.04*rng.Float64()}, rng, vocab, nil)
		}
		r.SetID(fmt.Sprintf("r%d", i))
		out = append(out, r)
	}
	return out
}

// TestWriteCorpus writes the throughput corpus when DEDUP_CORPUS names a
// file (DEDUP_CORPUS_N records, default 100000):
//
//	DEDUP_CORPUS=/tmp/dedup100k.jsonl go test ./dedup -run TestWriteCorpus
func TestWriteCorpus(t *testing.T) {
	path := os.Getenv("DEDUP_CORPUS")
	if path == "" {
		t.Skip("DEDUP_CORPUS not set")
	}
	n := 100000
	if s := os.Getenv("DEDUP_CORPUS_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var b []byte
	for _, r := range benchRecords(t, n, 1) {
		b = pipeline.AppendRecord(b[:0], r, pipeline.OutShareGPT)
		w.Write(append(b, '\n'))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// BenchmarkSign measures pass 1's per-record work (normalise, shingle,
// MinHash with 256 permutations) on the real sample.
func BenchmarkSign(b *testing.B) {
	recs := benchRecords(b, 1000, 1)
	d, err := New(Options{Normalize: true})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	bytes := 0
	for _, r := range recs {
		bytes += r.Chars()
	}
	b.SetBytes(int64(bytes))
	b.ResetTimer()
	for range b.N {
		s := d.Signer(false)
		var out pipeline.Out
		for _, r := range recs {
			if err := s.Process(context.Background(), r, &out); err != nil {
				b.Fatal(err)
			}
		}
	}
}
