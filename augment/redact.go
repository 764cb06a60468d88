package augment

import (
	"bytes"
	"encoding/json"
	"io"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// What is read of an answer and shown of it. Every text that comes from
// the server or names the server is redacted, and only then cut, by
// redactor.excerpt.
const (
	// maxErrorBody is what is read of an answer that is not a success
	// (and what is looked at of any text an excerpt is made from): enough
	// for the error messages of OpenAI, vLLM, llama.cpp and FastChat.
	maxErrorBody = 8 << 10
	// Runes shown of a server's error message and of a malformed answer.
	messageRunes = 300
	bodyRunes    = 120
	// minPrefix is the shortest start of a secret that is redacted where
	// the secret itself is cut (by the server, by what is read, by an
	// excerpt).
	minPrefix = 6
)

// Response limit of a success, derived from a request's max_tokens when
// Options.MaxResponseBytes is 0: this many bytes per token (a token is
// rarely over 16 bytes of text; JSON escapes, and logprobs asked for in
// ExtraBody, add to it) plus room for the rest of the chat completion.
const (
	ResponseBytesPerToken = 256
	ResponseOverhead      = 64 << 10
)

// ResponseLimit is the most bytes read of a successful answer to a
// request with this max_tokens: Options.MaxResponseBytes when set, else
// max_tokens × ResponseBytesPerToken + ResponseOverhead. A longer body is
// more than any answer to the request can be; it fails as
// CauseTooLarge without being read further.
func (o *Options) ResponseLimit(maxTokens int) int64 {
	if o.MaxResponseBytes > 0 {
		return o.MaxResponseBytes
	}
	return int64(max(maxTokens, 0))*ResponseBytesPerToken + ResponseOverhead
}

// Redaction marks.
const (
	apiKeyMark   = "[API key]"
	redactedMark = "[redacted]"
)

// While a text is redacted, the secrets it is known to hold are first
// replaced by these bytes (removed from the text beforehand), so that the
// patterns of unknown secrets see one token where the secret was: a URL
// whose password was the API key loses its whole userinfo.
const (
	apiKeyHole = "\x00"
	secretHole = "\x01"
)

// secretPatterns find credentials nobody named: URL userinfo, query
// parameters and JSON members named like secrets, Authorization-style
// headers, bearer tokens, and the shapes of common API keys.
var secretPatterns = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.\-]*://)[^\s/?#@"'<>\\]+@`), "${1}" + redactedMark + "@"},
	{regexp.MustCompile(`(?i)([?&;][a-z0-9_.\-]*(?:key|token|secret|password|passwd|pwd|signature|sig|auth|credential)[a-z0-9_.\-]*=)[^&#\s"'<>\\]*`), "${1}" + redactedMark},
	{regexp.MustCompile(`(?i)("[a-z0-9_.\-]*(?:api[_\-]?key|token|secret|password|passwd|credential|authorization|cookie)[a-z0-9_.\-]*"\s*:\s*")(?:[^"\\]|\\.)*"`), "${1}" + redactedMark + `"`},
	{regexp.MustCompile(`(?i)\b((?:proxy-)?authorization|x-api-key|api-key|cookie)(\s*[:=]\s*)(?:[a-z]+\s+)?[^\s"',;}]+`), "${1}${2}" + redactedMark},
	{regexp.MustCompile(`(?i)\b(bearer\s+)[a-z0-9\-._~+/\x00\x01]{6,}=*`), "${1}" + redactedMark},
	{regexp.MustCompile(`\b(?:sk-[A-Za-z0-9_\-]{16,}|hf_[A-Za-z0-9]{20,}|AKIA[0-9A-Z]{16})`), redactedMark},
}

// isSecretName reports whether a query parameter's name says it holds a
// credential (as the query pattern above reads it).
var isSecretName = regexp.MustCompile(`(?i)key|token|secret|password|passwd|pwd|signature|sig|auth|credential`).MatchString

// redactor removes secrets from text before it is cut or shown.
type redactor struct {
	apiKey  []string // the API key, and the forms a server may echo it in
	secrets []string // the base URL's password and secret query values, likewise
}

// newRedactor knows the API key and the secrets of the base URLs.
func newRedactor(apiKey string, baseURLs ...string) *redactor {
	r := &redactor{apiKey: forms(apiKey)}
	for _, baseURL := range baseURLs {
		r.addURL(baseURL)
	}
	return r
}

// addURL adds the secrets of a base URL.
func (r *redactor) addURL(baseURL string) {
	if u, err := url.Parse(baseURL); err == nil {
		if u.User != nil {
			pw, _ := u.User.Password()
			r.secrets = append(r.secrets, forms(pw)...)
		}
		for name, values := range u.Query() {
			if isSecretName(name) {
				for _, v := range values {
					r.secrets = append(r.secrets, forms(v)...)
				}
			}
		}
	}
}

// forms returns a secret as written, JSON-escaped and URL-escaped
// (without duplicates), longest first.
func forms(s string) []string {
	if s == "" {
		return nil
	}
	out := []string{s}
	j, _ := json.Marshal(s)
	for _, f := range []string{string(j[1 : len(j)-1]), strings.ReplaceAll(string(j[1:len(j)-1]), "/", `\/`), url.QueryEscape(s), url.PathEscape(s)} {
		if !containsString(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// redact replaces, in this order: each known secret, in any of its
// forms, and each start of one of at least minPrefix bytes, by a mark;
// then whatever the secret patterns find.
func (r *redactor) redact(s string) string {
	if strings.ContainsAny(s, apiKeyHole+secretHole) {
		s = strings.NewReplacer(apiKeyHole, "\uFFFD", secretHole, "\uFFFD").Replace(s)
	}
	s = replaceSecret(s, r.apiKey, apiKeyHole)
	s = replaceSecret(s, r.secrets, secretHole)
	for _, p := range secretPatterns {
		s = p.re.ReplaceAllString(s, p.repl)
	}
	if strings.ContainsAny(s, apiKeyHole+secretHole) {
		s = strings.NewReplacer(apiKeyHole, apiKeyMark, secretHole, redactedMark).Replace(s)
	}
	return s
}

// replaceSecret replaces by mark, in s, every run that is one of the
// forms of a secret or a start of one at least minPrefix bytes long (a
// secret cut by the server, by what is read or by an excerpt, or shown in
// part), the longest where several match; forms shorter than minPrefix
// only where they occur whole.
func replaceSecret(s string, forms []string, mark string) string {
	for _, f := range forms {
		if len(f) < minPrefix {
			s = strings.ReplaceAll(s, f, mark)
		}
	}
	var b strings.Builder
	for {
		at, n := -1, 0
		for _, f := range forms {
			if len(f) < minPrefix {
				continue
			}
			i := strings.Index(s, f[:minPrefix])
			if i < 0 || (at >= 0 && i > at) {
				continue
			}
			if i < at || at < 0 {
				at, n = i, 0
			}
			m := minPrefix
			for m < len(f) && i+m < len(s) && s[i+m] == f[m] {
				m++
			}
			n = max(n, m)
		}
		if at < 0 {
			if b.Len() == 0 {
				return s
			}
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:at])
		b.WriteString(mark)
		s = s[at+n:]
	}
}

// excerpt returns what may be shown of a text: its first maxErrorBody
// bytes redacted, then cut to n runes on one line (excerpt), then
// redacted again, which removes the start of a secret that the cut left
// at the end.
func (r *redactor) excerpt(s string, n int) string {
	if len(s) > maxErrorBody {
		s = s[:maxErrorBody]
	}
	return r.redact(excerpt(r.redact(s), n))
}

// excerpt returns the first n runes of s, on one line: runs of white
// space become one space, invalid UTF-8 becomes U+FFFD, and "…" marks a
// cut. It reads no further into s than it shows.
func excerpt(s string, n int) string {
	var b strings.Builder
	runes, space := 0, false
	for i := 0; i < len(s); {
		c, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if unicode.IsSpace(c) {
			space = runes > 0
			continue
		}
		if runes == n {
			b.WriteString("…")
			break
		}
		if space {
			if runes++; runes == n {
				b.WriteString("…")
				break
			}
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(c) // utf8.RuneError for invalid bytes: U+FFFD
		runes++
	}
	return b.String()
}

// readBody reads at most limit bytes of r; over reports that r had more
// (the rest is not read). sizeHint, the Content-Length when known, sizes
// the buffer.
func readBody(r io.Reader, limit, sizeHint int64) (data []byte, over bool, err error) {
	var b bytes.Buffer
	if sizeHint > 0 {
		b.Grow(int(min(sizeHint, limit+1)) + bytes.MinRead)
	}
	_, err = b.ReadFrom(io.LimitReader(r, limit+1))
	if data = b.Bytes(); int64(len(data)) > limit {
		return data[:limit], true, nil
	}
	return data, false, err
}

// excerptBytes is excerpt of the start of a body, without copying it.
func (r *redactor) excerptBytes(b []byte, n int) string {
	return r.excerpt(string(b[:min(len(b), maxErrorBody)]), n)
}
