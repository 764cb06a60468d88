package hfdataset

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/sharegpt/sharegpt/internal/columnar"
	"github.com/sharegpt/sharegpt/pipeline"
)

// Kind is a folder layout.
type Kind int

const (
	// Disk is the layout of Dataset.save_to_disk / DatasetDict.save_to_disk.
	Disk Kind = iota
	// Hub is the layout of a dataset repository: Parquet shards under
	// data/ and a README.md dataset card.
	Hub
)

// DefaultShardBytes is datasets' default max_shard_size ("500MB").
const DefaultShardBytes = 500_000_000

// Options configure a layout's files.
type Options struct {
	// ShardBytes and ShardRows bound the shards (default: 500 MB, no row
	// bound).
	ShardBytes int64
	ShardRows  int64
	// Compression and RowGroupSize configure the Hub layout's Parquet
	// files (default zstd, 1000 rows).
	Compression  string
	RowGroupSize int
	// Description is the Hub dataset card's text under its title.
	Description string
	// Force lets a layout replace a folder it does not recognise as one it
	// wrote (see CheckTarget). A file is never replaced by a folder.
	Force bool
}

// Split is one split a layout wrote.
type Split struct {
	Name      string
	Rows      int64
	DataBytes int64 // Arrow bytes: datasets' num_bytes
	FileBytes int64 // bytes of its files
	Shards    []columnar.Shard
}

// Layout writes one dataset folder. Rows go to the TableWriter of their
// split; Commit writes the metadata files and puts the folder in place.
type Layout struct {
	kind    Kind
	dir     string              // the folder asked for
	atomic  *pipeline.AtomicDir // the temporary folder swapped in on Commit
	final   string              // what atomic replaces: dir, or dir/data
	root    string              // where the metadata files are written
	data    string              // where the data files are written
	readme  string              // the Hub dataset card
	schema  *arrow.Schema
	dict    bool // several splits (a DatasetDict on disk)
	names   []string
	writers []*columnar.TableWriter
	desc    string
	done    bool
}

var splitName = regexp.MustCompile(`^\w+(\.\w+)*$`)

// CreateDisk starts a save_to_disk folder at dir. With no split names it is
// one Dataset (dir/data-00000-of-0000N.arrow, dataset_info.json,
// state.json); with names a DatasetDict (dir/dataset_dict.json and a folder
// per split). Everything is written in a temporary folder beside dir, which
// replaces dir on Commit. An existing dir must be one CheckTarget accepts.
func CreateDisk(dir string, schema *arrow.Schema, splits []string, opts Options) (*Layout, error) {
	return create(Disk, dir, schema, splits, opts)
}

// CreateHub starts a Hub folder at dir: dir/data/SPLIT-0000i-of-0000N.parquet
// and dir/README.md. With no split names the one split is "train". A new
// dir is built in a temporary folder and renamed into place on Commit; in
// an existing one (a clone of the dataset's repository, say) the folder
// data/ is built aside and swapped in whole, then README.md is replaced,
// and everything else in dir is left alone. An existing dir must be one
// CheckTarget accepts.
func CreateHub(dir string, schema *arrow.Schema, splits []string, opts Options) (*Layout, error) {
	return create(Hub, dir, schema, splits, opts)
}

func create(kind Kind, dir string, schema *arrow.Schema, splits []string, opts Options) (*Layout, error) {
	if dir == "" || dir == "-" {
		return nil, errors.New("a dataset layout needs a folder")
	}
	for i, s := range splits {
		if !splitName.MatchString(s) {
			return nil, fmt.Errorf("invalid split name %q (want letters, digits and _)", s)
		}
		for _, t := range splits[:i] {
			if t == s {
				return nil, fmt.Errorf("split %q named twice", s)
			}
		}
	}
	if _, ok := schema.Metadata().GetValue(columnar.HFMetadataKey); !ok {
		md, err := columnar.HFSchemaMetadata(schema)
		if err != nil {
			return nil, err
		}
		keys := append(schema.Metadata().Keys(), columnar.HFMetadataKey)
		values := append(schema.Metadata().Values(), string(md))
		m := arrow.NewMetadata(keys, values)
		schema = arrow.NewSchema(schema.Fields(), &m)
	} else if _, err := columnar.HFFeatures(schema); err != nil {
		return nil, err
	}
	l := &Layout{kind: kind, dir: filepath.Clean(dir), schema: schema, names: splits, dict: len(splits) > 0, desc: opts.Description}
	if l.desc == "" {
		l.desc = "Written by `sharegpt`."
	}
	if kind == Hub && len(splits) == 0 {
		l.names = []string{"train"}
	}
	if len(splits) == 0 && kind == Disk {
		l.names = []string{""}
	}
	if opts.ShardBytes <= 0 && opts.ShardRows <= 0 {
		opts.ShardBytes = DefaultShardBytes
	}
	copts := columnar.Options{ShardBytes: opts.ShardBytes, ShardRows: opts.ShardRows, ShardNames: true}
	if err := CheckTarget(kind, l.dir, opts.Force); err != nil {
		return nil, err
	}
	if err := l.makeRoot(); err != nil {
		return nil, err
	}
	switch kind {
	case Disk:
		copts.Format = columnar.ArrowStream
	case Hub:
		copts.Format = columnar.Parquet
		copts.Compression, copts.RowGroupSize = opts.Compression, opts.RowGroupSize
	}
	for _, name := range l.names {
		var path string
		switch {
		case kind == Hub:
			path = filepath.Join(l.data, name+".parquet")
		case name == "":
			path = filepath.Join(l.data, "data.arrow")
		default:
			path = filepath.Join(l.data, name, "data.arrow")
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			l.Abort()
			return nil, err
		}
		w, err := columnar.Create(path, schema, copts)
		if err != nil {
			l.Abort()
			return nil, err
		}
		l.writers = append(l.writers, w)
	}
	return l, nil
}

// makeRoot creates the temporary folder: for a save_to_disk folder or a
// new Hub folder, in place of dir; for an existing Hub folder, in place of
// dir/data.
func (l *Layout) makeRoot() error {
	target := l.dir
	hubInPlace := false
	if l.kind == Hub {
		if _, err := os.Lstat(l.dir); err == nil {
			target, hubInPlace = filepath.Join(l.dir, "data"), true
		}
	}
	a, err := pipeline.CreateAtomicDir(target)
	if err != nil {
		return err
	}
	l.atomic, l.final, l.root, l.data = a, target, a.Root, a.Root
	switch {
	case hubInPlace:
		l.readme = filepath.Join(l.dir, "README.md")
	case l.kind == Hub:
		l.data = filepath.Join(a.Root, "data")
		l.readme = filepath.Join(a.Root, "README.md")
	}
	return nil
}

// Schema returns the schema rows are written in (with the "huggingface"
// metadata).
func (l *Layout) Schema() *arrow.Schema { return l.schema }

// Split returns the writer of the named split ("" for the one split of a
// save_to_disk Dataset; "train" for a Hub folder made without names), or
// nil when there is no such split.
func (l *Layout) Split(name string) *columnar.TableWriter {
	for i, n := range l.names {
		if n == name || (name == "" && len(l.names) == 1) {
			return l.writers[i]
		}
	}
	return nil
}

// Commit finishes every split, writes the metadata files and puts the
// folder in place.
func (l *Layout) Commit() ([]Split, error) {
	if l.done {
		return nil, errors.New("dataset layout: already committed")
	}
	var splits []Split
	for i, w := range l.writers {
		shards, err := w.Commit()
		if err != nil {
			for _, o := range l.writers[i+1:] {
				o.Abort()
			}
			l.writers = nil
			l.Abort()
			return nil, err
		}
		s := Split{Name: l.names[i], Shards: shards}
		for _, sh := range shards {
			s.Rows += sh.Rows
			s.DataBytes += sh.DataBytes
			s.FileBytes += sh.Bytes
		}
		splits = append(splits, s)
	}
	l.writers = nil
	var err error
	switch l.kind {
	case Disk:
		err = l.commitDisk(splits)
	case Hub:
		err = l.commitHub(splits)
	}
	if err != nil {
		l.Abort()
		return nil, err
	}
	l.done = true
	for i := range splits {
		for j, sh := range splits[i].Shards {
			if rel, err := filepath.Rel(l.root, sh.Path); err == nil {
				splits[i].Shards[j].Path = filepath.Join(l.final, rel)
			}
		}
	}
	return splits, nil
}

// Abort discards what was written.
func (l *Layout) Abort() {
	for _, w := range l.writers {
		w.Abort()
	}
	l.writers = nil
	if l.atomic != nil && !l.done {
		l.atomic.Abort()
	}
}

func (l *Layout) commitDisk(splits []Split) error {
	fs, err := columnar.HFFeatures(l.schema)
	if err != nil {
		return err
	}
	for _, s := range splits {
		dir := l.root
		if s.Name != "" {
			dir = filepath.Join(l.root, s.Name)
		}
		fp, err := fingerprint(s.Shards)
		if err != nil {
			return err
		}
		if err := writeFile(filepath.Join(dir, "dataset_info.json"), datasetInfoJSON(fs)); err != nil {
			return err
		}
		if err := writeFile(filepath.Join(dir, "state.json"), stateJSON(s, fp)); err != nil {
			return err
		}
	}
	if l.dict {
		b := []byte(`{"splits": [`)
		for i, s := range splits {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = pipeline.AppendString(b, s.Name)
		}
		b = append(b, "]}"...)
		if err := writeFile(filepath.Join(l.root, "dataset_dict.json"), b); err != nil {
			return err
		}
	}
	return l.atomic.Commit()
}

// fingerprint is a content hash of the shards: 16 hex digits, as datasets'
// fingerprints look.
func fingerprint(shards []columnar.Shard) (string, error) {
	h := sha256.New()
	for _, s := range shards {
		f, err := os.Open(s.Path)
		if err != nil {
			return "", err
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// datasetInfoJSON is dataset_info.json as save_to_disk writes it
// (json.dump of asdict(DatasetInfo) with the first level sorted, indent 2).
func datasetInfoJSON(fs []columnar.Feature) []byte {
	b := []byte("{\n  \"citation\": \"\",\n  \"description\": \"\",\n  \"features\": ")
	b = append(b, columnar.FeaturesJSON(fs, 2, 1)...)
	b = append(b, ",\n  \"homepage\": \"\",\n  \"license\": \"\"\n}"...)
	return b
}

// stateJSON is state.json as save_to_disk writes it (sort_keys, indent 2).
func stateJSON(s Split, fp string) []byte {
	var b strings.Builder
	b.WriteString("{\n  \"_data_files\": [")
	for i, sh := range s.Shards {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n    {\n      \"filename\": ")
		b.Write(pipeline.AppendString(nil, filepath.Base(sh.Path)))
		b.WriteString("\n    }")
	}
	b.WriteString("\n  ],\n  \"_fingerprint\": \"" + fp + "\",\n")
	b.WriteString("  \"_format_columns\": null,\n  \"_format_kwargs\": {},\n  \"_format_type\": null,\n")
	b.WriteString("  \"_output_all_columns\": false,\n  \"_split\": ")
	if s.Name == "" {
		b.WriteString("null")
	} else {
		b.Write(pipeline.AppendString(nil, s.Name))
	}
	b.WriteString("\n}")
	return []byte(b.String())
}

func (l *Layout) commitHub(splits []Split) error {
	fs, err := columnar.HFFeatures(l.schema)
	if err != nil {
		return err
	}
	var card []byte
	card = append(card, "---\ndataset_info:\n  features:\n"...)
	card = columnar.FeaturesYAML(card, fs, 2)
	card = append(card, "  splits:\n"...)
	var download, size int64
	for _, s := range splits {
		card = append(card, "  - name: "+s.Name+"\n"...)
		card = append(card, "    num_bytes: "+strconv.FormatInt(s.DataBytes, 10)+"\n"...)
		card = append(card, "    num_examples: "+strconv.FormatInt(s.Rows, 10)+"\n"...)
		download += s.FileBytes
		size += s.DataBytes
	}
	card = append(card, "  download_size: "+strconv.FormatInt(download, 10)+"\n"...)
	card = append(card, "  dataset_size: "+strconv.FormatInt(size, 10)+"\n"...)
	card = append(card, "configs:\n- config_name: default\n  data_files:\n"...)
	for _, s := range splits {
		card = append(card, "  - split: "+s.Name+"\n    path: data/"+s.Name+"-*\n"...)
	}
	card = append(card, "---\n\n"...)
	card = append(card, "# Dataset\n\n"+strings.TrimSpace(l.desc)+"\n\n"...)
	card = append(card, "| split | examples | Parquet files |\n|---|---|---|\n"...)
	for _, s := range splits {
		card = append(card, fmt.Sprintf("| %s | %d | %d |\n", s.Name, s.Rows, len(s.Shards))...)
	}
	card = append(card, "\n```python\nfrom datasets import load_dataset\nds = load_dataset(\"path/to/this/folder\")\n```\n"...)
	if l.readme == filepath.Join(l.root, "README.md") {
		if err := writeFile(l.readme, card); err != nil {
			return err
		}
		return l.atomic.Commit()
	}
	// An existing folder: data/ first, then the card that describes it.
	if err := l.atomic.Commit(); err != nil {
		return err
	}
	return writeFile(l.readme, card)
}

func writeFile(path string, data []byte) error {
	f, err := pipeline.CreateAtomic(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Commit()
}
