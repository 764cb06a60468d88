package clean

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// TestInlineRandom builds random paragraphs of text and inline elements
// (strong, em, del, code, links) and checks that the Markdown renders to the
// text the page shows.
func TestInlineRandom(t *testing.T) {
	n, seed := 5000, uint64(1)
	if v := os.Getenv("INLINE_RANDOM"); v != "" {
		fmt.Sscanf(v, "%d,%d", &n, &seed)
	}
	rng := rand.New(rand.NewPCG(seed, 3))
	const alphabet = "*_~`\\<>&[]()#-+.!| a1é"
	text := func() string {
		b := make([]byte, 0, 6)
		for j := rng.IntN(5); j >= 0; j-- {
			b = append(b, alphabet[rng.IntN(len(alphabet))])
		}
		return escapeHTMLText(strings.ToValidUTF8(string(b), "é"))
	}
	var gen func(depth int) string
	gen = func(depth int) string {
		var sb strings.Builder
		for j := rng.IntN(4); j >= 0; j-- {
			switch x := rng.IntN(8); {
			case x < 3 || depth > 2:
				sb.WriteString(text())
			case x == 3:
				sb.WriteString("<strong>" + gen(depth+1) + "</strong>")
			case x == 4:
				sb.WriteString("<em>" + gen(depth+1) + "</em>")
			case x == 5:
				sb.WriteString("<code>" + text() + "</code>")
			case x == 6:
				sb.WriteString(`<a href="https://e.com/x">` + gen(depth+1) + "</a>")
			default:
				sb.WriteString("<del>" + gen(depth+1) + "</del>")
			}
		}
		return sb.String()
	}
	c := NewConverter()
	fails := 0
	for i := 0; i < n && fails < 10; i++ {
		h := "<p>" + gen(0) + "</p>"
		want := strings.Join(strings.Fields(renderedTextHTML(h)), " ")
		if want == "" || want[0] >= '0' && want[0] <= '9' {
			continue
		}
		got, _ := c.Markdown(h)
		if rt := strings.Join(strings.Fields(renderedText(t, got)), " "); rt != want {
			t.Errorf("html %q\nshows    %q\nmarkdown %q\nrenders  %q", h, want, got, rt)
			fails++
		}
	}
}
