// Package lengthhist counts conversation lengths in the bins of FastChat's
// get_stats.py (0, 1024, 2048, 4096, 8192, 16384, 32768 and up), the
// histogram both `split` and `stats` report.
//
//	var h lengthhist.Histogram
//	h.Add(1500)
//	bins := h.Bins() // [{From:0 To:1024 Count:0} {From:1024 To:2048 Count:1} ...]
//
// A Histogram is safe for concurrent use; its zero value is empty.
package lengthhist

import "sync/atomic"

// Edges are the bins' lower bounds.
var Edges = [...]int64{0, 1024, 2048, 4096, 8192, 16384, 32768}

// Bin is one histogram bin, [From, To); To is -1 for the last, open bin.
type Bin struct {
	From  int64 `json:"from"`
	To    int64 `json:"to"`
	Count int64 `json:"count"`
}

// Histogram counts lengths per bin.
type Histogram struct {
	counts [len(Edges)]atomic.Int64
}

// Add counts one length; negative lengths count in the first bin.
func (h *Histogram) Add(n int64) {
	for b := len(Edges) - 1; b >= 0; b-- {
		if n >= Edges[b] || b == 0 {
			h.counts[b].Add(1)
			return
		}
	}
}

// Bins returns the counts so far, one Bin per edge.
func (h *Histogram) Bins() []Bin {
	bins := make([]Bin, len(Edges))
	for i, lo := range Edges {
		bins[i] = Bin{From: lo, To: -1, Count: h.counts[i].Load()}
		if i+1 < len(Edges) {
			bins[i].To = Edges[i+1]
		}
	}
	return bins
}
