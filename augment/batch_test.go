package augment_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sharegpt/sharegpt/augment"
	"github.com/sharegpt/sharegpt/augment/augmenttest"
)

type batchLine struct {
	CustomID string          `json:"custom_id"`
	Method   string          `json:"method"`
	URL      string          `json:"url"`
	Body     json.RawMessage `json:"body"`
}

// readBatch reads an emitted batch: its manifest and every request line.
func readBatch(t *testing.T, dir string) (augment.EmitStats, []batchLine) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m augment.EmitStats
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	var lines []batchLine
	for _, sh := range m.Shards {
		f, err := os.Open(filepath.Join(dir, sh.File))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		rows := 0
		for sc.Scan() {
			var l batchLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatalf("%s: %v", sh.File, err)
			}
			lines = append(lines, l)
			rows++
		}
		f.Close()
		if rows != sh.Rows {
			t.Errorf("%s: %d rows, the manifest says %d", sh.File, rows, sh.Rows)
		}
	}
	return m, lines
}

// answerBatch plays vllm run_batch: it sends each body to the fake server
// and writes the output lines, in reverse order (a batch's output order is
// not its input's), to a file.
func answerBatch(t *testing.T, srv *augmenttest.Server, lines []batchLine) string {
	t.Helper()
	var out bytes.Buffer
	for _, l := range slices.Backward(lines) {
		resp, err := http.Post(srv.URL+l.URL, "application/json", bytes.NewReader(l.Body))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		line, _ := json.Marshal(map[string]any{
			"id": "batch_req_" + l.CustomID[:8], "custom_id": l.CustomID,
			"response": map[string]any{"status_code": resp.StatusCode, "request_id": "r", "body": json.RawMessage(body)},
			"error":    nil,
		})
		out.Write(append(line, '\n'))
	}
	path := filepath.Join(t.TempDir(), "output.jsonl")
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBatchRoundTrip: the same answers through the online path and
// through emitted batch files (two rounds for backtranslation) give the
// same output and rejects, byte for byte, and the offline runs contact no
// server.
func TestBatchRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		opts   func(*augment.Options)
		rounds int
	}{
		{"backtranslate through de and fr", func(o *augment.Options) { o.Pivots = []string{"de", "fr"} }, 2},
		{"paraphrase of all roles", func(o *augment.Options) {
			o.Method, o.Pivots, o.Roles = augment.Paraphrase, nil, "all"
		}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := augmenttest.NewServer()
			defer srv.Close()
			input := manyRecords(12) + record("dup", sentence1, "ok") // shares r00's requests
			opts := testOptions(t, srv)
			tc.opts(&opts)
			online := run(t, opts, input)
			if online.stats.Augmented == 0 {
				t.Fatal("nothing augmented online")
			}

			// Offline: no server (a closed port) and a fresh cache.
			batch := opts
			batch.BaseURL = "http://127.0.0.1:1/v1"
			batch.CacheDir = t.TempDir()
			batch.ShardRows = 7
			var outputs []string
			for round := 1; ; round++ {
				o := batch
				o.EmitBatch = filepath.Join(t.TempDir(), "batch")
				o.IngestBatch = outputs
				res := run(t, o, input)
				m, lines := readBatch(t, o.EmitBatch)
				if res.out != "" {
					t.Errorf("round %d: an emit run wrote output", round)
				}
				if m.Requests == 0 {
					if round != tc.rounds+1 || m.Round != 0 {
						t.Fatalf("nothing left after %d rounds (manifest round %d), want %d rounds", round-1, m.Round, tc.rounds)
					}
					break
				}
				if m.Round != round || m.Rounds != tc.rounds || m.Model != "fake-vicuna" || int(m.Requests) != len(lines) {
					t.Errorf("round %d manifest %+v with %d lines", round, m, len(lines))
				}
				if len(m.Shards) != (len(lines)+6)/7 || m.Shards[0].File != "requests-00001.jsonl" {
					t.Errorf("round %d: shards %+v for %d lines of at most 7", round, m.Shards, len(lines))
				}
				if m.Shared == 0 {
					t.Errorf("round %d: the record sharing r00's turn shared no request", round)
				}
				ids := map[string]bool{}
				for _, l := range lines {
					if l.Method != "POST" || l.URL != "/v1/chat/completions" || len(l.CustomID) != 64 || ids[l.CustomID] {
						t.Fatalf("round %d: bad or repeated line %+v", round, l)
					}
					ids[l.CustomID] = true
				}
				outputs = append(outputs, answerBatch(t, srv, lines))
				if round > 3 {
					t.Fatal("too many rounds")
				}
			}
			o := batch
			o.IngestBatch = outputs
			before := len(srv.Requests())
			res := run(t, o, input)
			if res.out != online.out || res.rejects != online.rejects {
				t.Errorf("the batch path's output differs from the online path's:\n%s\nwant:\n%s\nrejects:\n%s\nwant:\n%s", res.out, online.out, res.rejects, online.rejects)
			}
			if len(srv.Requests()) != before || res.stats.Requests != 0 || res.stats.OfflineMissing != 0 {
				t.Errorf("the ingest run sent %d requests (%d missing)", res.stats.Requests, res.stats.OfflineMissing)
			}
			if res.stats.Ingested == nil || res.stats.Ingested.AlreadyCached != res.stats.Ingested.Lines || res.stats.Ingested.Answers != 0 {
				t.Errorf("ingesting again: %+v, want every answer already cached", res.stats.Ingested)
			}
		})
	}
}

// TestIngestFaults: error lines, non-200 statuses, bad lines, duplicate
// custom_ids and missing responses; the offline run rejects what has no
// answer as stopped and says the same round is next; a new emit asks for
// exactly the requests without an answer.
func TestIngestFaults(t *testing.T) {
	srv := augmenttest.NewServer()
	defer srv.Close()
	input := record("a", sentence1, "ok") + record("b", sentence2, "ok") + record("c", sentence3, "ok") + record("d", withCode, "ok")
	opts := testOptions(t, srv)
	opts.BaseURL = "http://127.0.0.1:1/v1"
	emit := opts
	emit.EmitBatch = filepath.Join(t.TempDir(), "b1")
	run(t, emit, input)
	_, lines := readBatch(t, emit.EmitBatch)
	if len(lines) != 4 {
		t.Fatalf("%d requests in round 1, want 4", len(lines))
	}
	answered := answerBatch(t, srv, lines) // reversed: d, c, b, a
	outLines := strings.SplitAfter(strings.TrimSuffix(readFile(t, answered), "\n"), "\n")
	// d: answered twice, the second answer different (the first is kept);
	// b: an error line; c: a 500; a: missing. Plus junk.
	other := strings.Replace(outLines[0], `"content":"`, `"content":"Anders: `, 1)
	errLine := `{"id":"x","custom_id":"` + lines[1].CustomID + `","response":null,"error":{"code":"batch_expired","message":"This request could not be executed before the completion window expired."}}` + "\n"
	status := `{"id":"y","custom_id":"` + lines[2].CustomID + `","response":{"status_code":500,"body":{"error":{"message":"engine died"}}},"error":null}` + "\n"
	junk := `{"custom_id":"not-a-key","response":{"status_code":200,"body":{}}}` + "\n" + `{"custom_id":` + "\n"
	file := filepath.Join(t.TempDir(), "out.jsonl")
	if err := os.WriteFile(file, []byte(outLines[0]+other+errLine+status+junk), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := augment.IngestBatch(context.Background(), opts.CacheDir, []string{file})
	if err != nil {
		t.Fatal(err)
	}
	if st.Lines != 6 || st.Answers != 1 || st.Duplicates != 1 || st.Errors != 2 || st.Bad != 2 || len(st.Examples) != 4 {
		t.Fatalf("ingest stats %+v", st)
	}
	joined := strings.Join(st.Examples, "\n")
	for _, want := range []string{"out.jsonl:3: " + lines[1].CustomID + `: error {"code":"batch_expired"`, "out.jsonl:4: " + lines[2].CustomID + ": status 500: engine died", `out.jsonl:5: custom_id "not-a-key" is not a cache key`, "out.jsonl:6: not JSON"} {
		if !strings.Contains(joined, want) {
			t.Errorf("examples lack %q:\n%s", want, joined)
		}
	}

	// The offline run: d's first hop is cached (its second is not), the
	// others have no answer: everything is rejected as stopped.
	off := opts
	off.Offline = true
	res := run(t, off, input)
	_, rej := records(t, res.rejects)
	if len(rej) != 4 || res.stats.OfflineMissing != 4 || res.stats.OfflineMissingSecond != 1 {
		t.Errorf("%d rejects, %d missing (%d second hops); want 4, 4, 1", len(rej), res.stats.OfflineMissing, res.stats.OfflineMissingSecond)
	}
	for id, r := range rej {
		if r["reason"] != "stopped" || !strings.Contains(r["detail"].(string), "offline run") {
			t.Errorf("%s: %v %v", id, r["reason"], r["detail"])
		}
	}
	var text strings.Builder
	res.stats.WriteText(&text)
	if !strings.Contains(text.String(), "next: 3 requests of round 1 have no answer") {
		t.Errorf("summary:\n%s", text.String())
	}
	if len(srv.Requests()) != 4 {
		t.Errorf("the offline run contacted the server")
	}
	// A new emit asks again for a, b and c's first hops and d's second.
	emit.EmitBatch = filepath.Join(t.TempDir(), "b2")
	run(t, emit, input)
	m, again := readBatch(t, emit.EmitBatch)
	var got []string
	for _, l := range again {
		got = append(got, l.CustomID)
	}
	want := []string{lines[0].CustomID, lines[1].CustomID, lines[2].CustomID}
	if m.FirstHop != 3 || m.SecondHop != 1 || m.Round != 1 || len(got) != 4 || !slices.Equal(got[:3], want) || slices.Contains(got, lines[3].CustomID) {
		t.Errorf("second emit: %+v, ids %v; want a, b, c's first hops again and d's second", m, got)
	}
	// d's back-translation starts from the first answer ingested, not the
	// duplicate's.
	if len(again) == 4 && (!strings.Contains(string(again[3].Body), "Warum macht [[CODE_1]] druckt nichts") || strings.Contains(string(again[3].Body), "Anders")) {
		t.Errorf("d's second hop %s: want it built on the first answer", again[3].Body)
	}
	// An emit into a used directory is refused.
	if _, err := augment.New(context.Background(), emit); err == nil || !strings.Contains(err.Error(), "already holds a batch") {
		t.Errorf("emit into a used directory: %v", err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
