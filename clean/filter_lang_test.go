package clean

import (
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/pipeline"
)

func TestLanguageFilterPolicy(t *testing.T) {
	en := pipeline.NewRecord("en", turns("human", "Could you please explain how photosynthesis works in plants?", "gpt", "Sure."))
	ko := pipeline.NewRecord("ko", turns("human", "광합성이 식물에서 어떻게 작동하는지 설명해 주시겠어요?", "gpt", "네."))
	code := pipeline.NewRecord("code", turns("human", "```\nfmt.Println(1)\n``` https://example.com/a", "gpt", "ok"))
	tests := []struct {
		name string
		opts LanguageOptions
		want string // kept ids
	}{
		{"keep en", LanguageOptions{Keep: []string{"en"}}, "en"},
		{"skip ko", LanguageOptions{Skip: []string{"ko"}}, "en code"},
		{"keep en and unknown", LanguageOptions{Keep: []string{"en"}, Unknown: "keep"}, "en code"},
		{"skip ko and unknown", LanguageOptions{Skip: []string{"ko"}, Unknown: "skip"}, "en"},
		{"tag", LanguageOptions{Tag: true, Keep: []string{"en"}}, "en ko code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Candidates = []string{"en", "ko", "zh", "de"}
			f, err := NewLanguageFilter(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var kept []string
			for _, r := range []*pipeline.Record{en, ko, code} {
				r = r.Clone()
				if reason, _ := f.apply(r); reason == "" {
					kept = append(kept, r.ID)
					if tt.opts.Tag {
						if l, _ := r.StringField("lang"); l != map[string]string{"en": "en", "ko": "ko", "code": "unknown"}[r.ID] {
							t.Errorf("%s tagged %q", r.ID, l)
						}
					}
				}
			}
			if got := strings.Join(kept, " "); got != tt.want {
				t.Errorf("kept %q, want %q", got, tt.want)
			}
		})
	}
}
