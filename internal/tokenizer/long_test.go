package tokenizer

import (
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// wholeEncode is SentencePiece's algorithm without any cut: the whole
// normalised text merged at once with the heap. It is the reference the
// chunked encoder must equal.
func wholeEncode(tok *Tokenizer, text string) (ids, starts []int) {
	e := tok.enc
	nz := e.newNormalizer(text)
	nc := nz.fill(nil, len(text)+1)
	o := output{offs: true}
	if len(nc) > 0 {
		e.encodeChunk(&o, new(scratch), nc)
	}
	return o.ids, o.starts
}

// withWindow runs f with windowChars set to n (tests that call it must
// not run in parallel).
func withWindow(n int, f func()) {
	old := windowChars
	windowChars = n
	defer func() { windowChars = old }()
	f()
}

// pick returns n characters drawn from alphabet.
func pick(rng *rand.Rand, alphabet string, n int) string {
	rs := []rune(alphabet)
	var b strings.Builder
	for range n {
		b.WriteRune(rs[rng.IntN(len(rs))])
	}
	return b.String()
}

// longTexts are texts of about n characters with long stretches where
// cutBefore finds no cut (runs, DNA, words without spaces), and texts
// with cuts everywhere (CJK, emoji, newlines).
func longTexts(rng *rand.Rand, n int) map[string]string {
	return map[string]string{
		"a-run":      strings.Repeat("a", n),
		"space-run":  strings.Repeat(" ", n),
		"eq-run":     "x" + strings.Repeat("=", n) + "y",
		"dash-runs":  strings.Repeat("-", n) + "\n" + strings.Repeat("-", n/3),
		"lower-run":  strings.Repeat("▁", n),
		"newlines":   strings.Repeat("\n", n),
		"dna":        pick(rng, "ACGT", n),
		"dna-lower":  pick(rng, "acgt", n),
		"letters":    pick(rng, "abcdefghijklmnopqrstuvwxyz", n),
		"common":     pick(rng, "aeinorst", n),
		"periodic":   strings.Repeat("abcab", n/5),
		"haha":       strings.Repeat("ha", n/2),
		"base64":     pick(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+/", n),
		"spaces-mix": pick(rng, "  \u2581ab", n),
		"indent":     strings.Repeat("\n"+strings.Repeat(" ", 37)+"if x:", n/40),
		"cjk":        pick(rng, "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年", n),
		"emoji":      pick(rng, "😀🦙🎉👍🏽\u200d", n),
		"mixed":      pick(rng, "ab ▁c\n中😀=-", n),
		"invalid":    strings.Repeat("ab\xffc", n/4),
	}
}

// checkAgainstWhole fails t if encoding text with the current window
// differs from wholeEncode, through any of the encoding functions.
func checkAgainstWhole(t *testing.T, tok *Tokenizer, name, text string) {
	t.Helper()
	wantIDs, wantStarts := wholeEncode(tok, text)
	ids, starts := tok.EncodeOffsets(text)
	if !slices.Equal(ids, wantIDs) || !slices.Equal(starts, wantStarts) {
		t.Errorf("window %d, %s: chunked encoding differs from the whole-text merge\n%s", windowChars, name, diffIDs(tok, text, ids, wantIDs))
		return
	}
	if n := tok.Count(text); n != len(wantIDs) {
		t.Errorf("window %d, %s: Count = %d, want %d", windowChars, name, n, len(wantIDs))
	}
	var it, its []int
	for id, start := range tok.Tokens(text) {
		it, its = append(it, id), append(its, start)
	}
	if !slices.Equal(it, wantIDs) || !slices.Equal(its, wantStarts) {
		t.Errorf("window %d, %s: Tokens differs from the whole-text merge", windowChars, name)
	}
}

// TestLongMatchesWhole: with windows small enough that every text goes
// through encodeLong, the ids and offsets are those of the whole-text
// merge.
func TestLongMatchesWhole(t *testing.T) {
	tok := Default()
	rng := rand.New(rand.NewPCG(3, 4))
	texts := longTexts(rng, 3000)
	for _, w := range []int{2, 5, 17, 64, 1000} {
		withWindow(w, func() {
			for name, text := range texts {
				checkAgainstWhole(t, tok, name, text)
			}
		})
	}
}

// tieModel has no user-defined or unused pieces (so long chunks go
// through encodeLong) and many pieces of equal score, so that merges of
// different pieces tie and the leftmost wins.
func tieModel(byteFallback bool) []byte {
	pieces := []spPiece{{"<unk>", 0, pieceUnknown}, {"<s>", 0, pieceControl}, {"</s>", 0, pieceControl}}
	if byteFallback {
		for b := range 256 {
			pieces = append(pieces, spPiece{"<0x" + strings.ToUpper(hex2(b)) + ">", 0, pieceByte})
		}
	}
	for _, p := range []struct {
		s     string
		score float32
	}{
		{"aaaa", -0.5}, {"aba", -1}, {"ab", -1}, {"ba", -1}, {"bc", -1}, {"ca", -1}, {"aa", -1},
		{"abab", -1}, {"cc", -1}, {"▁a", -1}, {"▁▁", -1}, {"▁▁▁", -1}, {"ccc", -1.5},
		{"abc", -2}, {"bca", -2}, {"cab", -2}, {"aaa", -2}, {"▁b", -2}, {"c▁", -2}, {"▁▁▁▁▁", -2.5},
		{"bab", -3}, {"▁ab", -3}, {"bcab", -3}, {"ac", -4}, {"aac", -4},
		{"▁", -10}, {"a", -11}, {"b", -12}, {"c", -13},
	} {
		pieces = append(pieces, spPiece{p.s, p.score, pieceNormal})
	}
	return buildModel(pieces, modelBPE, byteFallback, nil)
}

// tieTexts are random texts over the tie model's characters and a few
// it lacks.
func tieTexts(rng *rand.Rand, n int) []string {
	var texts []string
	for _, alphabet := range []string{"ab", "abc", "abc ", "aab▁", "  a", "abcd ", "ca\n"} {
		for range 30 {
			texts = append(texts, pick(rng, alphabet, 1+rng.IntN(n)))
		}
	}
	return texts
}

// TestLongTieModels checks encodeLong on models with ties between
// different pieces, and the whole-chunk fallback on models with
// user-defined and unused pieces, against the whole-text merge. Each
// text is first encoded with the LLaMA model, whose state (a pooled memo
// of token pairs) must not leak into the other model's encoding.
func TestLongTieModels(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	texts := tieTexts(rng, 400)
	llama, common := Default(), pick(rng, "aeinorst", 300) // LLaMA ids 259-300
	for name, data := range map[string][]byte{
		"tie":         tieModel(true),
		"tie-unk":     tieModel(false),
		"tiny":        tinyModel(true),
		"tiny-noback": tinyModel(false),
	} {
		tok, err := ParseModel(data, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []int{2, 3, 8, 50} {
			withWindow(w, func() {
				for i, text := range texts {
					llama.Count(common)
					checkAgainstWhole(t, tok, name+"/"+string(rune('A'+i%26)), text)
				}
			})
		}
	}
}

// TestTokensStop: breaking out of Tokens stops the encoding.
func TestTokensStop(t *testing.T) {
	tok := Default()
	text := strings.Repeat("The quick brown fox. ", 1000) + strings.Repeat("=", 50000)
	want := tok.Encode(text)
	for _, n := range []int{0, 1, 7, 4000, len(want) - 1} {
		var got []int
		for id := range tok.Tokens(text) {
			if len(got) == n {
				break
			}
			got = append(got, id)
		}
		if !slices.Equal(got, want[:n]) {
			t.Errorf("first %d tokens: got %d tokens, not the first of Encode", n, len(got))
		}
	}
}

// TestLongConcurrent encodes long stretches from several goroutines at
// once (run with -race).
func TestLongConcurrent(t *testing.T) {
	tok := Default()
	rng := rand.New(rand.NewPCG(7, 8))
	var texts []string
	for _, text := range longTexts(rng, 20000) {
		texts = append(texts, text)
	}
	want := make([][]int, len(texts))
	for i, text := range texts {
		want[i], _ = wholeEncode(tok, text)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for k := range texts {
				i := (k + g*5) % len(texts)
				if got := tok.Encode(texts[i]); !slices.Equal(got, want[i]) {
					t.Errorf("concurrent Encode differs for text %d", i)
					return
				}
			}
		})
	}
	wg.Wait()
}

// memoryTexts are 4 MB texts: ShareGPT prose and code, and the worst
// cases for chunking.
func memoryTexts(t *testing.T, size int) map[string]string {
	rng := rand.New(rand.NewPCG(9, 10))
	turns, err := turnTexts(filepath.Join(sharedDataDir(), "sharegpt", "sharegpt_v3_sample_1000.json"))
	if err != nil || len(turns) == 0 {
		t.Fatalf("shared data: %v", err)
	}
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		b.WriteString(turns[i%len(turns)])
		b.WriteString("\n\n")
	}
	texts := map[string]string{"sharegpt": b.String()[:size]}
	for _, name := range []string{"letters", "a-run", "space-run", "dna", "cjk", "emoji"} {
		texts[name] = longTexts(rng, size)[name]
	}
	for name, s := range texts {
		if len(s) > size { // cut on a rune boundary
			s = strings.ToValidUTF8(s[:size], "")
		}
		texts[name] = s
	}
	return texts
}

// allocated returns the bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestMemoryBound: encoding a 4 MB text allocates a bounded amount, not
// a multiple of the text: Count and Tokens nothing that grows with it,
// AppendEncode only the ids (none when dst has room). Before chunking
// everything, the tokenizer allocated about 125 bytes per byte of text.
func TestMemoryBound(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode: encodes 28 MB of text")
	}
	const size = 4 << 20
	// The window of windowChars characters and the merge buffers, which
	// a pooled scratch allocates once; whatever the text's size.
	const bound = 1 << 20
	tok := Default()
	tok.Count(strings.Repeat("warm up the pool and the long-chunk tables ", 1000) + strings.Repeat("=", 40000))
	for name, text := range memoryTexts(t, size) {
		start := time.Now()
		var n int
		count := allocated(func() { n = tok.Count(text) })
		elapsed := time.Since(start)
		tokens := allocated(func() {
			for range tok.Tokens(text) {
			}
		})
		dst := make([]int, 0, n)
		encode := allocated(func() { dst = tok.AppendEncode(dst, text) })
		t.Logf("%-9s %d bytes, %d tokens in %v; allocated: Count %d, Tokens %d, AppendEncode %d bytes",
			name, len(text), n, elapsed.Round(time.Millisecond), count, tokens, encode)
		if count > bound || tokens > bound || encode > bound {
			t.Errorf("%s: encoding %d bytes allocated %d (Count), %d (Tokens), %d (AppendEncode) bytes; want at most %d",
				name, len(text), count, tokens, encode, bound)
		}
		if len(dst) != n {
			t.Errorf("%s: AppendEncode gave %d tokens, Count %d", name, len(dst), n)
		}
	}
}

// FuzzLong: with a window of a few characters, so that most text goes
// through encodeLong, the LLaMA and the tie model encode as the
// whole-text merge does.
func FuzzLong(f *testing.F) {
	for _, s := range []string{"", "aaaaaaaaa", "          x", "ACGTTGCAACGT", "abababcab", "===== a", "中文😀\n  ab"} {
		f.Add(s, uint8(3))
	}
	llama := Default()
	tie, err := ParseModel(tieModel(true), "tie")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string, w uint8) {
		withWindow(2+int(w%32), func() {
			for _, tok := range []*Tokenizer{llama, tie} {
				want, _ := wholeEncode(tok, s)
				if got := tok.Encode(s); !slices.Equal(got, want) {
					t.Fatalf("window %d: %q encodes as %v, the whole-text merge as %v", windowChars, s, got, want)
				}
			}
		})
	})
}
