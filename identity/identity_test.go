package identity

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/sharegpt/sharegpt/pipeline"
)

// fastchatSHA256 is the SHA-256 of the hardcoded.json that FastChat's
// fastchat/data/hardcoded_questions.py (commit 02d4581b) writes, measured
// by running the script with Python 3.11: 937 records, 281,368 bytes.
const fastchatSHA256 = "8417481c3b3eeae8b99fff5991b5c53a943f5630042e53e16c7a8105e458e9a9"

func TestMatchesFastChatOutput(t *testing.T) {
	recs, err := Records(Options{Name: FastChatName, Org: FastChatOrg})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "hardcoded.json")
	w, err := pipeline.NewRegistry(pipeline.JSONFormats()...).Create(out, nil, pipeline.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != fastchatSHA256 || len(data) != 281368 {
		t.Errorf("output: %d bytes, sha256 %s; FastChat's: 281368 bytes, %s", len(data), got, fastchatSHA256)
	}
}

func TestRecords(t *testing.T) {
	recs, err := Records(Options{Name: FastChatName, Org: FastChatOrg})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != Count {
		t.Fatalf("%d records, want %d", len(recs), Count)
	}
	// Records of FastChat's output, one per group edge.
	tests := []struct {
		i        int
		question string
		answer   string
	}{
		{0, "Who are you?", "I am Vicuna, a language model trained by researchers from Large Model Systems Organization (LMSYS)."},
		{71, "Please introduce yourself.", "You may refer to me as Vicuna, a language model meticulously developed by the researchers at Large Model Systems Organization (LMSYS)."},
		{72, "Who created you?", "Researchers from Large Model Systems Organization (LMSYS) created me."},
		{120, "Who developed you?", "My creators are researchers from Large Model Systems Organization (LMSYS)."},
		{121, "Are you ChatGPT?", "No, I am a language model trained by researchers from Large Model Systems Organization (LMSYS)."},
		{500, "Are you created by Meta?", "No, I'm a language model developed by researchers from Large Model Systems Organization (LMSYS)."},
		{936, "Have you been finetuned with IBM data?", "No, I'm created by researchers from Large Model Systems Organization (LMSYS)."},
	}
	for _, tc := range tests {
		r := recs[tc.i]
		want := "identity_" + itoa(tc.i)
		if r.ID != want || len(r.Conversations) != 2 ||
			r.Conversations[0].From != "human" || r.Conversations[0].Value != tc.question ||
			r.Conversations[1].From != "gpt" || r.Conversations[1].Value != tc.answer {
			t.Errorf("record %d: %s %+v, want %s %q %q", tc.i, r.ID, r.Conversations, want, tc.question, tc.answer)
		}
	}
	for i, r := range recs {
		if r.ID != "identity_"+itoa(i) {
			t.Fatalf("record %d has id %s", i, r.ID)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestOptions(t *testing.T) {
	recs, err := Records(Options{Name: "Koala {org}", Org: "BAIR {name}", IDPrefix: "koala-"})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != Count {
		t.Fatalf("%d records", len(recs))
	}
	if r := recs[1]; r.ID != "koala-1" || r.Conversations[1].Value != "My name is Koala {org}, and I'm a language model developed by BAIR {name}." {
		t.Errorf("record 1: %s %q", r.ID, r.Conversations[1].Value)
	}
	for _, o := range []Options{{Name: "", Org: "x"}, {Name: "x", Org: "  "}} {
		if _, err := Records(o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}
