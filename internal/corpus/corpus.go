// Package corpus generates large, deterministic ShareGPT-shaped datasets
// from real records, for benchmarks: a raw dump in share-page HTML (the
// markup of 2023 chat.openai.com share pages, with the scraper's noise), or
// Markdown records, with a chosen share of exact re-shares and lightly
// edited near-duplicates, drawn from weighted sources so that the mix of
// languages, code, tables and lengths is that of the real samples.
//
// A few thousand real conversations cannot make 90,000 distinct ones by
// repetition: FastChat's value-duplication filter and any deduplicator
// would remove almost all of them. With Options.Mosaic each original
// record is a real conversation whose assistant turns are each cut at a
// random block boundary (blank line outside code fences) and completed
// with as many blocks of an assistant turn of another real conversation of
// the same source: the markup, code, tables, lengths and language stay
// real, and originals are distinct and rarely near-duplicates.
//
// The same Options and sources give the same bytes.
package corpus

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/sharegpt/sharegpt/internal/sharepage"
	"github.com/sharegpt/sharegpt/pipeline"
)

// Source is a set of real records drawn from with a relative weight.
type Source struct {
	Name    string
	Weight  float64
	Records []*pipeline.Record
}

// Options configure a generator.
type Options struct {
	Seed uint64
	// HTML renders assistant turns as share-page HTML, as raw dumps hold
	// them; otherwise turns stay Markdown.
	HTML bool
	// Noise is the share of turns given the scraper's noise: a leading
	// "N / M" regenerate counter on assistant turns, a trailing
	// "CopyN chars / N words" on human turns. Only with HTML.
	Noise float64
	// Dup is the share of records that re-share an earlier record
	// exactly (new id); Near the share that re-share it with a small edit.
	Dup, Near float64
	// Mosaic makes every original distinct (see the package comment);
	// otherwise originals are real records under new ids.
	Mosaic bool
}

// Generator makes records one at a time.
type Generator struct {
	opts    Options
	sources []Source
	total   float64
	rng     *rand.Rand
	page    *sharepage.Renderer
	emitted []pick // base records emitted so far, for re-shares
	n       int
}

// pick says how an original was made: a record of a source and, in
// mosaic mode, the partner whose assistant turns complete its own
// (-1: none).
type pick struct {
	src, idx, partner int
	cuts              uint64 // seeds the choice of cut points
}

// New returns a generator over the sources, which must hold records.
func New(opts Options, sources ...Source) (*Generator, error) {
	g := &Generator{opts: opts, sources: sources, rng: rand.New(rand.NewPCG(opts.Seed, 0x5eed)), page: sharepage.New()}
	for _, s := range sources {
		if len(s.Records) == 0 || s.Weight <= 0 {
			return nil, fmt.Errorf("source %s: no records or no weight", s.Name)
		}
		g.total += s.Weight
	}
	if len(sources) == 0 {
		return nil, fmt.Errorf("no sources")
	}
	return g, nil
}

// Kind says how a generated record came about.
type Kind int

// Kinds of generated records.
const (
	Original Kind = iota
	ExactDup
	NearDup
)

// Next returns the next record and how it was made.
func (g *Generator) Next() (*pipeline.Record, Kind, error) {
	var p pick
	kind := Original
	r := g.rng.Float64()
	switch {
	case len(g.emitted) > 0 && r < g.opts.Dup:
		p, kind = g.emitted[g.rng.IntN(len(g.emitted))], ExactDup
	case len(g.emitted) > 0 && r < g.opts.Dup+g.opts.Near:
		p, kind = g.emitted[g.rng.IntN(len(g.emitted))], NearDup
	default:
		p = g.draw()
		g.emitted = append(g.emitted, p)
	}
	rec := g.sources[p.src].Records[p.idx].Clone()
	if p.partner >= 0 {
		mosaic(rec, g.sources[p.src].Records[p.partner], p.cuts)
	}
	if kind == NearDup {
		g.edit(rec)
	}
	rec.SetID(ID(g.n))
	g.n++
	if g.opts.HTML {
		if err := g.render(rec); err != nil {
			return nil, kind, fmt.Errorf("record %d (%s): %w", g.n-1, g.sources[p.src].Name, err)
		}
	}
	return rec, kind, nil
}

// draw picks a source by weight and a record of it uniformly.
func (g *Generator) draw() pick {
	x := g.rng.Float64() * g.total
	i := 0
	for ; i < len(g.sources)-1 && x >= g.sources[i].Weight; i++ {
		x -= g.sources[i].Weight
	}
	n := len(g.sources[i].Records)
	p := pick{src: i, idx: g.rng.IntN(n), partner: -1}
	if g.opts.Mosaic && n > 1 {
		p.partner = (p.idx + 1 + g.rng.IntN(n-1)) % n
		p.cuts = g.rng.Uint64()
	}
	return p
}

// mosaic keeps the first blocks of each assistant turn of rec (a random
// number, possibly none) and puts in place of the rest as many blocks of
// an assistant turn of other (taken in turn) from a random start, so that
// lengths stay those of real turns.
func mosaic(rec, other *pipeline.Record, cuts uint64) {
	rng := rand.New(rand.NewPCG(cuts, 0x6d6f73))
	var donors [][]string
	for _, t := range other.Conversations {
		if t.From == "gpt" {
			donors = append(donors, blocks(t.Value))
		}
	}
	if len(donors) == 0 {
		return
	}
	k := 0
	for i := range rec.Conversations {
		t := &rec.Conversations[i]
		if t.From != "gpt" {
			continue
		}
		b, d := blocks(t.Value), donors[k%len(donors)]
		k++
		h := rng.IntN(len(b))
		s := rng.IntN(len(d))
		tail := d[s:min(len(d), s+len(b)-h)]
		t.Value = strings.Join(append(b[:h:h], tail...), "\n\n")
	}
}

// blocks splits Markdown at blank lines outside fenced code blocks.
func blocks(md string) []string {
	var out []string
	var cur []string
	fence := ""
	for _, line := range strings.Split(md, "\n") {
		trim := strings.TrimSpace(line)
		switch {
		case fence != "" && strings.HasPrefix(trim, fence):
			fence = ""
		case fence == "" && (strings.HasPrefix(trim, "```") || strings.HasPrefix(trim, "~~~")):
			fence = trim[:3]
		case fence == "" && trim == "":
			if len(cur) > 0 {
				out = append(out, strings.Join(cur, "\n"))
				cur = cur[:0]
			}
			continue
		}
		cur = append(cur, line)
	}
	if len(cur) > 0 {
		out = append(out, strings.Join(cur, "\n"))
	}
	if len(out) == 0 {
		out = []string{md}
	}
	return out
}

// ID returns the n-th generated id: seven base-62 characters, like
// ShareGPT's, distinct for every n below 62^7.
func ID(n int) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	const space = 62 * 62 * 62 * 62 * 62 * 62 * 62
	v := (uint64(n)*2654435761 + 12345) % space // a bijection: the multiplier is prime to 62
	var b [7]byte
	for i := range b {
		b[6-i] = digits[v%62]
		v /= 62
	}
	return string(b[:])
}

// render turns assistant turns into share-page HTML and adds noise.
func (g *Generator) render(rec *pipeline.Record) error {
	for i := range rec.Conversations {
		t := &rec.Conversations[i]
		noisy := g.rng.Float64() < g.opts.Noise
		if t.From != "gpt" {
			if noisy {
				t.Value += fmt.Sprintf("Copy%d chars / %d words", len(t.Value), len(strings.Fields(t.Value)))
			}
			continue
		}
		h, err := g.page.Render(t.Value, g.wrapper())
		if err != nil {
			return err
		}
		if noisy {
			m := 1 + g.rng.IntN(3)
			h = fmt.Sprintf("%d / %d", 1+g.rng.IntN(m), m) + h
		}
		t.Value = h
	}
	return nil
}

func (g *Generator) wrapper() string {
	switch r := g.rng.Float64(); {
	case r < 0.7:
		return sharepage.WrapperLight
	case r < 0.9:
		return sharepage.WrapperDark
	default:
		return sharepage.WrapperOld
	}
}

// edit makes a near-duplicate: a few words of the first human turn
// changed, or the conversation cut short or extended by one exchange, or
// its case and spacing changed.
func (g *Generator) edit(rec *pipeline.Record) {
	if len(rec.Conversations) == 0 {
		return
	}
	switch g.rng.IntN(4) {
	case 0:
		rec.Conversations[0].Value = g.substitute(rec.Conversations[0].Value)
	case 1:
		if n := len(rec.Conversations); n >= 4 {
			rec.Conversations = rec.Conversations[:n-2]
		} else {
			rec.Conversations[0].Value = g.substitute(rec.Conversations[0].Value)
		}
	case 2:
		o := g.sources[0].Records[g.rng.IntN(len(g.sources[0].Records))]
		if len(o.Conversations) >= 2 {
			rec.Conversations = append(rec.Conversations, o.Conversations[:2]...)
		}
	default:
		v := rec.Conversations[0].Value
		rec.Conversations[0].Value = "  " + strings.ToLower(v[:len(v)/2]) + v[len(v)/2:] + "\n"
	}
}

// substitute replaces about one word in twenty (at least one) of s with a
// word drawn from s itself.
func (g *Generator) substitute(s string) string {
	words := strings.Fields(s)
	if len(words) < 2 {
		return s + " please"
	}
	for k := max(1, len(words)/20); k > 0; k-- {
		words[g.rng.IntN(len(words))] = words[g.rng.IntN(len(words))]
	}
	return strings.Join(words, " ")
}

// Load reads the records of one input file.
func Load(ctx context.Context, path string) ([]*pipeline.Record, error) {
	reg := pipeline.NewRegistry(pipeline.JSONFormats()...)
	var recs []*pipeline.Record
	job := &pipeline.Job{Command: "corpus", Registry: reg, Inputs: []string{path}, Stages: []pipeline.Stage{collect{&recs}}, Workers: 1}
	if _, err := job.Run(ctx); err != nil {
		return nil, err
	}
	return recs, nil
}

// collect is an ordered stage that keeps every record in memory.
type collect struct{ recs *[]*pipeline.Record }

func (collect) Name() string { return "collect" }
func (collect) Ordered()     {}
func (c collect) Process(_ context.Context, r *pipeline.Record, out *pipeline.Out) error {
	*c.recs = append(*c.recs, r)
	out.Keep(r)
	return nil
}
