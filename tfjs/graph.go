package tfjs

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// GraphModel is a TF.js graph model: the GraphDef nodes from model.json and
// the weights of its Const nodes, read from the binary shards.
type GraphModel struct {
	Dir         string
	Format      string // "graph-model" (often empty in older converters)
	GeneratedBy string
	ConvertedBy string
	Nodes       []Node
	// Weights holds every weight in the manifest by name; WeightOrder lists
	// them in manifest order.
	Weights     map[string]*Tensor
	WeightOrder []*Tensor
}

// Node is one GraphDef node as the converter writes it to JSON.
type Node struct {
	Name  string          `json:"name"`
	Op    string          `json:"op"`
	Input []string        `json:"input"`
	Attr  map[string]Attr `json:"attr"`
}

// Attr is a GraphDef AttrValue in its JSON (protobuf) form. Only the fields
// the readers need are decoded; int64 values arrive as strings.
type Attr struct {
	I json.RawMessage `json:"i,omitempty"`
	F json.RawMessage `json:"f,omitempty"`
	B json.RawMessage `json:"b,omitempty"`
	// S is bytes: base64 text from protobuf-JSON, or (as the TF.js
	// converter writes some models) an array of byte values.
	S     json.RawMessage `json:"s,omitempty"`
	Type  json.RawMessage `json:"type,omitempty"`
	Shape json.RawMessage `json:"shape,omitempty"`
	List  *struct {
		I []json.RawMessage `json:"i"`
	} `json:"list,omitempty"`
}

// Int returns the attribute's integer value.
func (a Attr) Int() (int64, error) {
	if len(a.I) == 0 {
		return 0, errors.New("attribute has no integer value")
	}
	return parseJSONInt(a.I)
}

// Ints returns the attribute's integer list.
func (a Attr) Ints() ([]int64, error) {
	if a.List == nil {
		return nil, errors.New("attribute has no list value")
	}
	out := make([]int64, len(a.List.I))
	for i, raw := range a.List.I {
		v, err := parseJSONInt(raw)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// String returns the attribute's bytes value as text, from either encoding.
func (a Attr) String() (string, error) {
	if len(a.S) == 0 {
		return "", errors.New("attribute has no bytes value")
	}
	var arr []byte
	if a.S[0] == '[' {
		var ints []int
		if err := json.Unmarshal(a.S, &ints); err != nil {
			return "", fmt.Errorf("bytes attribute %s: %w", a.S, err)
		}
		for _, v := range ints {
			arr = append(arr, byte(v))
		}
		return string(arr), nil
	}
	var b64 []byte // encoding/json decodes base64 into []byte
	if err := json.Unmarshal(a.S, &b64); err != nil {
		return "", fmt.Errorf("bytes attribute %s: %w", a.S, err)
	}
	return string(b64), nil
}

// parseJSONInt accepts both protobuf-JSON int64 strings ("2") and numbers.
func parseJSONInt(raw json.RawMessage) (int64, error) {
	s := strings.Trim(string(raw), `"`)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("integer attribute %s: %w", raw, err)
	}
	return v, nil
}

// modelJSON is the on-disk layout of model.json for graph models.
type modelJSON struct {
	Format        string          `json:"format"`
	GeneratedBy   string          `json:"generatedBy"`
	ConvertedBy   *string         `json:"convertedBy"`
	ModelTopology json.RawMessage `json:"modelTopology"`
	Manifest      []ShardGroup    `json:"weightsManifest"`
}

type graphDef struct {
	Node []Node `json:"node"`
}

// LoadGraphModel reads model.json (a path to the file, or the directory
// holding it) and its weight shards.
func LoadGraphModel(path string) (*GraphModel, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "model.json")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tfjs: %w", err)
	}
	var mj modelJSON
	if err := json.Unmarshal(raw, &mj); err != nil {
		return nil, fmt.Errorf("tfjs: %s: %w", path, jsonErrorWithLine(raw, err))
	}
	if len(mj.ModelTopology) == 0 {
		return nil, fmt.Errorf("tfjs: %s: no modelTopology", path)
	}
	if mj.Format == "layers-model" {
		return nil, fmt.Errorf("tfjs: %s is a layers model, not a graph model", path)
	}
	var gd graphDef
	if err := json.Unmarshal(mj.ModelTopology, &gd); err != nil {
		return nil, fmt.Errorf("tfjs: %s: modelTopology is not a GraphDef: %w", path, err)
	}
	if len(gd.Node) == 0 {
		return nil, fmt.Errorf("tfjs: %s: modelTopology has no nodes (a layers model?)", path)
	}
	seen := make(map[string]bool, len(gd.Node))
	for i, n := range gd.Node {
		if n.Name == "" || n.Op == "" {
			return nil, fmt.Errorf("tfjs: %s: node %d lacks a name or op", path, i)
		}
		if seen[n.Name] {
			return nil, fmt.Errorf("tfjs: %s: node name %q appears twice", path, n.Name)
		}
		seen[n.Name] = true
	}
	dir := filepath.Dir(path)
	byName, ordered, err := ReadShards(dir, mj.Manifest)
	if err != nil {
		return nil, fmt.Errorf("%w (model %s)", err, path)
	}
	m := &GraphModel{Dir: dir, Format: mj.Format, GeneratedBy: mj.GeneratedBy, Nodes: gd.Node, Weights: byName, WeightOrder: ordered}
	if mj.ConvertedBy != nil {
		m.ConvertedBy = *mj.ConvertedBy
	}
	return m, nil
}

// Node returns the node called name.
func (m *GraphModel) Node(name string) (*Node, bool) {
	for i := range m.Nodes {
		if m.Nodes[i].Name == name {
			return &m.Nodes[i], true
		}
	}
	return nil, false
}

// Weight returns the named weight, checking its shape when want is non-nil.
func (m *GraphModel) Weight(name string, want ...int) (*Tensor, error) {
	t, ok := m.Weights[name]
	if !ok {
		return nil, fmt.Errorf("tfjs: model %s has no weight %q", m.Dir, name)
	}
	if want != nil && !slices.Equal(t.Shape, want) {
		return nil, fmt.Errorf("tfjs: weight %q has shape %v, want %v", name, t.Shape, want)
	}
	return t, nil
}

// jsonErrorWithLine adds the line number to a JSON syntax or type error.
func jsonErrorWithLine(raw []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(raw)) {
		return err
	}
	line := 1 + strings.Count(string(raw[:off]), "\n")
	return fmt.Errorf("line %d: %w", line, err)
}
