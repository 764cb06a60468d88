package clean

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/pemistahl/lingua-go"

	"github.com/sharegpt/sharegpt/pipeline"
)

// UnknownLanguage is the code of a conversation whose language could not
// be told (no prose, or confidence below the minimum).
const UnknownLanguage = "unknown"

// LanguageOptions configure the language filter.
type LanguageOptions struct {
	Keep []string // ISO 639-1 codes to keep (others rejected); empty: all
	Skip []string // ISO 639-1 codes to reject
	// Unknown says what happens to conversations of unknown language:
	// "keep", "skip", or "" for FastChat's behaviour (unknown is a language
	// like any other: rejected by a keep list, kept by a skip list).
	Unknown string
	// Candidates restricts the languages the detector considers (less
	// memory, faster); empty means all 75 lingua languages.
	Candidates    []string
	Bytes         int     // prose bytes examined per conversation (default 2048)
	MinConfidence float64 // below it the language is unknown
	HighAccuracy  bool    // lingua's high-accuracy mode (much more memory)
	Tag           bool    // write the language into a "lang" field instead of filtering
}

// LanguageFilter detects the language of each conversation's human prose
// with lingua and filters or tags records. One detector is shared by all
// workers (lingua's detector is safe for concurrent use).
type LanguageFilter struct {
	opts     LanguageOptions
	detector lingua.LanguageDetector
	mu       sync.Mutex
	counts   map[string]int64
}

// CommonLanguages are the 24 languages common in ShareGPT data, the
// candidate set "--languages common" names: with lingua limited to them,
// detection is about twice as fast and, on the project's samples, more
// accurate (91.0% of English first prompts against 89.4% with all 75
// languages, whose rare members such as Latin, Maori and Tagalog attract
// short English prompts).
var CommonLanguages = []string{"en", "zh", "ko", "ja", "es", "fr", "de", "ru", "pt", "it", "vi", "ar",
	"tr", "pl", "nl", "id", "th", "hi", "uk", "fa", "he", "sv", "cs", "el"}

// ParseLanguages parses a comma-separated list of ISO 639-1 codes;
// "common" stands for CommonLanguages.
func ParseLanguages(list string) ([]string, error) {
	var out []string
	for _, code := range strings.Split(list, ",") {
		code = strings.ToLower(strings.TrimSpace(code))
		if code == "" {
			continue
		}
		if code == "common" {
			out = append(out, CommonLanguages...)
			continue
		}
		if code != UnknownLanguage && lingua.GetIsoCode639_1FromValue(code) == lingua.UnknownIsoCode639_1 {
			return nil, fmt.Errorf("unknown ISO 639-1 language code %q", code)
		}
		out = append(out, code)
	}
	return out, nil
}

// NewLanguageFilter builds the detector (lingua loads a language's model
// the first time it is needed).
func NewLanguageFilter(opts LanguageOptions) (*LanguageFilter, error) {
	if opts.Bytes <= 0 {
		opts.Bytes = 2048
	}
	switch opts.Unknown {
	case "", "keep", "skip":
	default:
		return nil, fmt.Errorf("unknown-language policy must be keep or skip, not %q", opts.Unknown)
	}
	var langs []lingua.Language
	for _, code := range opts.Candidates {
		lang := lingua.GetLanguageFromIsoCode639_1(lingua.GetIsoCode639_1FromValue(code))
		if lang == lingua.Unknown {
			return nil, fmt.Errorf("unknown ISO 639-1 language code %q", code)
		}
		langs = append(langs, lang)
	}
	var builder lingua.LanguageDetectorBuilder
	switch {
	case len(langs) == 1:
		return nil, fmt.Errorf("--languages needs at least two languages to choose from")
	case len(langs) > 1:
		builder = lingua.NewLanguageDetectorBuilder().FromLanguages(langs...)
	default:
		builder = lingua.NewLanguageDetectorBuilder().FromAllLanguages()
	}
	if !opts.HighAccuracy {
		builder = builder.WithLowAccuracyMode()
	}
	return &LanguageFilter{opts: opts, detector: builder.Build(), counts: map[string]int64{}}, nil
}

// minLetters is the fewest letters a text needs for a guess: shorter
// prompts ("hi", "test") are as often misdetected as not.
const minLetters = 8

// langWindow is the size of the windows that can decide a long text's
// language early.
const langWindow = 256

// Detect returns the ISO 639-1 code of a text's language, or "unknown".
// A text longer than two windows of 256 bytes is decided by its first two
// windows when they agree (lingua's cost grows with the text; this makes
// long texts about six times cheaper and, on the project's samples, changes
// the outcome for 5 of 2,011 conversations, mostly prompts whose tail is a
// paste in another language); otherwise the whole text decides.
func (f *LanguageFilter) Detect(text string) string {
	if len(text) > 2*langWindow {
		a, rest := cutWords(text, langWindow)
		b, _ := cutWords(rest, langWindow)
		if la := f.detect(a); la != UnknownLanguage && la == f.detect(b) {
			return la
		}
	}
	return f.detect(text)
}

// cutWords splits s after at most n bytes, at the last space if there is
// one, else on a character boundary.
func cutWords(s string, n int) (string, string) {
	if len(s) <= n {
		return s, ""
	}
	k := strings.LastIndexAny(s[:n], " \n\t")
	if k <= 0 {
		k = n
		for k < len(s) && !utf8.RuneStart(s[k]) {
			k++
		}
	}
	return s[:k], s[k:]
}

// detect decides a text's language. Texts dominated by one CJK script are
// decided by the script, which is more reliable than lingua's n-grams on
// Chinese mixed with code or kanji: Hangul is Korean, kana is Japanese,
// Han without kana is Chinese. ASCII texts whose words are at least 30%
// English function words are English: on the project's samples this rule
// decides half of all conversations several hundred times faster than
// lingua, and where lingua disagreed (87 of 2,542, all short technical
// prompts such as "How do I make an HTTP request in Python?", which
// lingua's low-accuracy mode calls Dutch or Maori) the rule was right.
func (f *LanguageFilter) detect(text string) string {
	var letters, han, kana, hangul int
	for _, r := range text {
		switch {
		case unicode.Is(unicode.Hangul, r):
			hangul++
		case unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r):
			kana++
		case unicode.Is(unicode.Han, r):
			han++
		case !unicode.IsLetter(r):
			continue
		}
		letters++
	}
	switch {
	case letters < minLetters && han+kana+hangul < 2:
		return UnknownLanguage
	case han+kana+hangul == 0 && f.candidate("en") && looksEnglish(text):
		return "en"
	case hangul*10 >= letters*3 && f.candidate("ko"):
		return "ko"
	case kana*10 >= letters && f.candidate("ja"):
		return "ja"
	case han*10 >= letters*3 && kana == 0 && f.candidate("zh"):
		return "zh"
	}
	values := f.detector.ComputeLanguageConfidenceValues(text)
	if len(values) == 0 || values[0].Value() == 0 || values[0].Value() < f.opts.MinConfidence ||
		(len(values) > 1 && values[0].Value() == values[1].Value()) {
		return UnknownLanguage
	}
	return strings.ToLower(values[0].Language().IsoCode639_1().String())
}

func (f *LanguageFilter) candidate(code string) bool {
	return len(f.opts.Candidates) == 0 || slices.Contains(f.opts.Candidates, code)
}

// apply detects the record's language and tags or filters it.
func (f *LanguageFilter) apply(rec *pipeline.Record) (pipeline.Reason, string) {
	lang := f.Detect(HumanProse(rec, f.opts.Bytes))
	f.mu.Lock()
	f.counts[lang]++
	f.mu.Unlock()
	if f.opts.Tag {
		rec.SetStringField("lang", lang)
		return "", ""
	}
	if f.keep(lang) {
		return "", ""
	}
	return ReasonLanguage, "language " + lang
}

func (f *LanguageFilter) keep(lang string) bool {
	if lang == UnknownLanguage && f.opts.Unknown != "" {
		return f.opts.Unknown == "keep"
	}
	if len(f.opts.Keep) > 0 && !slices.Contains(f.opts.Keep, lang) {
		return false
	}
	return !slices.Contains(f.opts.Skip, lang)
}

// Distribution returns how many conversations were detected per language.
func (f *LanguageFilter) Distribution() map[string]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int64, len(f.counts))
	for k, v := range f.counts {
		out[k] = v
	}
	return out
}

var (
	fencedCode = regexp.MustCompile("(?s)(```|~~~).*?(```|~~~|$)")
	inlineCode = regexp.MustCompile("`[^`\n]*`")
	urls       = regexp.MustCompile(`(?i)\b(?:https?|ftp)://\S+|\bwww\.\S+`)
)

// HumanProse returns the prose of a record's human turns, joined by
// newlines, without code blocks, inline code and URLs, cut to at most
// limit bytes on a character boundary.
func HumanProse(rec *pipeline.Record, limit int) string {
	var b strings.Builder
	for _, t := range rec.Conversations {
		if t.From != pipeline.RoleHuman {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(Prose(t.Value))
		if b.Len() >= limit {
			break
		}
	}
	s := b.String()
	if len(s) > limit {
		s = s[:limit]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}

// Prose removes fenced code blocks, inline code and URLs from Markdown.
func Prose(s string) string {
	if strings.ContainsAny(s, "`~") {
		s = fencedCode.ReplaceAllString(s, " ")
		s = inlineCode.ReplaceAllString(s, " ")
	}
	if strings.Contains(s, "://") || strings.Contains(s, "www.") {
		s = urls.ReplaceAllString(s, " ")
	}
	return s
}

// minEnglishWords is the fewest words looksEnglish decides on.
const minEnglishWords = 8

// englishFunctionWords are frequent English words that other languages
// written in Latin script rarely use as words.
var englishFunctionWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`the of and to a in is that for it with as on be are this you i what how
		can my your we do not have or an by from at if me which will was should there would use write
		please about any so but all some they these more also like make when its them could then their
		into our has been other than only one such using need`) {
		m[w] = true
	}
	return m
}()

// looksEnglish reports whether s has at least eight words, at least 30% of
// them English function words, and at most one letter in fifty outside
// ASCII (names like "José" pass, Spanish or German prose does not).
func looksEnglish(s string) bool {
	words, common, start, letters, foreign := 0, 0, -1, 0, 0
	var lower [16]byte
	for i := 0; i <= len(s); i++ {
		var c byte
		if i < len(s) {
			c = s[i]
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if unicode.IsLetter(r) {
				foreign++
			}
			i += size - 1
			c = ' ' // punctuation and symbols ("’", "•", no-break space) separate words
		}
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '\''
		switch {
		case letter && start < 0:
			start = i
		case !letter && start >= 0:
			words++
			letters += i - start
			if w := s[start:i]; len(w) <= len(lower) {
				for j := 0; j < len(w); j++ {
					lower[j] = w[j] | 0x20 // ASCII letters and the apostrophe
				}
				if englishFunctionWords[string(lower[:len(w)])] {
					common++
				}
			}
			start = -1
		}
	}
	return words >= minEnglishWords && common*10 >= words*3 && foreign*50 <= letters
}
