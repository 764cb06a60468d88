package clean

import "strings"

// What clean does to a turn. Every kept turn is counted in the report
// (Details.TurnChanges, per role) under exactly one rule, the first that
// applies:
//
//   - unchanged: the output is the input, byte for byte;
//   - html-converted: an assistant turn that Classify took for share-page
//     HTML or an HTML fragment, converted to Markdown;
//   - trimmed: only white space at the start and end was removed;
//   - noise-removed: FastChat's scraper noise was removed (a leading "N / M"
//     regenerate counter, "CopyN chars / N words"), and the rest trimmed.
//
// Nothing else ever changes in a turn: a Markdown or plain-text turn comes
// out as one of unchanged, trimmed or noise-removed.

// ChangeRule names what clean did to a turn.
type ChangeRule uint8

const (
	ChangeNone    ChangeRule = iota // unchanged
	ChangeHTML                      // html-converted
	ChangeTrimmed                   // trimmed
	ChangeNoise                     // noise-removed
	numChangeRules
)

var changeNames = [numChangeRules]string{"unchanged", "html-converted", "trimmed", "noise-removed"}

// String returns the rule's name as the report writes it.
func (r ChangeRule) String() string { return changeNames[r] }

// ChangeOf returns the rule that turned in into out, for a turn Classify
// (or the role) took for kind k.
func ChangeOf(in, out string, k Kind) ChangeRule {
	switch {
	case out == in:
		return ChangeNone
	case k != KindMarkdown:
		return ChangeHTML
	case out == strings.TrimSpace(in):
		return ChangeTrimmed
	}
	return ChangeNoise
}

// Roles as the tally counts them.
const (
	roleHuman = iota
	roleGPT
	roleOther
	numRoles
)

var roleNames = [numRoles]string{"human", "gpt", "other"}

func roleIndex(role string) int {
	switch role {
	case "human":
		return roleHuman
	case "gpt":
		return roleGPT
	}
	return roleOther
}

// turnChange is what clean did to one turn.
type turnChange struct {
	role int
	rule ChangeRule
	kind Kind
}

func newTurnChange(role, in, out string, k Kind) turnChange {
	return turnChange{role: roleIndex(role), rule: ChangeOf(in, out, k), kind: k}
}

// turnTally counts turns by role and rule, and assistant turns by kind.
type turnTally struct {
	rules [numRoles][numChangeRules]int64
	kinds [KindHTMLFragment + 1]int64
}

// count adds d turns like c.
func (t *turnTally) count(c turnChange, d int64) {
	t.rules[c.role][c.rule] += d
	if c.role == roleGPT {
		t.kinds[c.kind] += d
	}
}

// add adds the counts of o.
func (t *turnTally) add(o *turnTally) {
	for r := range o.rules {
		for c := range o.rules[r] {
			t.rules[r][c] += o.rules[r][c]
		}
	}
	for k := range o.kinds {
		t.kinds[k] += o.kinds[k]
	}
}

// maps returns the counts as the report writes them: assistant turns by
// kind, and for each role with turns, its turns by rule.
func (t *turnTally) maps() (map[string]int64, map[string]map[string]int64) {
	kinds := map[string]int64{}
	for k, n := range t.kinds {
		kinds[Kind(k).String()] = n
	}
	rules := map[string]map[string]int64{}
	for r := range t.rules {
		var total int64
		m := map[string]int64{}
		for c, n := range t.rules[r] {
			m[ChangeRule(c).String()] = n
			total += n
		}
		if total > 0 {
			rules[roleNames[r]] = m
		}
	}
	return kinds, rules
}
