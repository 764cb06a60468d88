package augment

import (
	"io"
	"runtime"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	const key = "sk-live/Zq9+Tx7_wV2-0123456789"
	r := newRedactor(key, "https://bob:pa55-w0rd-xyz@api.example.com/v1?api-key=q-secret-777&api-version=2024-02-01")
	for _, c := range []struct{ in, want string }{
		{"no secret here", "no secret here"},
		{"key " + key + " end", "key [API key] end"},
		{"cut " + key[:6], "cut [API key]"},
		{"cut " + key[:5], "cut " + key[:5]}, // shorter than minPrefix
		{"partial " + key[:9] + "****6789", "partial [API key]****6789"},
		{"twice " + key + key[:12] + "x", "twice [API key][API key]x"},
		{`json {"k":"sk-live\/Zq9+Tx7_wV2-0123456789"}`, `json {"k":"[API key]"}`},
		{"query ?k=sk-live%2FZq9%2BTx7_wV2-0123456789", "query ?k=[API key]"},
		{"url https://user:" + key + "@h/x", "url https://[redacted]@h/x"},
		{"base https://bob:pa55-w0rd-xyz@api.example.com/v1", "base https://[redacted]@api.example.com/v1"},
		{"value q-secret-777 alone", "value [redacted] alone"},
		{"version 2024-02-01 kept", "version 2024-02-01 kept"},
		{"other http://eve:hunter22@x.org/?token=abc&sig=def&page=2", "other http://[redacted]@x.org/?token=[redacted]&sig=[redacted]&page=2"},
		{"Authorization: Basic ZXZlOmh1bnRlcjIy, next", "Authorization: [redacted], next"},
		{`{"authorization": "Bearer abc.def", "x-api-key":"k"}`, `{"authorization": "[redacted]", "x-api-key":"[redacted]"}`},
		{"header Bearer eyJhbGciOi.J9x", "header Bearer [redacted]"},
		{"bearer of bad news", "bearer of bad news"},
		{"keys sk-proj-ABCDEFGHIJKLMNOPQRST hf_abcdefghijklmnopqrstuvwx AKIAABCDEFGHIJKLMNOP", "keys [redacted] [redacted] [redacted]"},
		{`{"password":"a\"b","max_tokens":"12"}`, `{"password":"[redacted]","max_tokens":"[redacted]"}`},
		{"nul \x00 and \x01 stay marks", "nul \uFFFD and \uFFFD stay marks"},
	} {
		if got := r.redact(c.in); got != c.want {
			t.Errorf("redact(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
	if got := newRedactor("", "http://127.0.0.1:8000/v1").redact("plain text, http://127.0.0.1:8000/v1"); got != "plain text, http://127.0.0.1:8000/v1" {
		t.Errorf("without secrets: %q", got)
	}
}

// TestExcerptNeverShowsAKeyPrefix places the key at every offset around
// each cut (the runes shown, the bytes looked at) and checks that neither
// it nor a 6-byte start of it is shown.
func TestExcerptNeverShowsAKeyPrefix(t *testing.T) {
	const key = "sk-secret-0123456789abcdefghij"
	r := newRedactor(key, "http://127.0.0.1/v1")
	check := func(s string, n int) {
		t.Helper()
		if got := r.excerpt(s, n); strings.Contains(got, key[:minPrefix]) {
			t.Fatalf("excerpt of %d runes of …%q… shows %q", n, s[max(0, strings.Index(s, "sk-")-5):], got)
		}
	}
	for _, n := range []int{bodyRunes, messageRunes} {
		for at := n - len(key) - 2; at <= n+2; at++ {
			for _, pad := range []string{"x", "é", " "} {
				check(strings.Repeat(pad, at)+key+" tail", n)
			}
			check(strings.Repeat("ab ", at/3)+key, n)
		}
	}
	for at := maxErrorBody - len(key) - 2; at <= maxErrorBody+2; at++ {
		check("a"+strings.Repeat(" ", at-1)+key+" tail", messageRunes)
	}
}

func FuzzExcerptRedacts(f *testing.F) {
	const key = "sk-secret-0123456789abcdefghij"
	r := newRedactor(key, "http://127.0.0.1/v1")
	f.Add("x", 294, 300)
	f.Add(" ", 4000, 120)
	f.Add("é", 8180, 300)
	f.Fuzz(func(t *testing.T, pad string, at, n int) {
		if pad == "" || at < 0 || at > 10000 || n < 0 || n > 1000 {
			return
		}
		s := strings.Repeat(pad, at/len(pad)+1)[:at] + key + pad
		if got := r.excerpt(s, n); strings.Contains(got, key[:minPrefix]) {
			t.Fatalf("excerpt(%d runes) shows the key: %q", n, got)
		}
	})
}

func TestExcerpt(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"  a  b\n\tc  ", 10, "a b c"},
		{"abcdef", 3, "abc…"},
		{"abc", 3, "abc"},
		{"abc   ", 3, "abc"},
		{"ab cd", 3, "ab…"},
		{"ab cd", 4, "ab c…"},
		{"héllo wörld", 7, "héllo w…"},
		{"a\xffb", 5, "a\uFFFDb"},
		{"", 5, ""},
	} {
		if got := excerpt(c.in, c.n); got != c.want {
			t.Errorf("excerpt(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
	// An excerpt of a huge text costs what it shows, not the text.
	huge := strings.Repeat("ab cd efgh ", 3<<20)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := newRedactor("sk-secret-0123456789", "http://127.0.0.1/v1")
	for range 10 {
		excerpt(huge, messageRunes)
		r.excerpt(huge, messageRunes)
	}
	runtime.ReadMemStats(&after)
	// TotalAlloc counts the whole process (the race detector's runtime
	// too: 2 MiB was exceeded by a few dozen KiB under -race); a copy of
	// the text would be 20 × 33 MiB.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Errorf("20 excerpts of %d MiB allocated %d KiB", len(huge)>>20, alloc>>10)
	}
}

// countReader counts the bytes read from it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestReadBody(t *testing.T) {
	for _, c := range []struct {
		size, limit, hint int64
		over              bool
	}{
		{100, 100, 0, false},
		{100, 100, 100, false},
		{101, 100, 0, true},
		{101, 100, 101, true},
		{1 << 20, 1000, 0, true},
		{1 << 20, 1000, 1 << 20, true},
		{0, 10, 0, false},
	} {
		cr := &countReader{r: strings.NewReader(strings.Repeat("a", int(c.size)))}
		data, over, err := readBody(cr, c.limit, c.hint)
		if err != nil || over != c.over || int64(len(data)) != min(c.size, c.limit) || cr.n > c.limit+1 {
			t.Errorf("%+v: %d bytes, over %v, %v; %d read", c, len(data), over, err, cr.n)
		}
	}
}

func TestResponseLimit(t *testing.T) {
	o := DefaultOptions()
	if got := o.ResponseLimit(1000); got != 1000*ResponseBytesPerToken+ResponseOverhead {
		t.Errorf("derived limit %d", got)
	}
	o.MaxResponseBytes = 5 << 20
	if got := o.ResponseLimit(1000); got != 5<<20 {
		t.Errorf("set limit %d", got)
	}
}
