package augment

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sharegpt/sharegpt/internal/lang"
	"github.com/sharegpt/sharegpt/pipeline"
)

// Reasons an augmented record is rejected.
const (
	ReasonPlaceholderMissing pipeline.Reason = "placeholder-missing"
	ReasonPlaceholderAltered pipeline.Reason = "placeholder-altered"
	ReasonEmpty              pipeline.Reason = "empty-answer"
	ReasonRefusal            pipeline.Reason = "refusal"
	ReasonTruncated          pipeline.Reason = "truncated"
	ReasonWrongLanguage      pipeline.Reason = "wrong-language"
	ReasonLengthRatio        pipeline.Reason = "length-ratio"
	ReasonTooSimilar         pipeline.Reason = "too-similar"
	ReasonTooDifferent       pipeline.Reason = "too-different"
	ReasonRequestFailed      pipeline.Reason = "request-failed"
	ReasonStopped            pipeline.Reason = "stopped"
	// Record-level reasons, only with DropOriginal (otherwise the original
	// is kept and the report counts them).
	ReasonNothingToAugment pipeline.Reason = "nothing-to-augment"
	ReasonMissingID        pipeline.Reason = "missing-id"
)

// failure is why one turn's augmentation was rejected.
type failure struct {
	reason pipeline.Reason
	detail string
}

func (f *failure) Error() string { return string(f.reason) + ": " + f.detail }

// refusals finds refusal phrases (lang.RefusalPhrases by default)
// case-insensitively on word boundaries, as clean's --drop-refusals does.
type refusals []string

func newRefusals(phrases []string) refusals {
	var r refusals
	for _, p := range phrases {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			r = append(r, p)
		}
	}
	return r
}

// match returns the first phrase found in answer but not in source.
func (r refusals) match(answer, source string) string {
	la, ls := strings.ToLower(answer), strings.ToLower(source)
	for _, p := range r {
		if lang.ContainsPhrase(la, p) && !lang.ContainsPhrase(ls, p) {
			return p
		}
	}
	return ""
}

// chrF is the character n-gram F-score (n = 1..6, beta = 2, whitespace
// ignored, orders without n-grams skipped, as sacreBLEU's chrF) of a
// hypothesis against a reference, from 0 to 1.
func chrF(hyp, ref string) float64 {
	const maxN, beta2 = 6, 4.0
	h, r := noSpace(hyp), noSpace(ref)
	if len(h) == 0 && len(r) == 0 {
		return 1
	}
	var sum float64
	orders := 0
	for n := 1; n <= maxN; n++ {
		if len(h) < n || len(r) < n {
			break
		}
		hc, rc := ngrams(h, n), ngrams(r, n)
		match := 0
		for g, c := range hc {
			match += min(c, rc[g])
		}
		orders++
		if match == 0 {
			continue
		}
		p := float64(match) / float64(len(h)-n+1)
		rec := float64(match) / float64(len(r)-n+1)
		sum += (1 + beta2) * p * rec / (beta2*p + rec)
	}
	if orders == 0 {
		return 0
	}
	return sum / float64(orders)
}

func noSpace(s string) []rune {
	out := make([]rune, 0, len(s))
	for _, c := range s {
		if !unicode.IsSpace(c) {
			out = append(out, c)
		}
	}
	return out
}

func ngrams(s []rune, n int) map[string]int {
	m := make(map[string]int, len(s))
	for i := 0; i+n <= len(s); i++ {
		m[string(s[i:i+n])]++
	}
	return m
}

// trimAnswer trims an answer and removes quotation marks wrapped around all
// of it when the source was not so wrapped.
func trimAnswer(answer, source string) string {
	a := strings.TrimSpace(answer)
	for _, q := range [][2]string{{`"`, `"`}, {"“", "”"}, {"„", "“"}, {"«", "»"}, {"「", "」"}, {"'", "'"}} {
		if len(a) > len(q[0])+len(q[1]) && strings.HasPrefix(a, q[0]) && strings.HasSuffix(a, q[1]) &&
			!strings.HasPrefix(strings.TrimSpace(source), q[0]) && !strings.Contains(a[len(q[0]):len(a)-len(q[1])], q[1]) {
			return strings.TrimSpace(a[len(q[0]) : len(a)-len(q[1])])
		}
	}
	return a
}

// gateResult is the outcome of the final gates for one turn.
type gateResult struct {
	text string  // restored answer
	sim  float64 // chrF to the source
}

// finalGates checks the last answer of a turn against its source: the
// answer (placeholders in) restored, then language, length and similarity.
func (a *Augmenter) finalGates(src *turnSource, ans answer) (gateResult, *failure) {
	text := trimAnswer(ans.Content, src.prot.Text)
	if f := a.commonGates(src, text, ans); f != nil {
		return gateResult{}, f
	}
	restored, f := src.prot.Restore(text)
	if f != nil {
		return gateResult{}, f
	}
	prose := stripPlaceholders(text)
	if lang := a.detect(prose); lang != src.lang {
		return gateResult{}, &failure{ReasonWrongLanguage, fmt.Sprintf("answer is in %s, the source in %s", lang, src.lang)}
	}
	srcLen, ansLen := utf8.RuneCountInString(strings.TrimSpace(src.prose)), utf8.RuneCountInString(strings.TrimSpace(prose))
	ratio := float64(ansLen) / float64(max(srcLen, 1))
	if ratio < a.opts.MinLengthRatio || ratio > a.opts.MaxLengthRatio {
		return gateResult{}, &failure{ReasonLengthRatio, fmt.Sprintf("length ratio %.2f (%d / %d characters) outside [%g, %g]", ratio, ansLen, srcLen, a.opts.MinLengthRatio, a.opts.MaxLengthRatio)}
	}
	sim := chrF(prose, src.prose)
	switch {
	case sim > a.opts.MaxSim:
		return gateResult{}, &failure{ReasonTooSimilar, fmt.Sprintf("chrF %.4f > %g", sim, a.opts.MaxSim)}
	case sim < a.opts.MinSim:
		return gateResult{}, &failure{ReasonTooDifferent, fmt.Sprintf("chrF %.4f < %g", sim, a.opts.MinSim)}
	}
	return gateResult{text: restored, sim: sim}, nil
}

// pivotGates checks a pivot text before it is translated back: not empty,
// placeholders intact, no refusal, complete, and in the pivot language.
func (a *Augmenter) pivotGates(src *turnSource, pivot string, ans answer) (string, *failure) {
	text := trimAnswer(ans.Content, src.prot.Text)
	if f := a.commonGates(src, text, ans); f != nil {
		f.detail = "pivot " + pivot + ": " + f.detail
		return "", f
	}
	if f := src.prot.Check(text); f != nil {
		f.detail = "pivot " + pivot + ": " + f.detail
		return "", f
	}
	if lang := a.detect(stripPlaceholders(text)); lang != pivot {
		return "", &failure{ReasonWrongLanguage, fmt.Sprintf("pivot text is in %s, want %s", lang, pivot)}
	}
	return text, nil
}

// commonGates are the checks every answer passes first.
func (a *Augmenter) commonGates(src *turnSource, text string, ans answer) *failure {
	if strings.TrimSpace(stripPlaceholders(text)) == "" {
		return &failure{ReasonEmpty, "the answer has no text"}
	}
	if p := a.refusals.match(text, src.prot.Text); p != "" {
		return &failure{ReasonRefusal, fmt.Sprintf("answer contains %q", p)}
	}
	if ans.FinishReason == "length" {
		return &failure{ReasonTruncated, fmt.Sprintf("the answer hit max_tokens (%d completion tokens)", ans.Usage.CompletionTokens)}
	}
	return nil
}
