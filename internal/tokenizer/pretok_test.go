package tokenizer

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/dlclark/regexp2/v2"
)

// splitAlphabet mixes every class the patterns distinguish.
var splitAlphabet = []string{
	"a", "Z", "é", "ß", "日", "ж", "'", "'s", "'LL", "'ve", "1", "٣", "½", " ", "  ", "\t", "\n", "\r", "\r\n",
	"\u00a0", "\u3000", "\u2028", ".", ",", "!", "?", "-", "_", "😀", "\u0301", "\u200b", "<", ">", "|", "\x00", "\ufffd",
}

func randomSplitText(rng *rand.Rand, n int) string {
	var sb strings.Builder
	for range n {
		sb.WriteString(splitAlphabet[rng.IntN(len(splitAlphabet))])
	}
	return sb.String()
}

// checkLlamaMatcher compares the hand-written matcher with regexp2
// running the pattern itself. Texts with "ſ" are left out: regexp2's (?i)
// folds it to "s", Oniguruma (the Rust tokenizers) does not, and neither
// does the matcher (the Rust oracle checks "'ſ" in adversarialTexts).
func checkLlamaMatcher(t *testing.T, pattern string, m *llamaMatcher, text string) {
	t.Helper()
	re := regexMatcher{regexp2.MustCompile(pattern, regexp2.None)}
	want, err := re.matches(nil, text)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := m.matches(nil, text)
	if !slices.Equal(got, want) {
		t.Fatalf("%q: hand-written %v, regexp2 %v", text, got, want)
	}
}

func TestLlamaMatcherMatchesRegexp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		pattern string
		m       *llamaMatcher
	}{{patLlama3, &llamaMatcher{maxDigits: 3}}, {patQwen, &llamaMatcher{maxDigits: 1}}} {
		for _, s := range []string{"", "  x", "a  \n  b", " \n", "x   ", "'s'S", "1234567", " !!\n\n", "\t.", " ?a"} {
			checkLlamaMatcher(t, c.pattern, c.m, s)
		}
		for range 3000 {
			checkLlamaMatcher(t, c.pattern, c.m, randomSplitText(rng, 1+rng.IntN(30)))
		}
	}
}

// FuzzSplitLlama compares the hand-written Llama 3 and Qwen matchers with
// regexp2 on arbitrary text.
func FuzzSplitLlama(f *testing.F) {
	f.Add("Hello, world! I'M 12345 日本\n\n  x\t\r\n")
	f.Add(" \u00a0 'll\u3000a")
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 512 {
			return
		}
		s = strings.ToValidUTF8(s, "\ufffd")
		if strings.ContainsRune(s, 'ſ') {
			return
		}
		checkLlamaMatcher(t, patLlama3, &llamaMatcher{maxDigits: 3}, s)
		checkLlamaMatcher(t, patQwen, &llamaMatcher{maxDigits: 1}, s)
	})
}

func TestApplyBehavior(t *testing.T) {
	all := []span{{0, 1, false}, {1, 2, true}, {2, 3, true}, {3, 5, false}, {5, 6, true}}
	for _, c := range []struct {
		b    splitBehavior
		want []span
	}{
		{splitRemoved, []span{{0, 1, false}, {3, 5, false}}},
		{splitMergedWithPrevious, []span{{0, 2, false}, {2, 3, false}, {3, 6, false}}},
		{splitMergedWithNext, []span{{0, 1, false}, {1, 2, false}, {2, 5, false}, {5, 6, false}}},
		{splitContiguous, []span{{0, 1, false}, {1, 3, false}, {3, 5, false}, {5, 6, false}}},
	} {
		if got := applyBehavior(slices.Clone(all), c.b); !slices.Equal(got, c.want) {
			t.Errorf("behavior %d: %v, want %v", c.b, got, c.want)
		}
	}
}
