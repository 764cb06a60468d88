package importer

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/sharegpt/sharegpt/pipeline"
)

// msg is one message after role mapping: a turn to write, reasoning to
// attach to the next gpt turn, or both.
type msg struct {
	role      string // human, gpt, system, function_call, observation; "" writes no turn
	value     string
	name      string // the tool of an observation
	reasoning string
	images    []image
	model     string
}

// image is an image pointer of a multimodal message.
type image struct {
	Turn    int             `json:"turn"`
	Pointer string          `json:"asset_pointer"`
	Width   json.RawMessage `json:"width,omitempty"`
	Height  json.RawMessage `json:"height,omitempty"`
}

// path is a conversation read root to leaf.
type path []*msg

// tree is a conversation tree (ChatGPT's mapping, Open WebUI's history).
type tree struct {
	field   string // "mapping" or "chat.history.messages": for messages
	order   []string
	nodes   map[string]*tnode
	current string // the active leaf; "" when unknown
}

type tnode struct {
	parent      string
	hasParent   bool
	children    []string
	hasChildren bool
	msgs        []*msg // none: the node writes nothing (a root, a dropped message)
}

func newTree(field string) *tree { return &tree{field: field, nodes: map[string]*tnode{}} }

func (t *tree) add(id string, n *tnode) *rejection {
	if _, dup := t.nodes[id]; dup {
		return reject(ReasonBadTree, t.field, "node %q appears twice", id)
	}
	t.order = append(t.order, id)
	t.nodes[id] = n
	return nil
}

// textSize is what a node's messages add to a path's text (32 bytes a
// message besides its text).
func (n *tnode) textSize() int64 {
	var size int64
	for _, m := range n.msgs {
		size += int64(len(m.value)+len(m.reasoning)) + 32
	}
	return size
}

// linkNode makes a tree node from its parent id and children ids as an
// export gives them: nil (or an empty parent) when absent.
func linkNode(parent *string, children *[]string) *tnode {
	tn := &tnode{}
	if parent != nil && *parent != "" {
		tn.parent, tn.hasParent = *parent, true
	}
	if children != nil {
		tn.children, tn.hasChildren = *children, true
	}
	return tn
}

// paths returns the paths policy asks for (active: one; all and longest:
// every root-to-leaf path), the index of the active one among them (-1
// when it is not a leaf path) and the number of branch points. The
// root-to-leaf paths may hold at most limit bytes of text together (0: no
// limit): every branch of a long conversation with a regenerated answer
// under each prompt repeats its whole start, so a 1 MB export can stand
// for hundreds of MB of records; past the limit the conversation is
// too-large, found before the paths are built.
func (t *tree) paths(policy string, limit int64) ([]path, int, int, *rejection) {
	if len(t.nodes) == 0 {
		return nil, 0, 0, reject(ReasonNoTurns, t.field, "the tree has no nodes")
	}
	var root string
	roots := 0
	derived := map[string][]string{}
	for _, id := range t.order {
		n := t.nodes[id]
		if !n.hasParent {
			root = id
			roots++
			continue
		}
		if _, ok := t.nodes[n.parent]; !ok {
			return nil, 0, 0, reject(ReasonMissingRoot, fmt.Sprintf("%s.%s.parent", t.field, id), "node %q is not in the tree (the root is missing)", n.parent)
		}
		derived[n.parent] = append(derived[n.parent], id)
	}
	switch {
	case roots == 0:
		return nil, 0, 0, reject(ReasonMissingRoot, t.field, "every node has a parent: no root")
	case roots > 1:
		return nil, 0, 0, reject(ReasonBadTree, t.field, "%d nodes without a parent: several roots", roots)
	}
	for _, id := range t.order {
		n := t.nodes[id]
		if !n.hasChildren {
			n.children = derived[id]
			continue
		}
		for _, c := range n.children {
			cn, ok := t.nodes[c]
			if !ok {
				return nil, 0, 0, reject(ReasonBadTree, fmt.Sprintf("%s.%s.children", t.field, id), "child %q is not in the tree", c)
			}
			if cn.hasParent && cn.parent != id {
				return nil, 0, 0, reject(ReasonBadTree, fmt.Sprintf("%s.%s.children", t.field, id), "child %q names %q as its parent", c, cn.parent)
			}
		}
		// A node that names this one as its parent is its child even when
		// the children list omits it (some exporters write the list
		// short): every branch mode then sees the same tree.
		for _, c := range derived[id] {
			if !slices.Contains(n.children, c) {
				n.children = append(n.children, c)
			}
		}
	}
	// The active path: current node up to the root, or the last child all
	// the way down when the export names none.
	var active []string
	if t.current != "" {
		if _, ok := t.nodes[t.current]; !ok {
			return nil, 0, 0, reject(ReasonMissingRoot, "current_node", "node %q is not in the tree", t.current)
		}
		for id, steps := t.current, 0; ; steps++ {
			if steps > len(t.nodes) {
				return nil, 0, 0, reject(ReasonBadTree, t.field, "a cycle above node %q", t.current)
			}
			active = append(active, id)
			n := t.nodes[id]
			if !n.hasParent {
				break
			}
			id = n.parent
		}
		for i, j := 0, len(active)-1; i < j; i, j = i+1, j-1 {
			active[i], active[j] = active[j], active[i]
		}
	} else {
		for id, steps := root, 0; ; steps++ {
			if steps > len(t.nodes) {
				return nil, 0, 0, reject(ReasonBadTree, t.field, "a cycle below the root")
			}
			active = append(active, id)
			ch := t.nodes[id].children
			if len(ch) == 0 {
				break
			}
			id = ch[len(ch)-1]
		}
	}
	// Every root-to-leaf path, depth first in children order.
	points := 0
	visited := map[string]bool{}
	var leaves [][]string
	type frame struct {
		id    string
		depth int
	}
	stack := []frame{{root, 0}}
	var cur []string
	var size []int64 // size[d]: text bytes of cur[:d+1]
	var total int64  // of the leaf paths so far
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if visited[f.id] {
			return nil, 0, 0, reject(ReasonBadTree, t.field, "node %q is reached twice (a cycle or a shared child)", f.id)
		}
		visited[f.id] = true
		cur = append(cur[:f.depth], f.id)
		n := t.nodes[f.id]
		above := int64(0)
		if f.depth > 0 {
			above = size[f.depth-1]
		}
		size = append(size[:f.depth], above+n.textSize())
		ch := n.children
		if len(ch) > 1 {
			points++
		}
		if len(ch) == 0 {
			if policy != BranchesActive {
				if total += size[f.depth]; limit > 0 && total > limit {
					return nil, 0, 0, reject(pipeline.ReasonTooLarge, t.field, "its root-to-leaf paths hold over %d bytes of text together, the record size limit: import it with the active or longest branch, or raise the limit", limit)
				}
				leaves = append(leaves, append([]string(nil), cur...))
			}
			continue
		}
		for i := len(ch) - 1; i >= 0; i-- {
			stack = append(stack, frame{ch[i], f.depth + 1})
		}
	}
	toPath := func(ids []string) path {
		var p path
		for _, id := range ids {
			p = append(p, t.nodes[id].msgs...)
		}
		return p
	}
	if policy == BranchesActive {
		return []path{toPath(active)}, 0, points, nil
	}
	activeIdx := -1
	last := active[len(active)-1]
	var out []path
	for i, l := range leaves {
		if l[len(l)-1] == last {
			activeIdx = i
		}
		out = append(out, toPath(l))
	}
	return out, activeIdx, points, nil
}

// assembled is one path as turns.
type assembled struct {
	turns  []pipeline.Turn
	images []image
	model  string
}

// assemble turns a path into turns: tool turns kept or dropped, adjacent
// human or gpt turns joined, reasoning attached to the next gpt turn.
func (s *stage) assemble(p path) assembled {
	var a assembled
	var pending []string
	for _, m := range p {
		if m.reasoning != "" && s.o.KeepReasoning {
			pending = append(pending, m.reasoning)
		}
		if m.role == "" {
			continue
		}
		if m.model != "" && m.role == pipeline.RoleGPT {
			a.model = m.model
		}
		n := len(a.turns)
		if n > 0 && m.name == "" && m.role == a.turns[n-1].From && (m.role == pipeline.RoleHuman || m.role == pipeline.RoleGPT) {
			t := &a.turns[n-1]
			if t.Value == "" {
				t.Value = m.value
			} else if m.value != "" {
				t.Value += "\n\n" + m.value
			}
		} else {
			t := pipeline.Turn{From: m.role, Value: m.value}
			if m.name != "" {
				t.Fields = append(t.Fields, pipeline.Field{Key: "name", Value: pipeline.AppendString(nil, m.name)})
			}
			a.turns = append(a.turns, t)
		}
		if m.role == pipeline.RoleGPT && len(pending) > 0 {
			t := &a.turns[len(a.turns)-1]
			text := strings.Join(pending, "\n\n")
			for i, f := range t.Fields {
				if f.Key == "reasoning" {
					var old string
					json.Unmarshal(f.Value, &old)
					text = old + "\n\n" + text
					t.Fields = append(t.Fields[:i], t.Fields[i+1:]...)
					break
				}
			}
			t.Fields = append(t.Fields, pipeline.Field{Key: "reasoning", Value: pipeline.AppendString(nil, text)})
			pending = nil
		}
		for _, im := range m.images {
			im.Turn = len(a.turns) - 1
			a.images = append(a.images, im)
		}
	}
	return a
}

// hasText reports whether the turns hold human or gpt text.
func hasText(turns []pipeline.Turn) bool {
	for _, t := range turns {
		if (t.From == pipeline.RoleHuman || t.From == pipeline.RoleGPT) && strings.TrimSpace(t.Value) != "" {
			return true
		}
	}
	return false
}

// isPrefix reports whether a's turns are the first turns of b.
func isPrefix(a, b []pipeline.Turn) bool {
	if len(a) > len(b) {
		return false
	}
	for i := range a {
		if a[i].From != b[i].From || a[i].Value != b[i].Value {
			return false
		}
	}
	return true
}

// records_ builds the records of a conversation: one per path, a path that
// repeats the start of another (a dead end of hidden or empty messages)
// dropped, ids ID#bN when several remain.
func (s *stage) records_(cv *conv, c *counts) []*pipeline.Record {
	var as []assembled
	var act []bool
	for i, p := range cv.paths {
		a := s.assemble(p)
		if !hasText(a.turns) {
			continue
		}
		as = append(as, a)
		act = append(act, i == cv.active)
	}
	if len(as) > 1 {
		keep := make([]bool, len(as))
		for i := range as {
			keep[i] = true
			for j := range as {
				if i == j || !isPrefix(as[i].turns, as[j].turns) {
					continue
				}
				if len(as[i].turns) < len(as[j].turns) || j < i {
					keep[i] = false
					if act[i] {
						act[j] = true
					}
					break
				}
			}
		}
		var ka []assembled
		var kact []bool
		for i := range as {
			if keep[i] {
				ka, kact = append(ka, as[i]), append(kact, act[i])
			}
		}
		as, act = ka, kact
	}
	if s.o.Branches == BranchesLongest && len(as) > 1 {
		best := 0
		for i := range as {
			if len(as[i].turns) > len(as[best].turns) || (len(as[i].turns) == len(as[best].turns) && act[i] && !act[best]) {
				best = i
			}
		}
		as, act = as[best:best+1], act[best:best+1]
	}
	var recs []*pipeline.Record
	for i, a := range as {
		id := cv.id
		if len(as) > 1 {
			id = fmt.Sprintf("%s#b%d", cv.id, i)
		}
		r := pipeline.NewRecord(id, a.turns)
		for _, f := range cv.fields {
			if f.Key == "model" && a.model != "" {
				continue
			}
			r.SetField(f.Key, f.Value)
		}
		if a.model != "" {
			r.SetStringField("model", a.model)
		}
		if len(as) > 1 {
			r.SetStringField("branch_of", cv.id)
			r.SetField("active", json.RawMessage(fmt.Sprint(act[i])))
		}
		if len(a.images) > 0 {
			b, _ := json.Marshal(a.images)
			r.SetField("images", b)
			c.images += int64(len(a.images))
		}
		for _, t := range a.turns {
			switch t.From {
			case RoleFunctionCall, RoleObservation:
				c.toolTurns++
			case pipeline.RoleSystem:
				c.systemTurns++
			}
		}
		recs = append(recs, r)
	}
	return recs
}
