package augment

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sharegpt/sharegpt/pipeline"
)

// dryRequest is one line of a dry run's output.
type dryRequest struct {
	ID      string          `json:"id"`
	Turn    int             `json:"turn"`
	Step    string          `json:"step"` // to-de, from-de, paraphrase
	Key     string          `json:"key"`
	Cached  bool            `json:"cached"`
	Request json.RawMessage `json:"request"`
}

// dryRun writes the requests a record would need. A backtranslation's
// second request depends on the first answer: it is written only when that
// answer is in the cache.
func (a *Augmenter) dryRun(_ context.Context, rec *pipeline.Record, p *plan) error {
	for _, g := range p.groups {
		for _, tj := range g.turns {
			src := tj.src
			srcName := languageName(src.lang)
			var msgs []Message
			var err error
			step := "paraphrase"
			if a.opts.Method == Paraphrase {
				msgs, err = a.prompts.paraphraseMessages(srcName, src.prot.Text)
			} else {
				step = "to-" + g.pivot
				msgs, err = a.prompts.translateMessages(srcName, languageName(g.pivot), src.prot.Text)
			}
			if err != nil {
				return fmt.Errorf("prompt: %w", err)
			}
			ans, cached, err := a.dryLine(rec.ID+"#"+a.tag(g), src.index, step, a.request(g, msgs, src.prot.Text))
			if err != nil || !cached || a.opts.Method == Paraphrase {
				if err != nil {
					return err
				}
				continue
			}
			pivotText, f := a.pivotGates(src, g.pivot, ans)
			if f != nil {
				continue
			}
			msgs, err = a.prompts.translateMessages(languageName(g.pivot), srcName, pivotText)
			if err != nil {
				return fmt.Errorf("prompt: %w", err)
			}
			if _, _, err := a.dryLine(rec.ID+"#"+a.tag(g), src.index, "from-"+g.pivot, a.request(g, msgs, pivotText)); err != nil {
				return err
			}
		}
	}
	return nil
}

// dryLine writes one request and returns its cached answer, if any.
func (a *Augmenter) dryLine(id string, turn int, step string, key requestKey) (answer, bool, error) {
	h, err := key.hash()
	if err != nil {
		return answer{}, false, err
	}
	ans, cached, err := a.cached(h, true)
	if err != nil {
		return answer{}, false, err
	}
	body, err := a.body(&key)
	if err != nil {
		return answer{}, false, err
	}
	if a.emit != nil {
		if cached {
			a.emit.cached()
			return ans, true, nil
		}
		return ans, false, a.emit.add(h, body, strings.HasPrefix(step, "from-"))
	}
	line, err := json.Marshal(dryRequest{ID: id, Turn: turn, Step: step, Key: h, Cached: cached, Request: body})
	if err != nil {
		return answer{}, false, err
	}
	if cached {
		a.stats.dryCached.Add(1)
	} else {
		a.stats.drySend.Add(1)
	}
	a.dryMu.Lock()
	defer a.dryMu.Unlock()
	if _, err := a.opts.DryRun.Write(append(line, '\n')); err != nil {
		return answer{}, false, fmt.Errorf("dry run: %w", err)
	}
	return ans, cached, nil
}
