package importer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Special indices of the turbo-stream format (React Router 7, Remix).
const (
	tsHole      = -1
	tsNaN       = -2
	tsNegInf    = -3
	tsNegZero   = -4
	tsNull      = -5
	tsPosInf    = -6
	tsUndefined = -7
)

// DecodeTurboStream decodes the first line of a turbo-stream payload, the
// form 2025 chatgpt.com share pages embed their data in: a flat JSON array
// whose element 0 is the root value; an object {"_K": V} has the key
// stored at index K and the value at index V; an array [i, j] holds
// indices; negative indices are null, undefined, NaN and the like; an
// array starting with a string tag is a typed value (["D", ms] a date,
// ["P", id] a promise...). Numbers stay json.Number. A value is decoded
// once however often it is referenced; a reference cycle is an error, and
// so is a payload whose value, written out with every reference expanded,
// would pass limit bytes (values shared along many paths grow
// exponentially: a 1 KB payload can stand for 2^60 values).
func DecodeTurboStream(line []byte, limit int64) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var flat []any
	if err := dec.Decode(&flat); err != nil {
		return nil, err
	}
	if len(flat) == 0 {
		return nil, fmt.Errorf("empty payload")
	}
	h := &hydrator{flat: flat, done: make([]bool, len(flat)), busy: make([]bool, len(flat)), vals: make([]any, len(flat)),
		sizes: make([]int64, len(flat)), limit: limit}
	v, err := h.value(0, 0)
	if err != nil {
		return nil, err
	}
	if h.sizes[0] > limit {
		return nil, fmt.Errorf("the payload expands to over %d bytes", limit)
	}
	return v, nil
}

type hydrator struct {
	flat       []any
	done, busy []bool
	vals       []any
	// sizes[i] bounds the bytes of value i written out with every
	// reference expanded (saturating at limit+1).
	sizes []int64
	limit int64
	size  int64 // of the value being built
}

func (h *hydrator) value(i int, depth int) (any, error) {
	if i < 0 {
		switch i {
		case tsHole, tsNaN, tsNegInf, tsNegZero, tsNull, tsPosInf, tsUndefined:
			return nil, nil
		}
		return nil, fmt.Errorf("unknown special index %d", i)
	}
	if i >= len(h.flat) {
		return nil, fmt.Errorf("index %d is past the payload's %d values", i, len(h.flat))
	}
	if h.done[i] {
		return h.vals[i], nil
	}
	if h.busy[i] {
		return nil, fmt.Errorf("value %d refers to itself", i)
	}
	if depth > 512 {
		return nil, fmt.Errorf("nested deeper than 512 levels")
	}
	h.busy[i] = true
	outer := h.size
	h.size = 0
	v, err := h.build(h.flat[i], depth)
	size := h.size
	h.size = outer
	h.busy[i] = false
	if err != nil {
		return nil, err
	}
	h.done[i], h.vals[i], h.sizes[i] = true, v, size
	return v, nil
}

// add counts n more bytes of the value being built, refusing it once it
// passes the limit.
func (h *hydrator) add(n int64) error {
	h.size += n
	if h.size > h.limit {
		return fmt.Errorf("the payload expands to over %d bytes", h.limit)
	}
	return nil
}

// ref counts a reference to value i, written out whole where it is used.
func (h *hydrator) ref(i int) error {
	if i < 0 {
		return h.add(4)
	}
	return h.add(h.sizes[i] + 1)
}

func (h *hydrator) index(v any) (int, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("%v is not an index", v)
	}
	i, err := strconv.Atoi(string(n))
	if err != nil {
		return 0, fmt.Errorf("%s is not an index", n)
	}
	return i, nil
}

func (h *hydrator) build(raw any, depth int) (any, error) {
	switch x := raw.(type) {
	case map[string]any:
		obj := make(map[string]any, len(x))
		for _, k := range sortedKeys(x) {
			ki, err := strconv.Atoi(strings.TrimPrefix(k, "_"))
			if err != nil || !strings.HasPrefix(k, "_") {
				return nil, fmt.Errorf("object key %q is not _INDEX", k)
			}
			if ki < 0 || ki >= len(h.flat) {
				return nil, fmt.Errorf("key index %d is out of range", ki)
			}
			key, ok := h.flat[ki].(string)
			if !ok {
				return nil, fmt.Errorf("key index %d is not a string", ki)
			}
			vi, err := h.index(x[k])
			if err != nil {
				return nil, err
			}
			v, err := h.value(vi, depth+1)
			if err != nil {
				return nil, err
			}
			if err := h.add(int64(len(key)) + 3); err != nil {
				return nil, err
			}
			if err := h.ref(vi); err != nil {
				return nil, err
			}
			obj[key] = v
		}
		return obj, nil
	case []any:
		if len(x) > 0 {
			if tag, ok := x[0].(string); ok {
				// Typed values: a date keeps its number; the others
				// (promises, maps, sets, errors...) are not conversation
				// data.
				if tag == "D" && len(x) > 1 {
					return x[1], nil
				}
				return nil, nil
			}
		}
		arr := make([]any, len(x))
		for j, e := range x {
			vi, err := h.index(e)
			if err != nil {
				return nil, err
			}
			if arr[j], err = h.value(vi, depth+1); err != nil {
				return nil, err
			}
			if err := h.ref(vi); err != nil {
				return nil, err
			}
		}
		return arr, nil
	}
	if str, ok := raw.(string); ok {
		return raw, h.add(int64(len(str)) + 2)
	}
	return raw, h.add(8) // number, bool, null
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
