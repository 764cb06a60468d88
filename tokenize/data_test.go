package tokenize

import (
	"bufio"
	"bytes"
	"encoding/json"
	"github.com/sharegpt/sharegpt/internal/oracle"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/internal/chat"
	"github.com/sharegpt/sharegpt/internal/tokenizer"
	"github.com/sharegpt/sharegpt/pipeline"
)

// conversation is one record of the real data in testdata/ (copied from
// shared/data with its licences, see testdata/SOURCES.md).
type conversation struct {
	file  string
	id    string
	turns []pipeline.Turn
}

func (c conversation) String() string { return filepath.Base(c.file) + " " + c.id }

// dataConversations reads every record with conversations from the
// ShareGPT and multilingual files of testdata/.
func dataConversations(t testing.TB) []conversation {
	t.Helper()
	var files []string
	for _, pat := range []string{"sharegpt/*.json", "multilingual/*.json", "multilingual/*.jsonl"} {
		m, err := filepath.Glob(filepath.Join("..", "testdata", pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		oracle.Missing(t, "real data not found under ../testdata")
	}
	type record struct {
		ID            string          `json:"id"`
		Conversations []pipeline.Turn `json:"conversations"`
	}
	var out []conversation
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var recs []record
		trimmed := bytes.TrimSpace(data)
		switch {
		case strings.HasSuffix(f, ".jsonl"):
			sc := bufio.NewScanner(bytes.NewReader(data))
			sc.Buffer(nil, 64<<20)
			for sc.Scan() {
				var r record
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				recs = append(recs, r)
			}
		case len(trimmed) > 0 && trimmed[0] == '[':
			if err := json.Unmarshal(data, &recs); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
		default:
			var r record
			if err := json.Unmarshal(data, &r); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			recs = append(recs, r)
		}
		for i, r := range recs {
			if len(r.Conversations) == 0 {
				continue
			}
			id := r.ID
			if id == "" {
				id = "#" + strconv.Itoa(i)
			}
			out = append(out, conversation{file: f, id: id, turns: r.Conversations})
		}
	}
	return out
}

// lenientMessages maps turns to messages by position, whatever their
// roles (a leading system turn gives the system message), so that every
// real conversation can be rendered for the encoding checks.
func lenientMessages(tmpl chat.Template, turns []pipeline.Turn) (string, []chat.Message) {
	system := tmpl.DefaultSystem
	if len(turns) > 0 && turns[0].From == pipeline.RoleSystem {
		system = turns[0].Value
		turns = turns[1:]
	}
	msgs := make([]chat.Message, len(turns))
	for i, t := range turns {
		msgs[i] = chat.Message{Role: chat.Role(i % 2), Content: t.Value}
	}
	return system, msgs
}

// surface returns the exact text a token stands for: a control token's
// piece ("</s>"), a byte token's byte, any other piece with "▁" as a space.
func surface(tok *tokenizer.Tokenizer, id int32) string {
	p := tok.Piece(int(id))
	if tok.IsControl(int(id)) {
		return p
	}
	if len(p) == 6 && strings.HasPrefix(p, "<0x") && p[5] == '>' {
		var b byte
		for _, c := range p[3:5] {
			b <<= 4
			switch {
			case c >= '0' && c <= '9':
				b |= byte(c - '0')
			default:
				b |= byte(c-'A') + 10
			}
		}
		return string([]byte{b})
	}
	return strings.ReplaceAll(p, "▁", " ")
}
