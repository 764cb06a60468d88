package clean

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// TestRoundTrip renders every assistant turn of the ShareGPT V3 sample to
// share-page HTML, converts it back and compares with the original: every
// code block byte-exact with its label, and the rendered text.
func TestRoundTrip(t *testing.T) {
	turns := sampleGPTTurns(t)
	c := NewConverter()
	var (
		nTurns, textOK, htmlOK     int
		nCode, codeOK, codeTurnsOK int
		kinds                      = map[string]int{}
		examples                   = map[string]string{}
		htmlShown                  int
	)
	for i, src := range turns {
		page := sharePage(t, src)
		got, err := c.Markdown(page)
		if err != nil {
			t.Fatalf("turn %d: %v", i, err)
		}
		nTurns++

		want := codeBlocks(src)
		have := codeBlocks(got)
		nCode += len(want)
		ok := len(want) == len(have)
		for j := range want {
			if j < len(have) && want[j] == have[j] {
				codeOK++
			} else {
				ok = false
				if j < len(have) {
					t.Errorf("turn %d code block %d differs:\nwant %q %q\ngot  %q %q", i, j, want[j].lang, want[j].code, have[j].lang, have[j].code)
				}
			}
		}
		if ok {
			codeTurnsOK++
		} else if len(want) != len(have) {
			t.Errorf("turn %d: %d code blocks, got %d", i, len(want), len(have))
		}

		if wh, gh := renderedHTML(t, src), renderedHTML(t, got); wh == gh {
			htmlOK++
		} else if testing.Verbose() && htmlShown < 12 {
			htmlShown++
			t.Logf("turn %d HTML differs: %s", i, diffContext(wh, gh))
		}
		wt, gt := renderedText(t, src), renderedText(t, got)
		if wt == gt {
			textOK++
			continue
		}
		k := diffKind(wt, gt)
		kinds[k]++
		if _, seen := examples[k]; !seen {
			examples[k] = fmt.Sprintf("turn %d: %s", i, diffContext(wt, gt))
		}
	}
	t.Logf("turns: %d; rendered text equal: %d (%.2f%%); rendered HTML equal: %d (%.2f%%)",
		nTurns, textOK, percent(textOK, nTurns), htmlOK, percent(htmlOK, nTurns))
	t.Logf("code blocks: %d, byte-exact with label: %d (%.2f%%); turns with all code blocks equal: %d",
		nCode, codeOK, percent(codeOK, nCode), codeTurnsOK)
	keys := make([]string, 0, len(kinds))
	for k := range kinds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("text difference %q: %d turns; e.g. %s", k, kinds[k], examples[k])
	}
	if codeOK != nCode {
		t.Errorf("code blocks: %d of %d byte-exact", codeOK, nCode)
	}
	if percent(textOK, nTurns) < 99 {
		t.Errorf("rendered text equal for %.2f%% of turns, want >= 99%%", percent(textOK, nTurns))
	}
}

func percent(a, b int) float64 {
	if b == 0 {
		return 100
	}
	return 100 * float64(a) / float64(b)
}

// diffKind names a text difference for the report.
func diffKind(want, got string) string {
	switch {
	case strings.ReplaceAll(want, "\\", "") == strings.ReplaceAll(got, "\\", ""):
		return "backslashes"
	case strings.ReplaceAll(want, " ", "") == strings.ReplaceAll(got, " ", ""):
		return "spaces"
	}
	return "other"
}

func diffContext(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := i - 60
	if lo < 0 {
		lo = 0
	}
	ea, eb := i+60, i+60
	if ea > len(a) {
		ea = len(a)
	}
	if eb > len(b) {
		eb = len(b)
	}
	return fmt.Sprintf("\n   want …%q…\n   got  …%q…", a[lo:ea], b[lo:eb])
}
