package augment

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Offline batch files.
//
// EmitBatch writes the requests a run needs and the cache cannot answer as
// OpenAI Batch API input (what `vllm run_batch` also reads), one JSON
// object a line:
//
//	{"custom_id":"<cache key>","method":"POST","url":"/v1/chat/completions","body":{...}}
//
// in shards DIR/requests-00001.jsonl... of at most ShardRows lines, and
// DIR/manifest.json last. The body is the one the online path sends, and
// the custom_id its cache key, so identical requests are written once.
// IngestBatch reads the output files of such a batch,
//
//	{"custom_id":"...","response":{"status_code":200,"body":{chat completion}},"error":null}
//
// and stores every answer in the cache; the run that follows, offline,
// takes them from there and writes what the online path would have
// written with the same answers. A backtranslation needs two rounds: the
// requests into the pivot language, then, once their answers are in the
// cache, the requests back.

// batchURL is the url of every batch line.
const batchURL = "/v1/chat/completions"

// maxBatchLine is the longest line of a batch output file that is read.
const maxBatchLine = 64 << 20

// batchRequest is one line of a batch input file.
type batchRequest struct {
	CustomID string          `json:"custom_id"`
	Method   string          `json:"method"`
	URL      string          `json:"url"`
	Body     json.RawMessage `json:"body"`
}

// BatchShard is one file of an emitted batch.
type BatchShard struct {
	File string `json:"file"` // relative to the batch directory
	Rows int    `json:"rows"`
}

// EmitStats say what EmitBatch wrote; the manifest holds them too.
type EmitStats struct {
	Dir       string `json:"-"`
	Method    string `json:"method"`
	Model     string `json:"model"`
	Prompts   string `json:"prompt_version"`
	Requests  int64  `json:"requests"`
	FirstHop  int64  `json:"first_hop"`  // into the pivot (or paraphrases)
	SecondHop int64  `json:"second_hop"` // back from the pivot
	Cached    int64  `json:"cached"`     // answered by the cache, not written
	Shared    int64  `json:"shared"`     // identical to a request already written
	// Round is which round of Rounds this batch is (1: it holds requests
	// of the first hop; 2: only back-translations), 0 when nothing was
	// left to ask.
	Round   int          `json:"round"`
	Rounds  int          `json:"rounds"`
	Shards  []BatchShard `json:"shards"`
	Created string       `json:"created"`
}

func (e *EmitStats) writeText(b *strings.Builder) {
	fmt.Fprintf(b, "augment: batch: %d requests written to %s in %d shard(s) (%d first hop, %d back-translations); %d answered by the cache, %d identical to one written\n",
		e.Requests, e.Dir, len(e.Shards), e.FirstHop, e.SecondHop, e.Cached, e.Shared)
	switch {
	case e.Requests == 0:
		b.WriteString("augment: next: every answer is in the cache: run the same command without --emit-batch (or with --offline) to write the output\n")
	case e.Round == 1 && e.Rounds == 2:
		b.WriteString("augment: next: round 1 of 2: run this batch (vllm run_batch or the OpenAI Batch API), then run the same command with --ingest-batch OUTPUT.jsonl... and --emit-batch NEWDIR for round 2\n")
	default:
		fmt.Fprintf(b, "augment: next: round %d of %d: run this batch (vllm run_batch or the OpenAI Batch API), then run the same command with --ingest-batch OUTPUT.jsonl... instead of --emit-batch: it writes the output\n", e.Round, e.Rounds)
	}
}

// emitter writes the batch files; add is called from the ordered stage,
// so the files' order is the input's.
type emitter struct {
	dir  string
	rows int

	mu    sync.Mutex
	seen  map[[32]byte]struct{} // keys written (32 bytes each: bounded by the distinct requests)
	f     *os.File
	w     *bufio.Writer
	tmp   string
	st    EmitStats
	err   error
	begun time.Time
}

func newEmitter(dir string, rows int) (*emitter, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("batch directory: %w", err)
	}
	for _, pat := range []string{"requests-*.jsonl", "manifest.json"} {
		if m, _ := filepath.Glob(filepath.Join(dir, pat)); len(m) > 0 {
			return nil, fmt.Errorf("batch directory %s already holds a batch (%s): use a new directory for each round", dir, filepath.Base(m[0]))
		}
	}
	return &emitter{dir: dir, rows: rows, seen: map[[32]byte]struct{}{}, st: EmitStats{Dir: dir}, begun: time.Now()}, nil
}

// add writes one request, unless an identical one was written; second
// says it is a back-translation.
func (e *emitter) add(key string, body []byte, second bool) error {
	var k [32]byte
	if _, err := hex.Decode(k[:], []byte(key)); err != nil {
		return fmt.Errorf("batch: key %q: %w", key, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err != nil {
		return e.err
	}
	if _, ok := e.seen[k]; ok {
		e.st.Shared++
		return nil
	}
	e.seen[k] = struct{}{}
	if e.f == nil || e.st.Shards[len(e.st.Shards)-1].Rows >= e.rows {
		if err := e.closeShard(); err != nil {
			return e.fail(err)
		}
		name := fmt.Sprintf("requests-%05d.jsonl", len(e.st.Shards)+1)
		e.tmp = filepath.Join(e.dir, "."+name+".tmp")
		f, err := os.Create(e.tmp)
		if err != nil {
			return e.fail(err)
		}
		e.f, e.w = f, bufio.NewWriterSize(f, 1<<20)
		e.st.Shards = append(e.st.Shards, BatchShard{File: name})
	}
	line, err := json.Marshal(batchRequest{CustomID: key, Method: "POST", URL: batchURL, Body: body})
	if err != nil {
		return e.fail(err)
	}
	if _, err := e.w.Write(append(line, '\n')); err != nil {
		return e.fail(err)
	}
	e.st.Shards[len(e.st.Shards)-1].Rows++
	e.st.Requests++
	if second {
		e.st.SecondHop++
	} else {
		e.st.FirstHop++
	}
	return nil
}

func (e *emitter) fail(err error) error {
	e.err = fmt.Errorf("batch: %w", err)
	return e.err
}

// cached counts a request the cache answers.
func (e *emitter) cached() {
	e.mu.Lock()
	e.st.Cached++
	e.mu.Unlock()
}

// closeShard flushes, syncs and renames the open shard; e.mu is held.
func (e *emitter) closeShard() error {
	if e.f == nil {
		return nil
	}
	f := e.f
	e.f = nil
	werr := e.w.Flush()
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return err
	}
	return os.Rename(e.tmp, filepath.Join(e.dir, e.st.Shards[len(e.st.Shards)-1].File))
}

func (e *emitter) stats(m Method) *EmitStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.st
	st.Shards = append([]BatchShard(nil), e.st.Shards...)
	st.Rounds = 1
	if m == Backtranslate {
		st.Rounds = 2
	}
	switch {
	case st.Requests == 0:
		st.Round = 0
	case st.FirstHop > 0:
		st.Round = 1
	default:
		st.Round = st.Rounds
	}
	return &st
}

// batchManifest is the manifest's content.
func (a *Augmenter) batchManifest() *EmitStats {
	st := a.emit.stats(a.opts.Method)
	st.Method, st.Model, st.Prompts = string(a.opts.Method), a.opts.Model, a.prompts.Version
	st.Created = a.emit.begun.UTC().Format(time.RFC3339)
	if st.Shards == nil {
		st.Shards = []BatchShard{}
	}
	return st
}

// finish closes the last shard and writes the manifest (temporary file,
// fsync, rename): a batch directory with a manifest is complete.
func (e *emitter) finish(m *EmitStats) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err != nil {
		return e.err
	}
	if err := e.closeShard(); err != nil {
		return e.fail(err)
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return e.fail(err)
	}
	tmp := filepath.Join(e.dir, ".manifest.json.tmp")
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return e.fail(err)
	}
	f, err := os.Open(tmp)
	if err == nil {
		err = errors.Join(f.Sync(), f.Close())
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(e.dir, "manifest.json"))
	}
	if err != nil {
		return e.fail(err)
	}
	return nil
}

// IngestStats say what IngestBatch read.
type IngestStats struct {
	Files int   `json:"files"`
	Lines int64 `json:"lines"`
	// Answers stored in the cache; AlreadyCached were there before.
	Answers       int64 `json:"answers"`
	AlreadyCached int64 `json:"already_cached"`
	// Duplicates are lines whose custom_id already had an answer in these
	// files: the first answer is kept.
	Duplicates int64 `json:"duplicates"`
	// Errors are lines with an error, a status other than 200 or a body
	// that is not a chat completion: not cached, so a new batch asks again.
	Errors int64 `json:"errors"`
	// Bad are lines that are not a batch output line with a cache key as
	// custom_id.
	Bad int64 `json:"bad"`
	// Examples of errors and bad lines (FILE:LINE: what), at most 5.
	Examples []string `json:"examples,omitempty"`
}

func (s *IngestStats) writeText(b *strings.Builder) {
	fmt.Fprintf(b, "augment: ingested %d lines of %d file(s): %d answers stored, %d already cached, %d duplicate custom_ids (first kept), %d errors, %d bad lines\n",
		s.Lines, s.Files, s.Answers, s.AlreadyCached, s.Duplicates, s.Errors, s.Bad)
	for _, e := range s.Examples {
		fmt.Fprintf(b, "augment:   %s\n", e)
	}
}

func (s *IngestStats) example(file string, line int64, format string, args ...any) {
	if len(s.Examples) < 5 {
		s.Examples = append(s.Examples, fmt.Sprintf("%s:%d: %s", file, line, fmt.Sprintf(format, args...)))
	}
}

// batchOutput is one line of a batch output file.
type batchOutput struct {
	CustomID string          `json:"custom_id"`
	Response json.RawMessage `json:"response"`
	Error    json.RawMessage `json:"error"`
}

// batchResponse is the response of a batch output line: the status and
// body of the answer (OpenAI, vLLM). A response without them that has
// choices is taken for the body itself (some run_batch versions).
type batchResponse struct {
	StatusCode int             `json:"status_code"`
	Body       json.RawMessage `json:"body"`
	Choices    json.RawMessage `json:"choices"`
}

// IngestBatch stores the answers of batch output files in the cache of
// cacheDir (see [Options.IngestBatch]).
func IngestBatch(ctx context.Context, cacheDir string, files []string) (*IngestStats, error) {
	c, err := OpenCache(cacheDir)
	if err != nil {
		return nil, err
	}
	return ingestBatch(ctx, c, files, newRedactor(""))
}

func ingestBatch(ctx context.Context, c *Cache, files []string, red *redactor) (*IngestStats, error) {
	st := &IngestStats{}
	seen := map[[32]byte]struct{}{} // answered in these files
	for _, name := range files {
		if err := ingestFile(ctx, c, name, red, st, seen); err != nil {
			return nil, err
		}
		st.Files++
	}
	return st, nil
}

func ingestFile(ctx context.Context, c *Cache, name string, red *redactor, st *IngestStats, seen map[[32]byte]struct{}) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("batch output: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	for n := int64(1); ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, err := readLine(r, maxBatchLine)
		if errors.Is(err, io.EOF) && len(line) == 0 {
			return nil
		}
		if errors.Is(err, errLongLine) {
			st.Lines++
			st.Bad++
			st.example(name, n, "line over %d bytes", maxBatchLine)
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("batch output %s: %w", name, err)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		st.Lines++
		if err := ingestLine(c, line, red, st, seen); err != nil {
			var bad *badLine
			if !errors.As(err, &bad) {
				return err
			}
			st.example(name, n, "%s", bad.msg)
		}
	}
}

// badLine is a line that is not ingested (counted as an error or bad).
type badLine struct{ msg string }

func (e *badLine) Error() string { return e.msg }

func ingestLine(c *Cache, line []byte, red *redactor, st *IngestStats, seen map[[32]byte]struct{}) error {
	var o batchOutput
	if err := json.Unmarshal(line, &o); err != nil {
		st.Bad++
		return &badLine{"not JSON: " + red.excerpt(err.Error(), messageRunes)}
	}
	var k [32]byte
	if len(o.CustomID) != 64 || strings.ToLower(o.CustomID) != o.CustomID {
		st.Bad++
		return &badLine{fmt.Sprintf("custom_id %q is not a cache key of this command", red.excerpt(o.CustomID, 80))}
	}
	if _, err := hex.Decode(k[:], []byte(o.CustomID)); err != nil {
		st.Bad++
		return &badLine{fmt.Sprintf("custom_id %q is not a cache key of this command", red.excerpt(o.CustomID, 80))}
	}
	if e := bytes.TrimSpace(o.Error); len(e) > 0 && !bytes.Equal(e, []byte("null")) {
		st.Errors++
		return &badLine{fmt.Sprintf("%s: error %s", o.CustomID, red.excerptBytes(e, messageRunes))}
	}
	var resp batchResponse
	if r := bytes.TrimSpace(o.Response); len(r) == 0 || bytes.Equal(r, []byte("null")) || json.Unmarshal(r, &resp) != nil {
		st.Errors++
		return &badLine{fmt.Sprintf("%s: neither a response nor an error", o.CustomID)}
	}
	if resp.StatusCode == 0 && resp.Body == nil && resp.Choices != nil {
		resp.StatusCode, resp.Body = 200, o.Response
	}
	if resp.StatusCode != 200 {
		st.Errors++
		return &badLine{fmt.Sprintf("%s: status %d: %s", o.CustomID, resp.StatusCode, red.excerpt(errorMessage(resp.Body), messageRunes))}
	}
	ans, err := parseChat(resp.Body, red)
	if err != nil {
		st.Errors++
		return &badLine{fmt.Sprintf("%s: %v", o.CustomID, err)}
	}
	if _, dup := seen[k]; dup {
		st.Duplicates++
		return nil
	}
	seen[k] = struct{}{}
	if _, ok, err := c.get(o.CustomID); err != nil && !errors.Is(err, errCorrupt) {
		return err
	} else if ok {
		st.AlreadyCached++
		return nil
	}
	if err := c.put(o.CustomID, cacheEntry{Answer: ans, Source: "batch"}); err != nil {
		return err
	}
	st.Answers++
	return nil
}

var errLongLine = errors.New("line too long")

// readLine reads a line of at most limit bytes; a longer one is skipped
// (errLongLine) without being kept in memory.
func readLine(r *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > limit {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = r.ReadSlice('\n')
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			return nil, errLongLine
		}
		line = append(line, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return line, err
	}
}

// ExpandBatchFiles resolves batch output names: a directory stands for
// its *.jsonl files, a pattern with * ? or [ for its matches (sorted), a
// file for itself. A name that matches nothing is an error.
func ExpandBatchFiles(names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		var m []string
		if st, err := os.Stat(n); err == nil && st.IsDir() {
			m, _ = filepath.Glob(filepath.Join(n, "*.jsonl"))
		} else if err == nil {
			m = []string{n}
		} else if strings.ContainsAny(n, "*?[") {
			if m, err = filepath.Glob(n); err != nil {
				return nil, fmt.Errorf("%s: %w", n, err)
			}
		} else {
			return nil, err
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("%s: no batch output file", n)
		}
		out = append(out, m...)
	}
	return out, nil
}
