package dedup

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/sharegpt/sharegpt/pipeline"
)

// Sharded runs: each of N machines signs its shard of the input (pass 1,
// [Deduper.WriteState]); one merge ([Deduper.LoadState] of every shard's
// state, then Resolve and [Deduper.WriteDecisions]) finds the duplicates
// across shards; each machine then filters its shard with the decisions
// ([LoadDecisions], pass 2). Rows are input positions among all shards,
// so the merge decides exactly as one unsharded run would: the same
// records are kept, with the same rejects and clusters.

const stateMagic = "sharegpt-dedup-state 1\n"

// stateHeader is the JSON line after the magic: what the state was made
// with, which must match at the merge.
type stateHeader struct {
	Options string `json:"options"`
	Rows    int64  `json:"rows"` // input records of all shards
}

// fingerprint names every option that changes a record's state.
func (d *Deduper) fingerprint() string {
	o := d.opt
	return fmt.Sprintf("key=%s mode=%s normalize=%v strip=%v shingle=%s ngram=%d permutations=%d bands=%d rows=%d",
		o.Key, o.Mode, o.Normalize, o.StripPunct, o.Shingle, o.NGram, o.Permutations, d.params.Bands, d.params.Rows)
}

// WriteState writes the pass-1 state of the rows signed so far: a header,
// then per present row its number, its fixed state, its id and, in near
// mode, its signature and band hashes.
func (d *Deduper) WriteState(w io.Writer) error {
	if d.nAgainst > 0 {
		return errors.New("dedup: the state of a run with files to dedup against cannot be merged from shards; dedup the merged output against them")
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	hdr, _ := json.Marshal(stateHeader{Options: d.fingerprint(), Rows: d.n})
	bw.WriteString(stateMagic)
	bw.Write(append(hdr, '\n'))
	var sig, band []byte
	if d.sig != nil {
		sig, band = make([]byte, 4*d.opt.Permutations), make([]byte, 8)
	}
	var num [8]byte
	for row := range d.n {
		m := d.metaAt(row)
		if m.flags&flagPresent == 0 {
			continue
		}
		binary.LittleEndian.PutUint64(num[:], uint64(row))
		bw.Write(num[:])
		bw.Write(d.metaCopy(row))
		id, _ := d.idOf(row)
		bw.WriteString(id)
		if m.flags&flagSigned == 0 {
			continue
		}
		if err := d.sig.get(row, sig); err != nil {
			return err
		}
		bw.Write(sig)
		for _, col := range d.bands {
			if err := col.get(row, band); err != nil {
				return err
			}
			bw.Write(band)
		}
	}
	return bw.Flush()
}

// metaCopy returns a copy of a row's fixed state.
func (d *Deduper) metaCopy(row int64) []byte {
	ch := d.meta.chunks[row/chunkRows]
	off := (row % chunkRows) * metaBytes
	return append([]byte(nil), ch.data[off:off+metaBytes]...)
}

// LoadState adds the rows of one shard's state (see WriteState), made
// with the same options; name is used in messages. A row may come from
// one shard only.
func (d *Deduper) LoadState(r io.Reader, name string) error {
	br := bufio.NewReaderSize(r, 1<<20)
	magic := make([]byte, len(stateMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != stateMagic {
		return fmt.Errorf("%s: not a dedup state file (one written by a sharded dedup run)", name)
	}
	line, err := br.ReadBytes('\n')
	var hdr stateHeader
	if err == nil {
		err = json.Unmarshal(line, &hdr)
	}
	if err != nil {
		return fmt.Errorf("%s: header: %v", name, err)
	}
	if want := d.fingerprint(); hdr.Options != want {
		return fmt.Errorf("%s: made with %s, not %s", name, hdr.Options, want)
	}
	d.n = max(d.n, hdr.Rows)
	var num [8]byte
	m := make([]byte, metaBytes)
	var sig, band []byte
	if d.sig != nil {
		sig, band = make([]byte, 4*d.opt.Permutations), make([]byte, 8)
	}
	for {
		if _, err := io.ReadFull(br, num[:]); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		row := int64(binary.LittleEndian.Uint64(num[:]))
		if _, err := io.ReadFull(br, m); err != nil {
			return fmt.Errorf("%s: row %d: %w", name, row, err)
		}
		if row < 0 || row >= hdr.Rows {
			return fmt.Errorf("%s: row %d of %d rows", name, row, hdr.Rows)
		}
		if d.metaAt(row).flags&flagPresent != 0 {
			return fmt.Errorf("%s: input record %d is in two shards' state", name, row)
		}
		if err := d.loadRow(br, row, m, sig, band); err != nil {
			return fmt.Errorf("%s: row %d: %w", name, row, err)
		}
	}
}

func (d *Deduper) loadRow(br *bufio.Reader, row int64, m, sig, band []byte) error {
	flags := m[28]
	if flags&flagHasID != 0 {
		id := make([]byte, binary.LittleEndian.Uint32(m[24:]))
		if _, err := io.ReadFull(br, id); err != nil {
			return err
		}
		binary.LittleEndian.PutUint64(m[16:], uint64(len(d.ids)))
		d.ids = append(d.ids, id...)
	}
	if err := d.meta.put(row, m); err != nil {
		return err
	}
	if flags&flagSigned == 0 {
		return nil
	}
	if sig == nil {
		return errors.New("signed row in an exact-mode state")
	}
	if _, err := io.ReadFull(br, sig); err != nil {
		return err
	}
	if err := d.sig.put(row, sig); err != nil {
		return err
	}
	for _, col := range d.bands {
		if _, err := io.ReadFull(br, band); err != nil {
			return err
		}
		if err := col.put(row, band); err != nil {
			return err
		}
	}
	return nil
}

// Decision is what the merge decided for one duplicate input record.
type Decision struct {
	Index      int64   `json:"index"` // input position among all shards
	Kept       string  `json:"kept"`  // the kept record's id
	KeptIndex  int64   `json:"kept_index"`
	Similarity float32 `json:"similarity"`
	Cluster    int32   `json:"cluster"`
}

// decisionsHeader is the first line of a decisions file.
type decisionsHeader struct {
	Rows int64 `json:"rows"` // input records of all shards
}

// WriteDecisions writes, after Resolve, a header line with the number of
// input records, then one JSON line per duplicate.
func (d *Deduper) WriteDecisions(w io.Writer) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	if err := enc.Encode(decisionsHeader{Rows: d.n - d.nAgainst}); err != nil {
		return err
	}
	for i, kept := range d.decKept {
		if kept < 0 {
			continue
		}
		id, _ := d.idOf(int64(kept))
		if err := enc.Encode(Decision{Index: int64(i), Kept: id, KeptIndex: int64(kept), Similarity: d.decSim[i], Cluster: d.decClus[i]}); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Decisions are a merge's duplicates, by input position: the pass-2
// filter of a shard.
type Decisions struct {
	Rows int64 // input records of all shards the merge saw
	dup  map[int64]Decision
}

// LoadDecisions reads what WriteDecisions wrote.
func LoadDecisions(r io.Reader, name string) (*Decisions, error) {
	dec := &Decisions{Rows: -1, dup: map[int64]Decision{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		if n == 1 {
			var h decisionsHeader
			if err := json.Unmarshal(sc.Bytes(), &h); err != nil || h.Rows < 0 {
				return nil, fmt.Errorf("%s: not a decisions file (one written by the merge of a sharded dedup run)", name)
			}
			dec.Rows = h.Rows
			continue
		}
		var x Decision
		if err := json.Unmarshal(sc.Bytes(), &x); err != nil {
			return nil, fmt.Errorf("%s: line %d: %v", name, n, err)
		}
		dec.dup[x.Index] = x
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if dec.Rows < 0 {
		return nil, fmt.Errorf("%s: empty, not a decisions file", name)
	}
	return dec, nil
}

// Check reports an error unless a run read as many input records (of
// all shards) as the merge saw: decisions are keyed by input position, so
// any other input would get another record's decision.
func (dec *Decisions) Check(rep *pipeline.Report) error {
	if n := rep.RecordsIn + rep.OtherShards; n != dec.Rows {
		return pipeline.OptionErrorf("dedup {decisions}: the input has %d records, the merged state had %d: not the input the shards signed", n, dec.Rows)
	}
	return nil
}

// Name implements pipeline.Stage.
func (*Decisions) Name() string { return StageName }

// Process rejects the records the merge found to be duplicates, with the
// reject an unsharded run gives.
func (dec *Decisions) Process(_ context.Context, rec *pipeline.Record, out *pipeline.Out) error {
	x, ok := dec.dup[out.Seq()]
	if !ok {
		out.Keep(rec)
		return nil
	}
	sim := strconv.FormatFloat(float64(x.Similarity), 'f', 4, 32)
	out.RejectRelated(rec, ReasonDuplicate,
		fmt.Sprintf("similarity %s to input record %d (cluster %d)", sim, x.KeptIndex, x.Cluster), x.Kept)
	return nil
}
