package dedup

import (
	"fmt"
	"math"
	"strings"

	"github.com/sharegpt/sharegpt/pipeline"
)

// Key is what two records are compared by.
type Key int

const (
	KeyConversation Key = iota // every turn, with its role
	KeyFirstTurn               // the first human turn (the first turn if none is human)
	KeyHuman                   // every human turn
	KeyGPT                     // every gpt turn
	KeyID                      // the id (exact only)
)

var keyNames = []string{"conversation", "first-turn", "human", "gpt", "id"}

func (k Key) String() string { return keyNames[k] }

// Mode is exact (equal normalised keys) or near (MinHash LSH, which also
// finds the exact duplicates).
type Mode int

const (
	ModeNear Mode = iota
	ModeExact
)

func (m Mode) String() string { return [...]string{"near", "exact"}[m] }

// Keep says which record of a cluster is kept.
type Keep int

const (
	KeepFirst     Keep = iota // the first in input order
	KeepLongest               // the most characters in all turns
	KeepMostTurns             // the most turns
)

var keepNames = []string{"first", "longest", "most-turns"}

func (k Keep) String() string { return keepNames[k] }

// Shingle is the unit of near-duplicate shingles.
type Shingle int

const (
	ShingleWord Shingle = iota
	ShingleChar
)

func (s Shingle) String() string { return [...]string{"word", "char"}[s] }

func parseName(kind, s string, names []string) (int, error) {
	for i, n := range names {
		if s == n {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown %s %q (want %s)", kind, s, strings.Join(names, ", "))
}

// ParseKey parses a key name.
func ParseKey(s string) (Key, error) { i, err := parseName("key", s, keyNames); return Key(i), err }

// ParseMode parses a mode name.
func ParseMode(s string) (Mode, error) {
	i, err := parseName("mode", s, []string{"near", "exact"})
	return Mode(i), err
}

// ParseKeep parses a keep policy name.
func ParseKeep(s string) (Keep, error) {
	i, err := parseName("keep policy", s, keepNames)
	return Keep(i), err
}

// ParseShingle parses a shingle unit name.
func ParseShingle(s string) (Shingle, error) {
	i, err := parseName("shingle", s, []string{"word", "char"})
	return Shingle(i), err
}

// Options configure a [Deduper].
type Options struct {
	Key        Key
	Mode       Mode
	Keep       Keep
	Normalize  bool // NFC, case folding, white space collapsed
	StripPunct bool // punctuation and symbols become spaces (with Normalize)
	Shingle    Shingle
	NGram      int     // shingle length in units; 0: 5
	Threshold  float64 // Jaccard similarity, 0 < t <= 1; 0: 0.8
	// Permutations is the MinHash signature length; 0: 256. Bands and
	// Rows, when 0, are derived from the threshold (see [ChooseParams]).
	Permutations int
	Bands, Rows  int
	// MemoryLimit bounds the bytes of signatures and band hashes held in
	// memory; beyond it they are spilled to files in TempDir. 0: no limit.
	MemoryLimit int64
	TempDir     string
}

// Defaults.
const (
	DefaultThreshold    = 0.8
	DefaultNGram        = 5
	DefaultPermutations = 256
)

func (o *Options) fill() error {
	if o.Threshold == 0 {
		o.Threshold = DefaultThreshold
	}
	if o.NGram == 0 {
		o.NGram = DefaultNGram
	}
	if o.Permutations == 0 {
		o.Permutations = DefaultPermutations
	}
	switch {
	case o.Threshold <= 0 || o.Threshold > 1 || math.IsNaN(o.Threshold):
		return pipeline.OptionErrorf("{threshold} must be in (0, 1], got %g", o.Threshold)
	case o.NGram < 1:
		return pipeline.OptionErrorf("{ngram} must be at least 1, got %d", o.NGram)
	case o.Permutations < 8 || o.Permutations > 2048:
		return pipeline.OptionErrorf("{permutations} must be in [8, 2048], got %d", o.Permutations)
	case o.Bands < 0 || o.Rows < 0:
		return pipeline.OptionErrorf("{bands} and {rows} must not be negative")
	case (o.Bands == 0) != (o.Rows == 0):
		return pipeline.OptionErrorf("{bands} and {rows} go together")
	case o.Bands*o.Rows > o.Permutations:
		return pipeline.OptionErrorf("{bands} × {rows} (%d) is more than {permutations} (%d)", o.Bands*o.Rows, o.Permutations)
	case o.MemoryLimit < 0:
		return pipeline.OptionErrorf("{memory-limit} must not be negative")
	}
	if o.Key == KeyID {
		o.Mode = ModeExact // ids are compared whole
	}
	return nil
}

// Params are the MinHash LSH parameters of a run.
type Params struct {
	Threshold    float64 `json:"threshold"`
	Permutations int     `json:"permutations"`
	Bands        int     `json:"bands"`
	Rows         int     `json:"rows"`
	// FalsePositive and FalseNegative are the integrals of the final
	// (banding, then verification) error probability below and above
	// the threshold, for similarity uniform in [0, 1].
	FalsePositive float64 `json:"false_positive_area"`
	FalseNegative float64 `json:"false_negative_area"`
	// Curve is the theoretical probability that a pair of similarity s
	// becomes a candidate, 1-(1-s^r)^b, and the probability that it is
	// then also verified (estimated similarity at least the threshold).
	Curve []CurvePoint `json:"curve"`
}

// CurvePoint is one point of the detection curve.
type CurvePoint struct {
	Similarity float64 `json:"similarity"`
	Candidate  float64 `json:"candidate"`
	Detected   float64 `json:"detected"`
}

// candidateProb is 1-(1-s^r)^b.
func candidateProb(s float64, b, r int) float64 {
	return 1 - math.Pow(1-math.Pow(s, float64(r)), float64(b))
}

// verifyProb is the probability that a pair of similarity s has an
// estimated similarity (equal signature positions out of k) of at least t:
// the upper tail of Binomial(k, s).
func verifyProb(s, t float64, k int) float64 {
	m := int(math.Ceil(t*float64(k) - 1e-9))
	switch {
	case m <= 0:
		return 1
	case s <= 0:
		return 0
	case s >= 1:
		return 1
	}
	lk, _ := math.Lgamma(float64(k + 1))
	p := 0.0
	for j := m; j <= k; j++ {
		a, _ := math.Lgamma(float64(j + 1))
		b, _ := math.Lgamma(float64(k - j + 1))
		p += math.Exp(lk - a - b + float64(j)*math.Log(s) + float64(k-j)*math.Log1p(-s))
	}
	return math.Min(p, 1)
}

// ChooseParams picks bands b and rows r (b·r ≤ k) for threshold t that
// minimise the sum of the false-positive and false-negative areas of the
// whole test, weighted equally: a pair of similarity s is reported with
// probability (1-(1-s^r)^b) · P(estimate ≥ t | s), so the areas are
// ∫₀ᵗ P ds and ∫ₜ¹ (1-P) ds. Counting the verification is what lets the
// banding lean towards recall: candidates below the threshold are
// rejected by it. r is at least 2, so that unrelated pairs sharing one
// minimum hash do not all become candidates.
func ChooseParams(t float64, k int) Params {
	const steps = 400
	h := 1.0 / steps
	// Precompute the verification probability on the grid.
	s := make([]float64, steps)
	v := make([]float64, steps)
	for i := range s {
		s[i] = (float64(i) + 0.5) * h
		v[i] = verifyProb(s[i], t, k)
	}
	best := Params{Threshold: t, Permutations: k}
	bestErr := math.Inf(1)
	for b := 1; b <= k/2; b++ {
		for r := 2; b*r <= k; r++ {
			fp, fn := 0.0, 0.0
			for i, si := range s {
				p := candidateProb(si, b, r) * v[i]
				if si < t {
					fp += p * h
				} else {
					fn += (1 - p) * h
				}
			}
			if e := fp + fn; e < bestErr-1e-12 {
				bestErr = e
				best.Bands, best.Rows, best.FalsePositive, best.FalseNegative = b, r, fp, fn
			}
		}
	}
	best.Curve = curve(t, k, best.Bands, best.Rows)
	return best
}

// fixedParams are user-chosen bands and rows.
func fixedParams(t float64, k, b, r int) Params {
	p := Params{Threshold: t, Permutations: k, Bands: b, Rows: r}
	const steps = 400
	h := 1.0 / steps
	for i := range steps {
		si := (float64(i) + 0.5) * h
		q := candidateProb(si, b, r) * verifyProb(si, t, k)
		if si < t {
			p.FalsePositive += q * h
		} else {
			p.FalseNegative += (1 - q) * h
		}
	}
	p.Curve = curve(t, k, b, r)
	return p
}

// CurveSimilarities are the similarities the detection curve is shown at.
var CurveSimilarities = []float64{0.3, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95}

func curve(t float64, k, b, r int) []CurvePoint {
	var c []CurvePoint
	for _, s := range CurveSimilarities {
		cp := candidateProb(s, b, r)
		c = append(c, CurvePoint{Similarity: s, Candidate: round4(cp), Detected: round4(cp * verifyProb(s, t, k))})
	}
	return c
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }
