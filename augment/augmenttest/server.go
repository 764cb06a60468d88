// Package augmenttest provides a fake OpenAI-compatible chat server for
// tests of the augment package and the augment command: an httptest
// server that answers /v1/models and /v1/chat/completions, translates and
// paraphrases a small vocabulary deterministically (so that the answers
// pass augment's gates), logs every request, and injects faults on demand
// (error statuses with Retry-After, malformed bodies, connections reset
// mid-response, hangs).
package augmenttest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// ChatRequest is the part of a chat completion request the server reads.
type ChatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	Temperature float64 `json:"temperature"`
	MaxTokens   int     `json:"max_tokens"`
}

// User returns the content of the last user message.
func (r *ChatRequest) User() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == "user" {
			return r.Messages[i].Content
		}
	}
	return ""
}

// Action is what the server does with one chat request; the zero value
// answers normally.
type Action struct {
	Status     int    // an error status (with Body, or an OpenAI error object)
	RetryAfter string // Retry-After header with Status
	Body       string // raw body for Status, or for a 200 when Malformed
	Malformed  bool   // 200 with Body (default: a truncated JSON object)
	Reset      bool   // send headers and half a body, then reset the connection
	Hang       time.Duration
	// Block, when set, holds the request until the channel is closed (or
	// the client goes away), then answers normally.
	Block  <-chan struct{}
	Answer *string // answer with this content instead of the translation
	Finish string  // finish_reason (default "stop")
	// Write, when set, streams the body of the answer (status Status, or
	// 200) instead of Body: for bodies too large to build in memory. An
	// error (the client went away) ends it.
	Write func(w io.Writer) error
}

// Request is one logged request.
type Request struct {
	N       int // 1-based arrival order among chat requests (0 for others)
	Path    string
	Body    string
	Auth    string // the Authorization header
	Chat    ChatRequest
	Outcome string // "pending", "answered", "status 500", "malformed", "reset", "streamed", "gone"
}

// Server is a fake OpenAI-compatible server.
type Server struct {
	*httptest.Server
	Models []string
	// Fault, when set, chooses the action for the n-th chat request
	// (1-based); nil answers normally. Set it before the first request,
	// or with SetFault while requests may be running.
	Fault func(n int, req *ChatRequest) *Action
	// ModelsFault, when set, answers GET /v1/models with its Status and
	// Body (or Write) instead of the list; set it before the first request,
	// or with SetModelsFault while requests may be running.
	ModelsFault *Action

	mu          sync.Mutex
	log         []Request
	n           int
	inFlight    int
	maxInFlight int
}

// MaxInFlight returns the most chat requests that were open at once.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// NewServer starts a server; close it with Close. Its API root is URL+"/v1".
func NewServer() *Server {
	s := &Server{Models: []string{"fake-vicuna"}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/models", s.models)
	mux.HandleFunc("POST /v1/chat/completions", s.chat)
	s.Server = httptest.NewServer(mux)
	return s
}

// SetFault replaces Fault safely while requests are running.
func (s *Server) SetFault(f func(n int, req *ChatRequest) *Action) {
	s.mu.Lock()
	s.Fault = f
	s.mu.Unlock()
}

// BaseURL is the API root to give clients.
func (s *Server) BaseURL() string { return s.URL + "/v1" }

// Requests returns the log of all requests so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// Answered returns the chat requests that got a complete answer.
func (s *Server) Answered() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Path == "/v1/chat/completions" && r.Outcome == "answered" {
			out = append(out, r)
		}
	}
	return out
}

// Duplicates returns the bodies answered more than once.
func (s *Server) Duplicates() []string {
	seen := map[string]int{}
	var dups []string
	for _, r := range s.Answered() {
		seen[r.Body]++
		if seen[r.Body] == 2 {
			dups = append(dups, r.Body)
		}
	}
	return dups
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	s.log = append(s.log, r)
	s.mu.Unlock()
}

// SetModelsFault replaces ModelsFault safely while requests are running
// (also from a Fault function).
func (s *Server) SetModelsFault(a *Action) {
	s.mu.Lock()
	s.ModelsFault = a
	s.mu.Unlock()
}

func (s *Server) models(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	act := s.ModelsFault
	s.mu.Unlock()
	if act != nil && (act.Status != 0 || act.Write != nil) {
		s.record(Request{Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Outcome: fmt.Sprintf("status %d", act.Status)})
		writeBody(w, act, act.Body)
		return
	}
	s.record(Request{Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Outcome: "answered"})
	type model struct {
		ID     string `json:"id"`
		Object string `json:"object"`
	}
	list := struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{Object: "list", Data: []model{}}
	for _, m := range s.Models {
		list.Data = append(list.Data, model{ID: m, Object: "model"})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(list)
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	var body strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Body.Read(buf)
		body.Write(buf[:n])
		if err != nil {
			break
		}
	}
	req := Request{Path: r.URL.Path, Body: body.String(), Auth: r.Header.Get("Authorization"), Outcome: "pending"}
	s.mu.Lock()
	s.n++
	n := s.n
	req.N = n
	at := len(s.log)
	s.log = append(s.log, req)
	fault := s.Fault
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
	// outcome records how the request ended.
	record := func(outcome string) {
		s.mu.Lock()
		s.log[at].Outcome = outcome
		s.mu.Unlock()
	}
	if err := json.Unmarshal([]byte(req.Body), &req.Chat); err != nil || len(req.Chat.Messages) == 0 {
		record("status 400")
		http.Error(w, `{"error":{"code":400,"message":"'messages' is required","type":"invalid_request_error"}}`, http.StatusBadRequest)
		return
	}
	act := &Action{}
	if fault != nil {
		if a := fault(n, &req.Chat); a != nil {
			act = a
		}
	}
	if act.Block != nil {
		select {
		case <-act.Block:
		case <-r.Context().Done():
			record("gone")
			return
		}
	}
	if act.Hang > 0 {
		t := time.NewTimer(act.Hang)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			record("gone")
			return
		}
	}
	switch {
	case act.Status != 0:
		record(fmt.Sprintf("status %d", act.Status))
		if act.RetryAfter != "" {
			w.Header().Set("Retry-After", act.RetryAfter)
		}
		b := act.Body
		if b == "" {
			b = fmt.Sprintf(`{"error":{"code":%d,"message":"fake error %d","type":"server_error"}}`, act.Status, act.Status)
		}
		writeBody(w, act, b)
		return
	case act.Write != nil:
		if writeBody(w, act, "") != nil {
			record("gone")
		} else {
			record("streamed")
		}
		return
	case act.Malformed:
		record("malformed")
		b := act.Body
		if b == "" {
			b = `{"id":"x","choices":[{"message":{"content":"Hal`
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(b))
		return
	case act.Reset:
		record("reset")
		reset(w)
		return
	}
	content := Respond(&req.Chat)
	if act.Answer != nil {
		content = *act.Answer
	}
	finish := act.Finish
	if finish == "" {
		finish = "stop"
	}
	prompt, completion := words(req.Chat.User()), words(content)
	resp := map[string]any{
		"id":      fmt.Sprintf("chatcmpl-%d", n),
		"object":  "chat.completion",
		"created": 0,
		"model":   req.Chat.Model,
		"choices": []any{map[string]any{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": content},
			"finish_reason": finish,
		}},
		"usage": map[string]int{"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
	}
	data, _ := json.Marshal(resp)
	w.Header().Set("Content-Type", "application/json")
	if _, err := w.Write(data); err != nil {
		record("gone")
	} else {
		record("answered")
	}
}

// writeBody answers with act.Status (200 when 0) and body, or what
// act.Write streams.
func writeBody(w http.ResponseWriter, act *Action, body string) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(cmp.Or(act.Status, http.StatusOK))
	if act.Write != nil {
		return act.Write(w)
	}
	_, err := io.WriteString(w, body)
	return err
}

// reset writes the start of an answer and resets the connection.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		w.WriteHeader(http.StatusInternalServerError) // HTTP/2: no hijacking
		return
	}
	conn, bw, err := hj.Hijack()
	if err != nil {
		return
	}
	bw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n" + `{"id":"x","choices":[{"message":{"content":"Hal`)
	bw.Flush()
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // RST instead of FIN
	}
	conn.Close()
}

func words(s string) int { return len(strings.Fields(s)) + 1 }

var (
	intoRE       = regexp.MustCompile(`into (\p{L}+)\.`)
	paraphraseRE = regexp.MustCompile(`^Rewrite the text below in (\p{L}+)`)
)

// Respond is the server's normal answer to a request made with augment's
// built-in prompts: the text (after the prompt's first blank line)
// translated word by word into German (from English), back into English
// with some synonyms (from German), or paraphrased with synonyms. Other
// targets get the text back unchanged. Words outside the vocabulary and
// placeholders are kept as they are.
func Respond(req *ChatRequest) string {
	user := req.User()
	_, text, ok := strings.Cut(user, "\n\n")
	if !ok {
		return user
	}
	var dict map[string]string
	if m := paraphraseRE.FindStringSubmatch(user); m != nil {
		if m[1] == "English" {
			dict = enSyn
		}
	} else if m := intoRE.FindStringSubmatch(user); m != nil {
		switch {
		case m[1] == "German" && strings.Contains(user, "from English"):
			dict = enDe
		case m[1] == "English" && strings.Contains(user, "from German"):
			dict = deEn
		}
	}
	if dict == nil {
		return text
	}
	return mapWords(text, dict)
}

// mapWords replaces each word found in dict (case-insensitively, keeping an
// initial capital), leaving everything else, placeholders included.
func mapWords(text string, dict map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(text); {
		if strings.HasPrefix(text[i:], "[[") {
			if j := strings.Index(text[i:], "]]"); j > 0 {
				b.WriteString(text[i : i+j+2])
				i += j + 2
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if !unicode.IsLetter(r) {
			b.WriteString(text[i : i+size])
			i += size
			continue
		}
		j := i
		for j < len(text) {
			r, size := utf8.DecodeRuneInString(text[j:])
			if !unicode.IsLetter(r) {
				break
			}
			j += size
		}
		w := text[i:j]
		if t, ok := dict[strings.ToLower(w)]; ok {
			first, _ := utf8.DecodeRuneInString(w)
			if unicode.IsUpper(first) && !capitalized[w] {
				tf, size := utf8.DecodeRuneInString(t)
				t = string(unicode.ToUpper(tf)) + t[size:]
			}
			w = t
		}
		b.WriteString(w)
		i = j
	}
	return b.String()
}

// vocabulary: English, German, and the English a back-translation or a
// paraphrase makes of it.
var vocabulary = [][3]string{
	{"please", "bitte", "please"}, {"explain", "erkläre", "describe"}, {"how", "wie", "how"},
	{"this", "diese", "this"}, {"function", "Funktion", "function"}, {"works", "funktioniert", "operates"},
	{"and", "und", "and"}, {"why", "warum", "why"}, {"it", "sie", "it"}, {"returns", "liefert", "gives"},
	{"an", "einen", "an"}, {"error", "Fehler", "error"}, {"when", "wenn", "if"}, {"the", "die", "the"},
	{"list", "Liste", "list"}, {"is", "ist", "is"}, {"empty", "leer", "empty"}, {"can", "kannst", "can"},
	{"you", "du", "you"}, {"write", "schreibe", "compose"}, {"a", "eine", "a"}, {"short", "kurze", "brief"},
	{"story", "Geschichte", "tale"}, {"about", "über", "about"}, {"brave", "mutigen", "courageous"},
	{"little", "kleinen", "small"}, {"dog", "Hund", "dog"}, {"who", "der", "who"}, {"finds", "findet", "discovers"},
	{"his", "seinen", "his"}, {"way", "Weg", "path"}, {"home", "heim", "home"}, {"what", "was", "what"},
	{"best", "beste", "best"}, {"to", "zu", "to"}, {"learn", "lernen", "study"}, {"new", "neue", "new"},
	{"language", "Sprache", "language"}, {"quickly", "schnell", "fast"}, {"remember", "merken", "recall"},
	{"words", "Wörter", "words"}, {"does", "macht", "does"}, {"print", "druckt", "output"},
	{"nothing", "nichts", "nothing"}, {"i", "ich", "I"}, {"run", "starte", "start"},
	{"program", "Programm", "program"}, {"with", "mit", "with"}, {"file", "Datei", "file"},
	{"use", "benutze", "use"}, {"read", "lies", "read"}, {"for", "für", "for"}, {"details", "Einzelheiten", "details"},
	{"see", "siehe", "see"}, {"table", "Tabelle", "table"}, {"below", "unten", "below"}, {"of", "von", "of"},
	{"my", "mein", "my"}, {"code", "Code", "code"}, {"in", "in", "in"}, {"are", "sind", "are"},
	{"there", "dort", "there"}, {"tell", "sage", "tell"}, {"me", "mir", "me"}, {"more", "mehr", "more"},
}

// capitalized holds the words written with a capital in any position
// (German nouns): a capital there does not start a sentence.
var capitalized = map[string]bool{}

var enDe, deEn, enSyn = func() (map[string]string, map[string]string, map[string]string) {
	a, b, c := map[string]string{}, map[string]string{}, map[string]string{}
	for _, v := range vocabulary {
		if r, _ := utf8.DecodeRuneInString(v[1]); unicode.IsUpper(r) {
			capitalized[v[1]] = true
		}
		a[v[0]] = v[1]
		b[strings.ToLower(v[1])] = v[2]
		c[v[0]] = v[2]
	}
	return a, b, c
}()
