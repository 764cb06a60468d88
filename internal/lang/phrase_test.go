package lang

import "testing"

func TestContainsPhrase(t *testing.T) {
	tests := []struct {
		text, phrase string
		want         bool
	}{
		{"as an ai language model, i cannot", "as an ai language model", true},
		{"well, as an ai language model.", "as an ai language model", true},
		{"has an ai language model", "as an ai language model", false}, // inside a word
		{"as an ai language models are", "as an ai language model", false},
		{"x_as an ai language model", "as an ai language model", false}, // '_' is a word character
		{"first has it, then as it", "as it", true},                     // a later match on boundaries
		{"é as it", "as it", true},
		{"", "as it", false},
	}
	for _, tt := range tests {
		if got := ContainsPhrase(tt.text, tt.phrase); got != tt.want {
			t.Errorf("ContainsPhrase(%q, %q) = %v, want %v", tt.text, tt.phrase, got, tt.want)
		}
	}
}

func TestPhraseMatcher(t *testing.T) {
	m := NewPhraseMatcher([]string{"  I'm Sorry, But I Cannot ", "", "my knowledge cutoff"})
	texts := []string{"I'm sorry, but I cannot help.", "My knowledge cutoff is 2021.", "Nothing here.", "i'm sorry, but i cannot"}
	var got []string
	for _, s := range texts {
		got = append(got, m.Match(s))
	}
	want := []string{"i'm sorry, but i cannot", "my knowledge cutoff", "", "i'm sorry, but i cannot"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Match(%q) = %q, want %q", texts[i], got[i], want[i])
		}
	}
	hits := m.Hits()
	if len(hits) != 2 || hits["i'm sorry, but i cannot"] != 2 || hits["my knowledge cutoff"] != 1 {
		t.Errorf("Hits() = %v", hits)
	}
}
