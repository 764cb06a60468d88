package dedup

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/sharegpt/sharegpt/pipeline"
)

// Reasons a record is rejected with.
const (
	ReasonDuplicate        pipeline.Reason = "duplicate"
	ReasonDuplicateAgainst pipeline.Reason = "duplicate-against"
)

// StageName names the filtering stage in reports and rejects.
const StageName = "dedup"

// metaBytes is the size of a record's fixed state: exact hash (8), chars
// (4), turns (4), id offset (8), id length (4), flags (1), padding (3).
const metaBytes = 32

// shingleChunk is how many shingle hashes are folded into a signature at
// once: a long text is signed in chunks of this many, in bounded memory.
const shingleChunk = 1 << 14

const (
	flagPresent = 1 << iota // the record reached the signing stage
	flagKeyed               // it has something to compare
	flagSigned              // it has a MinHash signature
	flagHasID               // it has an id
)

// Deduper finds the duplicates of a run. Use: [Deduper.Signer] stages
// over the --against inputs, then over the inputs (pass 1); then
// [Deduper.Resolve]; then [Deduper.Filter] over the inputs again (pass 2);
// [Deduper.WriteClusters] and [Deduper.Details] at the end; Close.
type Deduper struct {
	opt    Options
	params Params
	tx     *textor
	mh     *minhasher

	st    *store
	meta  *column
	sig   *column   // near mode
	bands []*column // near mode

	idMu sync.Mutex
	ids  []byte

	n        int64 // rows signed so far (all passes)
	nAgainst int64 // rows [0, nAgainst) are --against records

	// After Resolve.
	resolved bool
	decKept  []int32   // per input row: row of the kept (or --against) record, -1: kept
	decSim   []float32 // similarity to it
	decClus  []int32   // cluster number
	clusters []cluster
	members  []int32 // rows, grouped by cluster (see cluster.first)
	stats    Stats
	timing   struct{ sign, resolve time.Duration }
	signFrom time.Time
	bufs     sync.Pool
}

type cluster struct {
	first, n int32 // members[first : first+n], in row order
	kept     int32 // the kept input row, or the --against row
	against  bool
}

// Stats count what dedup found.
type Stats struct {
	Records        int64   `json:"records"`
	AgainstRecords int64   `json:"against_records"`
	NoKey          int64   `json:"records_without_key"`
	ExactPairs     int64   `json:"exact_duplicate_links"`
	CandidatePairs int64   `json:"candidate_pairs"`
	VerifiedPairs  int64   `json:"verified_pairs"`
	Clusters       int64   `json:"clusters"`
	Duplicates     int64   `json:"duplicates"`
	AgainstMatches int64   `json:"duplicates_against"`
	LargestCluster int64   `json:"largest_cluster"`
	BytesPerRecord int64   `json:"state_bytes_per_record"`
	StateBytes     int64   `json:"state_bytes_in_memory"`
	SpilledBytes   int64   `json:"state_bytes_spilled"`
	SignSeconds    float64 `json:"sign_seconds"`
	ResolveSeconds float64 `json:"resolve_seconds"`
}

// Details is what dedup adds to the run report.
type Details struct {
	Key        string  `json:"key"`
	Mode       string  `json:"mode"`
	Keep       string  `json:"keep"`
	Normalize  bool    `json:"normalize"`
	StripPunct bool    `json:"strip_punct"`
	Shingle    string  `json:"shingle,omitempty"`
	NGram      int     `json:"ngram,omitempty"`
	LSH        *Params `json:"lsh,omitempty"`
	Stats
}

// New returns a Deduper for the options.
func New(opt Options) (*Deduper, error) {
	if err := opt.fill(); err != nil {
		return nil, err
	}
	d := &Deduper{opt: opt, tx: newTextor(&opt)}
	d.st = &store{dir: opt.TempDir, limit: opt.MemoryLimit}
	d.meta = d.st.column("meta", metaBytes, false)
	if opt.Mode == ModeNear {
		if opt.Bands > 0 {
			d.params = fixedParams(opt.Threshold, opt.Permutations, opt.Bands, opt.Rows)
		} else {
			d.params = ChooseParams(opt.Threshold, opt.Permutations)
		}
		d.mh = newMinhasher(opt.Permutations)
		d.sig = d.st.column("signatures", 4*opt.Permutations, true)
		for j := range d.params.Bands {
			d.bands = append(d.bands, d.st.column("band"+strconv.Itoa(j), 8, true))
		}
	}
	d.bufs.New = func() any { return &buffers{} }
	return d, nil
}

// Options returns the options in effect (defaults filled in).
func (d *Deduper) Options() Options { return d.opt }

// Params returns the LSH parameters (near mode).
func (d *Deduper) Params() Params { return d.params }

// BytesPerRecord is the state held per record: the fixed part, the
// signature and band hashes (near mode), and the resolve step's arrays
// (union-find parent, cluster grouping, decision, one band's sort entry).
// The id's bytes come on top.
func (d *Deduper) BytesPerRecord() int64 {
	n := int64(metaBytes) + 4 + 8 + 12
	if d.opt.Mode == ModeNear {
		n += int64(4*d.opt.Permutations) + int64(8*len(d.bands)) + 16
	} else {
		n += 16
	}
	return n
}

// Close frees the state and removes spill files.
func (d *Deduper) Close() { d.st.close() }

type buffers struct {
	text  []byte
	units []uint64 // the shingle window
	shing []uint32 // shingle hashes not yet folded into the signature
	sig   []uint32
	meta  [metaBytes]byte
	band  [8]byte
}

// Signer is the pass-1 stage: it computes each record's state and keeps
// every record (run it with no output). Run the --against inputs first,
// each signer to completion, and call Done with the run's RecordsIn.
type Signer struct {
	d       *Deduper
	base    int64
	against bool
}

// Signer returns the pass-1 stage for the next inputs.
func (d *Deduper) Signer(against bool) *Signer {
	if d.resolved {
		panic("dedup: Signer after Resolve")
	}
	if against && d.n > d.nAgainst {
		panic("dedup: --against inputs must be signed first")
	}
	if d.signFrom.IsZero() {
		d.signFrom = time.Now()
	}
	return &Signer{d: d, base: d.n, against: against}
}

// Name implements pipeline.Stage.
func (s *Signer) Name() string { return "dedup-sign" }

// Done records that the signer saw records input records.
func (s *Signer) Done(records int64) {
	s.d.n = s.base + records
	if s.against {
		s.d.nAgainst = s.d.n
	}
}

// Process implements pipeline.Stage.
func (s *Signer) Process(_ context.Context, rec *pipeline.Record, out *pipeline.Out) error {
	d := s.d
	row := s.base + out.Seq()
	if row >= math.MaxInt32 {
		return fmt.Errorf("dedup: more than %d records", math.MaxInt32-1)
	}
	b := d.bufs.Get().(*buffers)
	defer d.bufs.Put(b)
	m := b.meta[:]
	clear(m)
	flags := byte(flagPresent)
	var ok bool
	b.text, ok = d.tx.keyText(b.text[:0], rec)
	if ok {
		flags |= flagKeyed
		binary.LittleEndian.PutUint64(m[0:], hash64(b.text, uint64(d.opt.Key)))
	}
	binary.LittleEndian.PutUint32(m[8:], uint32(min(rec.Chars(), math.MaxUint32)))
	binary.LittleEndian.PutUint32(m[12:], uint32(min(len(rec.Conversations), math.MaxUint32)))
	if rec.HasID() {
		d.idMu.Lock()
		off := len(d.ids)
		d.ids = append(d.ids, rec.ID...)
		d.idMu.Unlock()
		binary.LittleEndian.PutUint64(m[16:], uint64(off))
		binary.LittleEndian.PutUint32(m[24:], uint32(len(rec.ID)))
		flags |= flagHasID
	}
	if ok && d.opt.Mode == ModeNear {
		if cap(b.sig) < d.opt.Permutations {
			b.sig = make([]uint32, d.opt.Permutations)
		}
		sig := b.sig[:d.opt.Permutations]
		d.mh.reset(sig)
		signed := false
		b.shing = b.shing[:0]
		b.units = d.tx.shingles(b.text, func(x uint32) {
			if b.shing = append(b.shing, x); len(b.shing) == shingleChunk {
				d.mh.add(sig, b.shing)
				b.shing, signed = b.shing[:0], true
			}
		}, b.units)
		if len(b.shing) > 0 {
			d.mh.add(sig, b.shing)
			signed = true
		}
		if signed {
			flags |= flagSigned
			if err := d.sig.put(row, u32bytes(sig)); err != nil {
				return err
			}
			r := d.params.Rows
			for j, col := range d.bands {
				binary.LittleEndian.PutUint64(b.band[:], bandHash(sig[j*r:(j+1)*r], j))
				if err := col.put(row, b.band[:]); err != nil {
					return err
				}
			}
		}
	}
	m[28] = flags
	if err := d.meta.put(row, m); err != nil {
		return err
	}
	out.Keep(rec)
	return nil
}

type metaRow struct {
	hash         uint64
	chars, turns uint32
	idOff        uint64
	idLen        uint32
	flags        byte
}

func (d *Deduper) metaAt(row int64) metaRow {
	ci := int(row / chunkRows)
	var buf []byte
	if ci < len(d.meta.chunks) && d.meta.chunks[ci] != nil {
		off := (row % chunkRows) * metaBytes
		buf = d.meta.chunks[ci].data[off : off+metaBytes]
	} else {
		return metaRow{}
	}
	return metaRow{
		hash:  binary.LittleEndian.Uint64(buf[0:]),
		chars: binary.LittleEndian.Uint32(buf[8:]),
		turns: binary.LittleEndian.Uint32(buf[12:]),
		idOff: binary.LittleEndian.Uint64(buf[16:]),
		idLen: binary.LittleEndian.Uint32(buf[24:]),
		flags: buf[28],
	}
}

func (d *Deduper) idOf(row int64) (string, bool) {
	m := d.metaAt(row)
	if m.flags&flagHasID == 0 {
		return "", false
	}
	return string(d.ids[m.idOff : m.idOff+uint64(m.idLen)]), true
}

// union-find over rows; the root of a set is its smallest row.
type unionFind []int32

func (u unionFind) find(x int32) int32 {
	for u[x] != x {
		u[x] = u[u[x]]
		x = u[x]
	}
	return x
}

func (u unionFind) union(a, b int32) bool {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return false
	}
	if ra < rb {
		u[rb] = ra
	} else {
		u[ra] = rb
	}
	return true
}

type hashRow struct {
	h   uint64
	row int32
}

func cmpHashRow(a, b hashRow) int {
	switch {
	case a.h < b.h:
		return -1
	case a.h > b.h:
		return 1
	}
	return int(a.row - b.row)
}

// bucketCap bounds the earlier members of an LSH bucket a record is
// verified against (huge buckets are templated text, mostly one cluster).
const bucketCap = 64

// Resolve finds the clusters and chooses the kept record of each: exact
// duplicates by sorting the key hashes, near duplicates by sorting each
// band's hashes, verifying every candidate pair by its estimated
// similarity and joining verified pairs with union-find.
func (d *Deduper) Resolve() error {
	if d.resolved {
		return nil
	}
	d.resolved = true
	start := time.Now()
	if !d.signFrom.IsZero() {
		d.timing.sign = start.Sub(d.signFrom)
	}
	uf := make(unionFind, d.n)
	for i := range uf {
		uf[i] = int32(i)
	}
	hr := d.unionExact(uf)
	if d.opt.Mode == ModeNear {
		if err := d.unionNear(uf, hr[:0]); err != nil {
			return err
		}
	}
	hr = nil
	end := d.group(uf)
	uf = nil
	if err := d.decide(end); err != nil {
		return err
	}
	d.timing.resolve = time.Since(start)
	d.finishStats()
	return nil
}

// unionExact joins the rows with equal key hashes and counts the records;
// it returns its sort buffer for reuse.
func (d *Deduper) unionExact(uf unionFind) []hashRow {
	st := &d.stats
	st.AgainstRecords = d.nAgainst
	var hr []hashRow
	for row := range d.n {
		m := d.metaAt(row)
		if m.flags&flagPresent == 0 {
			continue
		}
		if row >= d.nAgainst {
			st.Records++
		}
		if m.flags&flagKeyed == 0 {
			if row >= d.nAgainst {
				st.NoKey++
			}
			continue
		}
		hr = append(hr, hashRow{m.hash, int32(row)})
	}
	slices.SortFunc(hr, cmpHashRow)
	for i := 1; i < len(hr); i++ {
		if hr[i].h == hr[i-1].h && uf.union(hr[i-1].row, hr[i].row) {
			st.ExactPairs++
		}
	}
	return hr
}

// unionNear joins verified candidate pairs, band by band: the rows of a
// band are sorted by their band hash, and rows with equal hashes are
// candidates.
func (d *Deduper) unionNear(uf unionFind, hr []hashRow) error {
	v := d.newVerifier()
	buf := make([]byte, chunkRows*8)
	for _, col := range d.bands {
		var err error
		if hr, err = d.bandRows(col, hr[:0], buf); err != nil {
			return err
		}
		slices.SortFunc(hr, cmpHashRow)
		for lo := 0; lo < len(hr); {
			hi := lo + 1
			for hi < len(hr) && hr[hi].h == hr[lo].h {
				hi++
			}
			if err := d.unionBucket(uf, v, hr[lo:hi]); err != nil {
				return err
			}
			lo = hi
		}
	}
	return nil
}

// bandRows appends the (band hash, row) pairs of the signed rows.
func (d *Deduper) bandRows(col *column, hr []hashRow, buf []byte) ([]hashRow, error) {
	for ci := 0; int64(ci)*chunkRows < d.n; ci++ {
		data, err := col.chunk(ci, buf)
		if err != nil {
			return nil, err
		}
		for i, h := range bytesU64(data) {
			row := int64(ci)*chunkRows + int64(i)
			if row >= d.n {
				break
			}
			if d.metaAt(row).flags&flagSigned != 0 {
				hr = append(hr, hashRow{h, int32(row)})
			}
		}
	}
	return hr, nil
}

// unionBucket verifies the candidate pairs of one LSH bucket: each row
// against at most bucketCap rows before it that are not yet in its
// cluster.
func (d *Deduper) unionBucket(uf unionFind, v *verifier, bucket []hashRow) error {
	st := &d.stats
	for x := 1; x < len(bucket); x++ {
		a := bucket[x].row
		for y := max(0, x-bucketCap); y < x; y++ {
			b := bucket[y].row
			if uf.find(a) == uf.find(b) {
				continue
			}
			st.CandidatePairs++
			sim, err := v.similarity(a, b)
			if err != nil {
				return err
			}
			if sim >= d.opt.Threshold {
				st.VerifiedPairs++
				uf.union(a, b)
			}
		}
	}
	return nil
}

// verifier estimates the similarity of two rows from their signatures.
type verifier struct {
	d      *Deduper
	sa, sb []byte
}

func (d *Deduper) newVerifier() *verifier {
	k := d.opt.Permutations
	return &verifier{d: d, sa: make([]byte, 4*k), sb: make([]byte, 4*k)}
}

func (v *verifier) similarity(a, b int32) (float64, error) {
	if err := v.d.sig.get(int64(a), v.sa); err != nil {
		return 0, err
	}
	if err := v.d.sig.get(int64(b), v.sb); err != nil {
		return 0, err
	}
	return similarity(bytesU32(v.sa), bytesU32(v.sb)), nil
}

// group puts the rows in d.members grouped by cluster root (a counting
// sort), in row order within a group, and returns the end of each root's
// group: root r's group is d.members[end[r-1]:end[r]] (from 0 for r = 0).
func (d *Deduper) group(uf unionFind) []int32 {
	n := d.n
	count := make([]int32, n+1)
	for row := range n {
		count[uf.find(int32(row))+1]++
	}
	for i := int64(1); i <= n; i++ {
		count[i] += count[i-1]
	}
	d.members = make([]int32, n)
	for row := range n {
		r := uf.find(int32(row))
		d.members[count[r]] = int32(row)
		count[r]++
	}
	return count
}

// decide makes the clusters of two or more rows, chooses each one's kept
// row and records for every other input row the kept row, its similarity
// to it and the cluster.
func (d *Deduper) decide(end []int32) error {
	nIn := d.n - d.nAgainst
	d.decKept = make([]int32, nIn)
	d.decSim = make([]float32, nIn)
	d.decClus = make([]int32, nIn)
	for i := range d.decKept {
		d.decKept[i] = -1
		d.decClus[i] = -1
	}
	var v *verifier
	if d.sig != nil {
		v = d.newVerifier()
	}
	for r := range d.n {
		first := int32(0)
		if r > 0 {
			first = end[r-1]
		}
		group := d.members[first:end[r]]
		if len(group) < 2 || group[len(group)-1] < int32(d.nAgainst) {
			continue // a single row, or --against records only
		}
		if err := d.decideCluster(v, first, group); err != nil {
			return err
		}
	}
	d.stats.Clusters = int64(len(d.clusters))
	return nil
}

// decideCluster chooses the kept row of one cluster and decides its
// other input rows.
func (d *Deduper) decideCluster(v *verifier, first int32, group []int32) error {
	st := &d.stats
	against := int32(d.nAgainst)
	c := cluster{first: first, n: int32(len(group))}
	if group[0] < against {
		c.against, c.kept = true, group[0]
	} else {
		c.kept = d.choose(group)
	}
	id := int32(len(d.clusters))
	km := d.metaAt(int64(c.kept))
	for _, row := range group {
		if row < against {
			continue
		}
		i := int64(row - against)
		d.decClus[i] = id
		if row == c.kept {
			continue
		}
		sim := float32(1)
		m := d.metaAt(int64(row))
		if v != nil && (m.hash != km.hash || m.flags&flagKeyed == 0) && m.flags&flagSigned != 0 && km.flags&flagSigned != 0 {
			s, err := v.similarity(row, c.kept)
			if err != nil {
				return err
			}
			sim = float32(s)
		}
		d.decKept[i], d.decSim[i] = c.kept, sim
		if c.against {
			st.AgainstMatches++
		} else {
			st.Duplicates++
		}
	}
	st.LargestCluster = max(st.LargestCluster, int64(len(group)))
	d.clusters = append(d.clusters, c)
	return nil
}

// finishStats fills in the memory and timing figures.
func (d *Deduper) finishStats() {
	st := &d.stats
	st.BytesPerRecord = d.BytesPerRecord()
	d.st.mu.Lock()
	st.StateBytes = d.st.inMem + d.st.pinned + int64(len(d.ids)) + d.n*(4+4+12+16)
	st.SpilledBytes = d.st.spilled
	d.st.mu.Unlock()
	st.SignSeconds = round4(d.timing.sign.Seconds())
	st.ResolveSeconds = round4(d.timing.resolve.Seconds())
}

// choose picks the kept row of a cluster of input rows (in row order) by
// the keep policy; ties go to the earliest.
func (d *Deduper) choose(group []int32) int32 {
	best := group[0]
	if d.opt.Keep == KeepFirst {
		return best
	}
	score := func(row int32) uint32 {
		m := d.metaAt(int64(row))
		if d.opt.Keep == KeepLongest {
			return m.chars
		}
		return m.turns
	}
	bs := score(best)
	for _, row := range group[1:] {
		if s := score(row); s > bs {
			best, bs = row, s
		}
	}
	return best
}

// Stats returns the counts (after Resolve).
func (d *Deduper) Stats() Stats { return d.stats }

// Details returns the report details.
func (d *Deduper) Details() *Details {
	det := &Details{
		Key: d.opt.Key.String(), Mode: d.opt.Mode.String(), Keep: d.opt.Keep.String(),
		Normalize: d.opt.Normalize, StripPunct: d.opt.StripPunct, Stats: d.stats,
	}
	if d.opt.Mode == ModeNear {
		det.Shingle, det.NGram = d.opt.Shingle.String(), d.opt.NGram
		p := d.params
		det.LSH = &p
	}
	return det
}

// Filter is the pass-2 stage over the inputs: it keeps or rejects each
// record as Resolve decided. It is safe on all workers.
func (d *Deduper) Filter() pipeline.Stage {
	if !d.resolved {
		panic("dedup: Filter before Resolve")
	}
	return filter{d}
}

type filter struct{ d *Deduper }

func (filter) Name() string { return StageName }

func (f filter) Process(_ context.Context, rec *pipeline.Record, out *pipeline.Out) error {
	d := f.d
	i := out.Seq()
	if i >= int64(len(d.decKept)) {
		return fmt.Errorf("dedup: record %d was not seen by the first pass (did the input change?)", i)
	}
	kept := d.decKept[i]
	if kept < 0 {
		out.Keep(rec)
		return nil
	}
	id, _ := d.idOf(int64(kept))
	sim := strconv.FormatFloat(float64(d.decSim[i]), 'f', 4, 32)
	if kept < int32(d.nAgainst) {
		out.RejectRelated(rec, ReasonDuplicateAgainst,
			fmt.Sprintf("similarity %s to --against record %d (cluster %d)", sim, kept, d.decClus[i]), id)
		return nil
	}
	out.RejectRelated(rec, ReasonDuplicate,
		fmt.Sprintf("similarity %s to input record %d (cluster %d)", sim, int64(kept)-d.nAgainst, d.decClus[i]), id)
	return nil
}

// WriteClusters writes the clusters as JSONL, one line per cluster with
// more than one member, in order of their first member:
//
//	{"cluster":0,"kept":"id","kept_index":3,"size":2,"members":[
//	  {"id":"id","index":3,"similarity":1},{"id":"x","index":9,"similarity":0.9375}]}
//
// index is the record's position among all input records. A cluster
// joined to --against records has "against" (the first such record's id
// and "against_index", its position among the --against records) instead
// of "kept", and lists its input members only, with their similarity to
// that record.
func (d *Deduper) WriteClusters(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var b []byte
	for ci, c := range d.clusters {
		b = append(b[:0], `{"cluster":`...)
		b = strconv.AppendInt(b, int64(ci), 10)
		idField := func(key string, row int32) {
			b = append(b, `,"`+key+`":`...)
			if id, ok := d.idOf(int64(row)); ok {
				b = pipeline.AppendString(b, id)
			} else {
				b = append(b, "null"...)
			}
		}
		if c.against {
			idField("against", c.kept)
			b = append(b, `,"against_index":`...)
			b = strconv.AppendInt(b, int64(c.kept), 10)
		} else {
			idField("kept", c.kept)
			b = append(b, `,"kept_index":`...)
			b = strconv.AppendInt(b, int64(c.kept)-d.nAgainst, 10)
		}
		group := d.members[c.first : c.first+c.n]
		inputs := 0
		for _, row := range group {
			if row >= int32(d.nAgainst) {
				inputs++
			}
		}
		b = append(b, `,"size":`...)
		b = strconv.AppendInt(b, int64(inputs), 10)
		b = append(b, `,"members":[`...)
		sep := false
		for _, row := range group {
			if row < int32(d.nAgainst) {
				continue
			}
			if sep {
				b = append(b, ',')
			}
			sep = true
			i := int64(row) - d.nAgainst
			b = append(b, `{"id":`...)
			if id, ok := d.idOf(int64(row)); ok {
				b = pipeline.AppendString(b, id)
			} else {
				b = append(b, "null"...)
			}
			b = append(b, `,"index":`...)
			b = strconv.AppendInt(b, i, 10)
			b = append(b, `,"similarity":`...)
			sim := float32(1)
			if row != c.kept {
				sim = d.decSim[i]
			}
			b = strconv.AppendFloat(b, float64(sim), 'f', -1, 32)
			b = append(b, '}')
		}
		b = append(b, "]}\n"...)
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}
