package augment

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/singleflight"

	"github.com/sharegpt/sharegpt/internal/lang"
	"github.com/sharegpt/sharegpt/internal/tokenizer"
	"github.com/sharegpt/sharegpt/pipeline"
)

// Stage names in reports and rejects.
const (
	StageSend    = "augment-send" // starts the requests of each record
	StageAugment = "augment"      // writes originals and augmented records, in order
)

// Augmenter augments records. Its two stages ([Augmenter.Stages]) run in a
// pipeline.Job: the first starts each record's requests on a pool of
// Concurrency workers as records arrive, the second waits for them in
// input order and emits the original and its augmented copies, so the
// output order never depends on the concurrency.
type Augmenter struct {
	opts     Options
	prompts  *Prompts
	client   *client
	cache    *Cache // nil in a dry run without a cache
	detector *lang.Detector
	refusals refusals
	stats    *counters

	pool   errgroup.Group
	flight singleflight.Group

	mu      sync.Mutex
	pending map[*pipeline.Record]*plan
	dryMu   sync.Mutex
	logMu   sync.Mutex

	emit      *emitter     // EmitBatch
	ingested  *IngestStats // IngestBatch
	closeOnce sync.Once
	emitErr   error
}

// New checks the options, opens the cache, builds the language detector
// and, when no model is named, asks the server for its first model (a dry
// run never contacts the server).
func New(ctx context.Context, opts Options) (*Augmenter, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if _, err := json.Marshal(opts.ExtraBody); err != nil {
		return nil, fmt.Errorf("extra body: %w", err)
	}
	a := &Augmenter{opts: opts, prompts: opts.Prompts, stats: newCounters(), pending: map[*pipeline.Record]*plan{}}
	if a.prompts == nil {
		a.prompts = DefaultPrompts()
	}
	phrases := opts.RefusalPhrases
	if phrases == nil {
		phrases = lang.RefusalPhrases
	}
	a.refusals = newRefusals(phrases)
	var err error
	if a.detector, err = lang.New(opts.languageOptions()); err != nil {
		return nil, fmt.Errorf("language detector: %w", err)
	}
	switch {
	case opts.DryRun == nil:
		if a.cache, err = OpenCache(opts.CacheDir); err != nil {
			return nil, err
		}
	case opts.CacheDir != "":
		if st, err := os.Stat(opts.CacheDir); err == nil && st.IsDir() {
			a.cache = &Cache{dir: opts.CacheDir, dirs: map[string]bool{}}
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("cache %s: %w", opts.CacheDir, err)
		}
	}
	if opts.EmitBatch != "" {
		if a.emit, err = newEmitter(opts.EmitBatch, cmp.Or(opts.ShardRows, DefaultShardRows)); err != nil {
			return nil, err
		}
	}
	if len(opts.IngestBatch) > 0 {
		st, err := ingestBatch(ctx, a.cache, opts.IngestBatch, newRedactor(opts.APIKey))
		if err != nil {
			return nil, err
		}
		a.ingested = st
		a.opts.Offline = true
	}
	a.pool.SetLimit(opts.Concurrency)
	if err := a.connect(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// online reports whether the run sends requests.
func (a *Augmenter) online() bool {
	return a.opts.DryRun == nil && a.emit == nil && !a.opts.Offline
}

// connect builds the client and its endpoints. With one endpoint it asks
// for the model only when none is named; with several (or an endpoints
// file) it asks every endpoint at once: the model (the first endpoint's
// first, when none is named) must be listed by every endpoint that
// answers, and those that do not answer start out of the pool (probed).
func (a *Augmenter) connect(ctx context.Context) error {
	specs, err := a.opts.endpointSpecs()
	if err != nil {
		return err
	}
	var urls []string
	for _, s := range specs {
		urls = append(urls, s.URL)
	}
	for _, u := range urls {
		if err := checkURL(a.opts.APIKey, u); err != nil {
			return err
		}
	}
	a.client = newClient(&a.opts, a.stats, urls)
	failover := len(specs) > 1 || a.opts.EndpointsFile != ""
	a.client.pool = newPool(&a.opts, failover, a.client.probeModel)
	a.client.pool.logf = a.logf
	if !a.online() || !failover {
		for _, s := range specs {
			a.client.pool.add(s, a.client.shownURL(s.URL), stateLive)
		}
		if !a.online() || a.opts.Model != "" {
			return nil
		}
		if len(specs) == 0 {
			return fmt.Errorf("no endpoint")
		}
		base := strings.TrimRight(specs[0].URL, "/")
		models, err := a.client.listModels(ctx, base)
		if err != nil {
			return fmt.Errorf("%w and the server's model list could not be read: %w", pipeline.MentionOptionsf("no {model} given"), err)
		}
		if len(models) == 0 {
			return pipeline.MentionOptionsf("no {model} given and GET %s lists no model", a.client.shownURL(joinURL(base, modelsPath)))
		}
		a.opts.Model = models[0]
		return nil
	}
	if len(specs) == 0 {
		return fmt.Errorf("the endpoints file %s lists no endpoint", a.opts.EndpointsFile)
	}
	type listing struct {
		ids []string
		err error
	}
	lists := make([]listing, len(specs))
	var wg sync.WaitGroup
	for i, s := range specs {
		wg.Go(func() {
			ids, err := a.client.listModelsOnce(ctx, strings.TrimRight(s.URL, "/"))
			lists[i] = listing{ids, err}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var firstErr error
	for i, l := range lists {
		if l.err == nil && a.opts.Model == "" && len(l.ids) > 0 {
			a.opts.Model = lists[i].ids[0]
		}
		if l.err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%s: %w", a.client.shownURL(specs[i].URL), l.err)
		}
	}
	if a.opts.Model == "" {
		return fmt.Errorf("no model named and no endpoint lists one (%v)", firstErr)
	}
	live := 0
	for i, l := range lists {
		if l.err == nil && !slices.Contains(l.ids, a.opts.Model) {
			a.client.pool.close()
			return &ModelMismatchError{URL: a.client.shownURL(specs[i].URL), Model: a.opts.Model, Served: l.ids}
		}
		if l.err == nil {
			live++
		}
	}
	if live == 0 {
		return fmt.Errorf("none of the %d endpoints answers GET /models (%v)", len(specs), firstErr)
	}
	for i, s := range specs {
		state := stateLive
		if lists[i].err != nil {
			state = stateDown
			a.logf("augment: endpoint %s is out from the start: %v", a.client.shownURL(s.URL), lists[i].err)
		}
		ep := a.client.pool.add(s, a.client.shownURL(s.URL), state)
		if state == stateDown {
			a.client.pool.mu.Lock()
			ep.lastErr = lists[i].err.Error()
			a.client.pool.mu.Unlock()
		}
	}
	return nil
}

// logf writes a line to Options.Log (nil: nowhere).
func (a *Augmenter) logf(format string, args ...any) {
	if a.opts.Log == nil {
		return
	}
	a.logMu.Lock()
	defer a.logMu.Unlock()
	fmt.Fprintf(a.opts.Log, format+"\n", args...)
}

// ReloadEndpoints reads the endpoints file again (Run does on SIGHUP):
// new endpoints are probed before they get traffic, endpoints no longer
// listed get no new request.
func (a *Augmenter) ReloadEndpoints() (added, removed int, err error) {
	specs, err := a.opts.endpointSpecs()
	if err != nil {
		return 0, 0, err
	}
	for _, s := range specs {
		if err := checkURL(a.opts.APIKey, s.URL); err != nil {
			return 0, 0, err
		}
	}
	var urls []string
	for _, s := range specs {
		urls = append(urls, s.URL)
	}
	a.client.addURLs(urls)
	added, removed = a.client.pool.sync(specs, a.client.shownURL)
	return added, removed, nil
}

// watchReload reloads the endpoints file on SIGHUP until stop is closed.
func (a *Augmenter) watchReload(stop <-chan struct{}) (done <-chan struct{}) {
	d := make(chan struct{})
	if a.opts.EndpointsFile == "" || !a.online() {
		close(d)
		return d
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP)
	go func() {
		defer close(d)
		defer signal.Stop(sig)
		for {
			select {
			case <-sig:
				added, removed, err := a.ReloadEndpoints()
				if err != nil {
					a.logf("augment: SIGHUP: %v (the endpoints stay as they were)", err)
					continue
				}
				a.logf("augment: SIGHUP: endpoints file read again: %d added (probed before they get traffic), %d removed", added, removed)
			case <-stop:
				return
			}
		}
	}()
	return d
}

// planning reports whether the run only lists its requests (a dry run, or
// batch files).
func (a *Augmenter) planning() bool { return a.opts.DryRun != nil || a.emit != nil }

// Model returns the model the requests name.
func (a *Augmenter) Model() string { return a.opts.Model }

// Stages returns the two pipeline stages: run them, in this order, as the
// stages of a pipeline.Job (other stages may come before or after).
func (a *Augmenter) Stages() []pipeline.Stage {
	return []pipeline.Stage{sendStage{a}, augmentStage{a}}
}

// Run runs a job with the two augment stages after the job's own stages
// (with EmitBatch, its records are not written: the batch files are),
// puts [Stats] into the report (as the details of stage "augment"), and
// waits for every request before it returns. After a stop (see
// [Augmenter.Stopped]) the run still succeeds: everything finished so far
// is written.
func (a *Augmenter) Run(ctx context.Context, job *pipeline.Job) (*pipeline.Report, error) {
	job.Stages = append(job.Stages, a.Stages()...)
	if a.emit != nil {
		job.Output = "" // the batch files are the output
	}
	prev := job.Finish
	job.Finish = func(rep *pipeline.Report) error {
		if prev != nil {
			if err := prev(rep); err != nil {
				return err
			}
		}
		rep.Stage(StageAugment).Details = a.Stats()
		return nil
	}
	stop := make(chan struct{})
	watching := a.watchReload(stop)
	rep, err := job.Run(ctx)
	close(stop)
	<-watching
	cerr := a.Close()
	if err == nil && a.emit != nil {
		err = cerr // the manifest could not be written
	}
	return rep, err
}

// Close waits for requests still running (after a failed run they end
// quickly: the run's context is cancelled), stops the health probes,
// closes idle connections, and
// finishes the batch files of EmitBatch (the manifest is written last).
func (a *Augmenter) Close() error {
	err := a.pool.Wait()
	a.client.pool.close()
	// Idle keep-alive connections would hold a worker of each server
	// (llama-server has n_parallel+2) until its keep-alive timeout.
	a.client.http.CloseIdleConnections()
	a.closeOnce.Do(func() {
		if a.emit != nil {
			a.emitErr = a.emit.finish(a.batchManifest())
		}
	})
	return errors.Join(err, a.emitErr)
}

// Stopped returns why the run stopped sending requests, or nil.
func (a *Augmenter) Stopped() *StopError { return a.client.stopped() }

// Stats returns the running totals.
func (a *Augmenter) Stats() Stats {
	s := a.stats.snapshot()
	s.Method, s.Model, s.PromptVersion = string(a.opts.Method), a.opts.Model, a.prompts.Version
	s.DryRun = a.opts.DryRun != nil
	s.Offline = a.opts.Offline
	s.Ingested = a.ingested
	if a.emit != nil {
		s.Emitted = a.emit.stats(a.opts.Method)
	}
	if a.client.pool.size() > 1 {
		s.Endpoints = a.client.pool.snapshot(s.Seconds)
	}
	if st := a.Stopped(); st != nil {
		s.Stopped, s.StopDetail = st.Cause, st.Detail
	}
	return s
}

// turnSource is a turn prepared for sending.
type turnSource struct {
	index int
	prot  *Protected
	prose string // the protected text without placeholders, trimmed
	lang  string // ISO 639-1
}

// turnJob is the augmentation of one turn for one group.
type turnJob struct {
	src    *turnSource
	text   string  // the restored answer
	sim    float64 // chrF to the source
	answer string  // the last answer received, kept for rejects
	fail   *failure
	fatal  error // the run cannot go on (cache write failed, cancelled)
}

// group is one augmented record in the making: one pivot and variant.
type group struct {
	pivot   string // "" for paraphrase
	variant int
	turns   []*turnJob
}

// plan is what is done for one input record.
type plan struct {
	skip       pipeline.Reason // record-level: nothing to augment, no id
	skipDetail string
	groups     []*group
	remaining  atomic.Int32
	done       chan struct{}
}

func (a *Augmenter) tag(g *group) string {
	if a.opts.Method == Paraphrase {
		return fmt.Sprintf("para-%d", g.variant)
	}
	return fmt.Sprintf("bt-%s-%d", g.pivot, g.variant)
}

// detect returns the language of a text.
func (a *Augmenter) detect(text string) string { return a.detector.Detect(text) }

// plan prepares a record: which turns go out, in which groups.
func (a *Augmenter) plan(rec *pipeline.Record) *plan {
	p := &plan{done: make(chan struct{})}
	if !rec.HasID() || rec.ID == "" {
		p.skip, p.skipDetail = ReasonMissingID, "the record has no id to derive augmented ids from"
		a.stats.skip("no-id")
		return p
	}
	var srcs []*turnSource
	for i, t := range rec.Conversations {
		if a.opts.Roles != "all" && t.From != a.opts.Roles {
			continue
		}
		prot, err := Protect(t.Value)
		if err != nil {
			a.stats.skip("placeholder-collision")
			continue
		}
		prose := strings.TrimSpace(stripPlaceholders(prot.Text))
		code := a.detect(prose)
		if code == lang.Unknown {
			a.stats.skip("unknown-language")
			continue
		}
		srcs = append(srcs, &turnSource{index: i, prot: prot, prose: prose, lang: code})
	}
	pivots := a.opts.Pivots
	if a.opts.Method == Paraphrase {
		pivots = []string{""}
	}
	for _, pivot := range pivots {
		for v := range a.opts.Variants {
			g := &group{pivot: pivot, variant: v}
			for _, s := range srcs {
				if s.lang == pivot {
					if v == 0 {
						a.stats.skip("same-as-pivot")
					}
					continue
				}
				g.turns = append(g.turns, &turnJob{src: s})
			}
			if len(g.turns) > 0 {
				p.groups = append(p.groups, g)
			}
		}
	}
	if len(p.groups) == 0 {
		p.skip, p.skipDetail = ReasonNothingToAugment, "no turn of the selected roles with text of a known language"
		a.stats.skip("nothing-to-augment")
	}
	return p
}

// sendStage starts each record's requests.
type sendStage struct{ a *Augmenter }

func (sendStage) Name() string { return StageSend }

func (s sendStage) Process(ctx context.Context, rec *pipeline.Record, out *pipeline.Out) error {
	a := s.a
	p := a.plan(rec)
	a.mu.Lock()
	a.pending[rec] = p
	a.mu.Unlock()
	n := 0
	for _, g := range p.groups {
		n += len(g.turns)
	}
	p.remaining.Store(int32(n))
	if n == 0 || a.planning() {
		close(p.done)
		out.Keep(rec)
		return nil
	}
	for _, g := range p.groups {
		for _, tj := range g.turns {
			a.pool.Go(func() error {
				a.runTurn(ctx, g, tj)
				if p.remaining.Add(-1) == 0 {
					close(p.done)
				}
				return nil
			})
		}
	}
	out.Keep(rec)
	return nil
}

// augmentStage emits each record's results in input order.
type augmentStage struct{ a *Augmenter }

func (augmentStage) Name() string { return StageAugment }
func (augmentStage) Ordered()     {}

func (s augmentStage) Process(ctx context.Context, rec *pipeline.Record, out *pipeline.Out) error {
	a := s.a
	a.mu.Lock()
	p := a.pending[rec]
	delete(a.pending, rec)
	a.mu.Unlock()
	if p == nil {
		return fmt.Errorf("record %q did not pass through the %s stage (stages out of order)", rec.ID, StageSend)
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if a.planning() {
		if err := a.dryRun(ctx, rec, p); err != nil {
			return err
		}
		out.Keep(rec)
		return nil
	}
	if p.skip != "" {
		if a.opts.DropOriginal {
			out.Reject(rec, p.skip, p.skipDetail)
		} else {
			out.Keep(rec)
		}
		return nil
	}
	if !a.opts.DropOriginal {
		out.Keep(rec)
	}
	for _, g := range p.groups {
		cand, f, err := a.assemble(rec, g)
		if err != nil {
			return err
		}
		a.stats.mu.Lock()
		a.stats.tried++
		if f == nil {
			a.stats.made++
		}
		a.stats.mu.Unlock()
		if f != nil {
			out.RejectRelated(cand, f.reason, f.detail, rec.ID)
			continue
		}
		out.Keep(cand)
	}
	return nil
}

// augmentation is the provenance field of an augmented record.
type augmentation struct {
	Method        string   `json:"method"`
	Pivot         string   `json:"pivot,omitempty"`
	Variant       int      `json:"variant"`
	Model         string   `json:"model"`
	PromptVersion string   `json:"prompt_version"`
	Similarity    *float64 `json:"similarity,omitempty"` // mean chrF of the augmented turns
	Turns         []int    `json:"turns"`                // indices of the rewritten turns
}

// assemble builds the augmented record of a group; a failure names the
// first turn that failed (the record then holds that turn's rejected
// answer, for inspection).
func (a *Augmenter) assemble(rec *pipeline.Record, g *group) (*pipeline.Record, *failure, error) {
	cand := rec.Clone()
	cand.SetID(rec.ID + "#" + a.tag(g))
	prov := augmentation{Method: string(a.opts.Method), Pivot: g.pivot, Variant: g.variant, Model: a.opts.Model, PromptVersion: a.prompts.Version}
	var first *failure
	var sum float64
	for _, tj := range g.turns {
		if tj.fatal != nil {
			return nil, nil, tj.fatal
		}
		prov.Turns = append(prov.Turns, tj.src.index)
		t := &cand.Conversations[tj.src.index]
		switch {
		case tj.fail == nil:
			t.Value = tj.text
			sum += tj.sim
		case first == nil:
			first = &failure{tj.fail.reason, fmt.Sprintf("turn %d: %s", tj.src.index, tj.fail.detail)}
			if tj.answer != "" {
				t.Value = tj.answer
			}
		}
	}
	if first == nil {
		sim := math.Round(sum/float64(len(g.turns))*1e4) / 1e4
		prov.Similarity = &sim
	}
	cand.SetField("augmented_from", pipeline.AppendString(nil, rec.ID))
	raw, err := json.Marshal(prov)
	if err != nil {
		return nil, nil, err
	}
	cand.SetField("augmentation", raw)
	return cand, first, nil
}

// runTurn sends one turn through the model (twice for backtranslation) and
// applies the gates.
func (a *Augmenter) runTurn(ctx context.Context, g *group, tj *turnJob) {
	src := tj.src
	srcName := languageName(src.lang)
	var last answer
	var err error
	if a.opts.Method == Paraphrase {
		last, err = a.hop(ctx, g, false, func() ([]Message, error) { return a.prompts.paraphraseMessages(srcName, src.prot.Text) }, src.prot.Text)
	} else {
		var first answer
		first, err = a.hop(ctx, g, false, func() ([]Message, error) {
			return a.prompts.translateMessages(srcName, languageName(g.pivot), src.prot.Text)
		}, src.prot.Text)
		if err == nil {
			pivotText, f := a.pivotGates(src, g.pivot, first)
			if f != nil {
				tj.fail, tj.answer = f, first.Content
				return
			}
			last, err = a.hop(ctx, g, true, func() ([]Message, error) {
				return a.prompts.translateMessages(languageName(g.pivot), srcName, pivotText)
			}, pivotText)
		}
	}
	if err != nil {
		var se *StopError
		var ae *attemptError
		switch {
		case errors.As(err, &se):
			tj.fail = &failure{ReasonStopped, "not sent: " + se.Detail}
		case errors.As(err, &ae):
			tj.fail = &failure{ReasonRequestFailed, ae.Error()}
		default:
			tj.fatal = err
		}
		return
	}
	res, f := a.finalGates(src, last)
	if f != nil {
		tj.fail, tj.answer = f, last.Content
		return
	}
	tj.text, tj.sim = res.text, res.sim
}

// request builds the key of one request.
func (a *Augmenter) request(g *group, msgs []Message, text string) requestKey {
	maxTokens := a.opts.MaxTokens
	if maxTokens == 0 {
		var counter interface{ Count(string) int } = tokenizer.Default()
		if a.opts.Tokenizer != nil {
			counter = a.opts.Tokenizer
		}
		maxTokens = 4*counter.Count(text) + 64
	}
	return requestKey{Model: a.opts.Model, Messages: msgs, Temperature: a.opts.Temperature, MaxTokens: maxTokens, Extra: a.opts.ExtraBody, Variant: g.variant}
}

// body is the JSON request body of a key.
func (a *Augmenter) body(k *requestKey) ([]byte, error) {
	m := map[string]any{}
	for key, v := range k.Extra {
		m[key] = v
	}
	m["model"], m["messages"], m["temperature"], m["max_tokens"], m["stream"] = k.Model, k.Messages, k.Temperature, k.MaxTokens, false
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// hop gets one answer: from the cache, from an identical request in
// flight, or from the server (then cached before it is returned).
func (a *Augmenter) hop(ctx context.Context, g *group, second bool, msgs func() ([]Message, error), text string) (answer, error) {
	m, err := msgs()
	if err != nil {
		return answer{}, fmt.Errorf("prompt: %w", err)
	}
	key := a.request(g, m, text)
	h, err := key.hash()
	if err != nil {
		return answer{}, err
	}
	if ans, ok, err := a.cached(h, true); err != nil || ok {
		return ans, err
	}
	executed := false
	v, err, _ := a.flight.Do(h, func() (any, error) {
		executed = true
		if ans, ok, err := a.cached(h, false); err != nil || ok {
			return ans, err
		}
		if a.opts.Offline {
			a.stats.offlineMissing.Add(1)
			if second {
				a.stats.offlineMissingSecond.Add(1)
			}
			return nil, &StopError{Cause: StopOffline, Detail: fmt.Sprintf("no answer in the cache for request %s (offline run)", h)}
		}
		body, err := a.body(&key)
		if err != nil {
			return nil, err
		}
		ans, err := a.client.chat(ctx, body, key.MaxTokens)
		if err != nil {
			return nil, err
		}
		if err := a.cache.put(h, cacheEntry{Request: key, Answer: ans}); err != nil {
			return nil, err
		}
		return ans, nil
	})
	if err != nil {
		return answer{}, err
	}
	if !executed {
		a.stats.shared.Add(1)
	}
	return v.(answer), nil
}

// cached looks a key up; a damaged entry is treated as a miss (and
// counted when count is set: the second look of a request is not).
func (a *Augmenter) cached(h string, count bool) (answer, bool, error) {
	if a.cache == nil {
		return answer{}, false, nil
	}
	e, ok, err := a.cache.get(h)
	switch {
	case errors.Is(err, errCorrupt):
		if count {
			a.stats.cacheCorrupt.Add(1)
		}
		return answer{}, false, nil
	case err != nil:
		return answer{}, false, err
	case ok:
		a.stats.cacheHits.Add(1)
	}
	return e.Answer, ok, nil
}
