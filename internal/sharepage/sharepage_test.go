package sharepage

import (
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	r := New()
	tests := []struct {
		name, md string
		want     []string // substrings, in order
		not      []string
	}{
		{"paragraph and wrapper", "Hello *world*", []string{WrapperDark + "<p>Hello <em>world</em></p></div>"}, []string{"\n"}},
		{"code block with label", "```python\ndef f(x):\n    return x < 1\n```",
			[]string{preHead, "<span>python</span>", "Copy code</button>", `<code class="!whitespace-pre hljs language-python">`,
				`<span class="hljs-keyword">def</span> f(x):`, "<span class=\"hljs-keyword\">return</span> x &lt; <span class=\"hljs-number\">1</span>\n", preTail},
			[]string{"<pre><code"}},
		{"code block without label", "```\nplain\n```", []string{copyButton + `<code class="!whitespace-pre hljs">plain`}, []string{"<span>"}},
		{"minified blocks", "# T\n\n- a\n- b\n\n---\n\n> q", []string{"<h1>T</h1><ul><li>a</li><li>b</li></ul><hr><blockquote><p>q</p></blockquote>"}, nil},
		{"links open in a new tab", "[x](https://e.org)", []string{`<a href="https://e.org" target="_new">x</a>`}, nil},
		{"table", "|a|b|\n|-|-|\n|1|2|", []string{"<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr></tbody></table>"}, nil},
	}
	for _, tt := range tests {
		got, err := r.Render(tt.md, WrapperDark)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		rest := got
		for _, w := range tt.want {
			i := strings.Index(rest, w)
			if i < 0 {
				t.Errorf("%s: %q not found (in order) in\n%s", tt.name, w, got)
				break
			}
			rest = rest[i+len(w):]
		}
		for _, n := range tt.not {
			if strings.Contains(got, n) {
				t.Errorf("%s: %q in\n%s", tt.name, n, got)
			}
		}
	}
}

func TestHighlightKeepsText(t *testing.T) {
	code := "# comment\nx = &quot;s&quot; + 42\nreturn None\n"
	got := Highlight(code)
	stripped := strings.NewReplacer("</span>", "").Replace(got)
	for strings.Contains(stripped, "<span") {
		i := strings.Index(stripped, "<span")
		j := strings.IndexByte(stripped[i:], '>')
		stripped = stripped[:i] + stripped[i+j+1:]
	}
	if stripped != code {
		t.Errorf("text changed: %q", stripped)
	}
	for _, cls := range []string{"hljs-comment", "hljs-string", "hljs-number", "hljs-keyword", "hljs-literal"} {
		if !strings.Contains(got, cls) {
			t.Errorf("no %s span in %q", cls, got)
		}
	}
}
