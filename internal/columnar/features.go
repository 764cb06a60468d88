package columnar

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"

	"github.com/sharegpt/sharegpt/pipeline"
)

// HFMetadataKey is the schema metadata key under which Hugging Face
// datasets keeps a table's features.
const HFMetadataKey = "huggingface"

// Feature is a Hugging Face datasets feature: Value(dtype),
// Sequence(feature), a list [feature] (what datasets makes of a list of
// structs) or a dict of named features (a struct).
type Feature struct {
	Dtype    string    // Value
	Sequence *Feature  // Sequence(feature=...)
	List     *Feature  // [feature]
	Fields   []Feature // dict
	Name     string    // the name of a dict member or column
}

// HFFeatures returns the features datasets infers for an Arrow schema
// (datasets.Features.from_arrow_schema), one per column.
func HFFeatures(schema *arrow.Schema) ([]Feature, error) {
	var out []Feature
	for _, f := range schema.Fields() {
		ft, err := featureOf(f.Type)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", f.Name, err)
		}
		ft.Name = f.Name
		out = append(out, ft)
	}
	return out, nil
}

func featureOf(t arrow.DataType) (Feature, error) {
	switch t.ID() {
	case arrow.STRING:
		return Feature{Dtype: "string"}, nil
	case arrow.LARGE_STRING:
		return Feature{Dtype: "large_string"}, nil
	case arrow.BINARY:
		return Feature{Dtype: "binary"}, nil
	case arrow.LARGE_BINARY:
		return Feature{Dtype: "large_binary"}, nil
	case arrow.BOOL:
		return Feature{Dtype: "bool"}, nil
	case arrow.NULL:
		return Feature{Dtype: "null"}, nil
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64:
		name := t.Name()
		if name == "halffloat" {
			name = "float16"
		}
		return Feature{Dtype: name}, nil
	case arrow.LIST:
		inner, err := featureOf(t.(*arrow.ListType).Elem())
		if err != nil {
			return Feature{}, err
		}
		if inner.Fields != nil || inner.List != nil {
			return Feature{List: &inner}, nil
		}
		return Feature{Sequence: &inner}, nil
	case arrow.STRUCT:
		st := t.(*arrow.StructType)
		f := Feature{Fields: []Feature{}}
		for _, sf := range st.Fields() {
			inner, err := featureOf(sf.Type)
			if err != nil {
				return Feature{}, fmt.Errorf("%s: %w", sf.Name, err)
			}
			inner.Name = sf.Name
			f.Fields = append(f.Fields, inner)
		}
		return f, nil
	}
	return Feature{}, fmt.Errorf("type %s has no Hugging Face feature here", t)
}

// pyJSON writes JSON as Python's json.dumps does: with indent < 0 on one
// line with ", " and ": " separators, else indented by indent spaces with
// "," and ": ".
type pyJSON struct {
	b      []byte
	indent int
}

func (p *pyJSON) newline(depth int) {
	if p.indent < 0 {
		return
	}
	p.b = append(p.b, '\n')
	p.b = append(p.b, strings.Repeat(" ", p.indent*depth)...)
}

func (p *pyJSON) sep() {
	if p.indent < 0 {
		p.b = append(p.b, ", "...)
	} else {
		p.b = append(p.b, ',')
	}
}

// object writes {k: v, ...} with members written by the callbacks.
func (p *pyJSON) object(depth int, keys []string, vals []func(depth int)) {
	if len(keys) == 0 {
		p.b = append(p.b, "{}"...)
		return
	}
	p.b = append(p.b, '{')
	for i, k := range keys {
		if i > 0 {
			p.sep()
		}
		p.newline(depth + 1)
		p.b = pipeline.AppendString(p.b, k)
		p.b = append(p.b, ": "...)
		vals[i](depth + 1)
	}
	p.newline(depth)
	p.b = append(p.b, '}')
}

func (p *pyJSON) str(s string) func(int) {
	return func(int) { p.b = pipeline.AppendString(p.b, s) }
}

// feature writes one feature as datasets' asdict does.
func (p *pyJSON) feature(f Feature) func(int) {
	return func(depth int) {
		switch {
		case f.Fields != nil:
			p.features(f.Fields)(depth)
		case f.List != nil:
			p.b = append(p.b, '[')
			p.newline(depth + 1)
			p.feature(*f.List)(depth + 1)
			p.newline(depth)
			p.b = append(p.b, ']')
		case f.Sequence != nil:
			p.object(depth, []string{"feature", "_type"}, []func(int){p.feature(*f.Sequence), p.str("Sequence")})
		default:
			p.object(depth, []string{"dtype", "_type"}, []func(int){p.str(f.Dtype), p.str("Value")})
		}
	}
}

func (p *pyJSON) features(fs []Feature) func(int) {
	return func(depth int) {
		keys := make([]string, len(fs))
		vals := make([]func(int), len(fs))
		for i, f := range fs {
			keys[i], vals[i] = f.Name, p.feature(f)
		}
		p.object(depth, keys, vals)
	}
}

// FeaturesJSON returns features as datasets writes them in
// dataset_info.json (indent >= 0) or in Arrow schema metadata (indent -1).
func FeaturesJSON(fs []Feature, indent, depth int) []byte {
	p := &pyJSON{indent: indent}
	p.features(fs)(depth)
	return p.b
}

// HFSchemaMetadata returns the value of the "huggingface" schema metadata
// datasets writes for a table of this schema: {"info": {"features": ...}}.
func HFSchemaMetadata(schema *arrow.Schema) ([]byte, error) {
	fs, err := HFFeatures(schema)
	if err != nil {
		return nil, err
	}
	p := &pyJSON{indent: -1}
	p.object(0, []string{"info"}, []func(int){func(d int) {
		p.object(d, []string{"features"}, []func(int){p.features(fs)})
	}})
	return p.b, nil
}

// FeaturesYAML appends features as a dataset card's YAML header lists
// them (datasets' Features._to_yaml_list), indented by indent spaces.
func FeaturesYAML(dst []byte, fs []Feature, indent int) []byte {
	pad := strings.Repeat(" ", indent)
	for _, f := range fs {
		dst = append(dst, pad+"- name: "+yamlString(f.Name)+"\n"...)
		dst = featureYAML(dst, f, indent+2)
	}
	return dst
}

func featureYAML(dst []byte, f Feature, indent int) []byte {
	pad := strings.Repeat(" ", indent)
	switch {
	case f.Fields != nil:
		dst = append(dst, pad+"struct:\n"...)
		return FeaturesYAML(dst, f.Fields, indent)
	case f.List != nil:
		if f.List.Fields != nil {
			dst = append(dst, pad+"list:\n"...)
			return FeaturesYAML(dst, f.List.Fields, indent)
		}
		dst = append(dst, pad+"list:\n"...)
		return featureYAML(dst, *f.List, indent+2)
	case f.Sequence != nil:
		if f.Sequence.Dtype != "" {
			return append(dst, pad+"sequence: "+f.Sequence.Dtype+"\n"...)
		}
		dst = append(dst, pad+"sequence:\n"...)
		return featureYAML(dst, *f.Sequence, indent+2)
	}
	return append(dst, pad+"dtype: "+f.Dtype+"\n"...)
}

// yamlString quotes a YAML scalar when it is not a plain word.
func yamlString(s string) string {
	plain := s != ""
	for _, r := range s {
		if !(r == '_' || r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			plain = false
			break
		}
	}
	if plain && s[0] != '-' && s[0] != '.' {
		return s
	}
	return strconv.Quote(s)
}
