// Package lang tells the natural language of text and finds phrases in it:
// language detection with lingua (and faster rules for English and the CJK
// scripts), the prose of a conversation without code and URLs, and
// case-insensitive phrase matching on word boundaries (the refusal
// phrases). It serves the clean and augment stages.
//
//	d, err := lang.New(lang.Options{Candidates: lang.Common})
//	code := d.Detect(text) // "en", "zh", ... or lang.Unknown
//	codes, err := lang.Parse("en,fr")
//	p := lang.HumanProse(rec, 2048)
//	m := lang.NewPhraseMatcher(lang.RefusalPhrases); m.Match(text); m.Hits()
//
// A Detector is safe for concurrent use.
package lang

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pemistahl/lingua-go"
)

// Unknown is the code of a text whose language could not be told (no
// prose, or confidence below the minimum).
const Unknown = "unknown"

// Options configure a Detector.
type Options struct {
	// Candidates restricts the languages the detector considers (less
	// memory, faster); empty means all 75 lingua languages.
	Candidates    []string
	MinConfidence float64 // below it the language is Unknown
	HighAccuracy  bool    // lingua's high-accuracy mode (much more memory)
}

// Detector tells the language of texts. lingua's detector is safe for
// concurrent use, and so is a Detector.
type Detector struct {
	opts     Options
	detector lingua.LanguageDetector
}

// Common are the 24 languages common in ShareGPT data, the
// candidate set "--languages common" names: with lingua limited to them,
// detection is about twice as fast and, on the project's samples, more
// accurate (91.0% of English first prompts against 89.4% with all 75
// languages, whose rare members such as Latin, Maori and Tagalog attract
// short English prompts).
var Common = []string{"en", "zh", "ko", "ja", "es", "fr", "de", "ru", "pt", "it", "vi", "ar",
	"tr", "pl", "nl", "id", "th", "hi", "uk", "fa", "he", "sv", "cs", "el"}

// Parse parses a comma-separated list of ISO 639-1 codes;
// "common" stands for Common.
func Parse(list string) ([]string, error) {
	var out []string
	for _, code := range strings.Split(list, ",") {
		code = strings.ToLower(strings.TrimSpace(code))
		if code == "" {
			continue
		}
		if code == "common" {
			out = append(out, Common...)
			continue
		}
		if code != Unknown && lingua.GetIsoCode639_1FromValue(code) == lingua.UnknownIsoCode639_1 {
			return nil, fmt.Errorf("unknown ISO 639-1 language code %q", code)
		}
		out = append(out, code)
	}
	return out, nil
}

// New builds a detector (lingua loads a language's model the first time
// it is needed).
func New(opts Options) (*Detector, error) {
	var langs []lingua.Language
	for _, code := range opts.Candidates {
		l := lingua.GetLanguageFromIsoCode639_1(lingua.GetIsoCode639_1FromValue(code))
		if l == lingua.Unknown {
			return nil, fmt.Errorf("unknown ISO 639-1 language code %q", code)
		}
		langs = append(langs, l)
	}
	var builder lingua.LanguageDetectorBuilder
	switch {
	case len(langs) == 1:
		return nil, fmt.Errorf("at least two candidate languages are needed to choose from, not %q", opts.Candidates[0])
	case len(langs) > 1:
		builder = lingua.NewLanguageDetectorBuilder().FromLanguages(langs...)
	default:
		builder = lingua.NewLanguageDetectorBuilder().FromAllLanguages()
	}
	if !opts.HighAccuracy {
		builder = builder.WithLowAccuracyMode()
	}
	return &Detector{opts: opts, detector: builder.Build()}, nil
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
func (d *Detector) Detect(text string) string {
	if len(text) > 2*langWindow {
		a, rest := cutWords(text, langWindow)
		b, _ := cutWords(rest, langWindow)
		if la := d.detect(a); la != Unknown && la == d.detect(b) {
			return la
		}
	}
	return d.detect(text)
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
func (d *Detector) detect(text string) string {
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
		return Unknown
	case han+kana+hangul == 0 && d.candidate("en") && looksEnglish(text):
		return "en"
	case hangul*10 >= letters*3 && d.candidate("ko"):
		return "ko"
	case kana*10 >= letters && d.candidate("ja"):
		return "ja"
	case han*10 >= letters*3 && kana == 0 && d.candidate("zh"):
		return "zh"
	}
	values := d.detector.ComputeLanguageConfidenceValues(text)
	if len(values) == 0 || values[0].Value() == 0 || values[0].Value() < d.opts.MinConfidence ||
		(len(values) > 1 && values[0].Value() == values[1].Value()) {
		return Unknown
	}
	return strings.ToLower(values[0].Language().IsoCode639_1().String())
}

func (d *Detector) candidate(code string) bool {
	return len(d.opts.Candidates) == 0 || slices.Contains(d.opts.Candidates, code)
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

// Codes lists the ISO 639-1 codes of every language the detector knows,
// sorted, and "common" (see Parse): for shell completion.
func Codes() []string {
	var codes []string
	for _, l := range lingua.AllLanguages() {
		codes = append(codes, strings.ToLower(l.IsoCode639_1().String()))
	}
	slices.Sort(codes)
	return append(codes, "common")
}
