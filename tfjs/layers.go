package tfjs

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// LayersModel is a TF.js layers model (a Keras functional model exported
// by the converter): the layer graph from modelTopology and its float32
// weights, dequantised.
type LayersModel struct {
	Dir        string
	Name       string
	InputShape []int // batch_input_shape without the batch axis, e.g. [224 224 3]
	Layers     []Layer
	Input      string // name of the input layer
	Output     string // name of the output layer
	Weights    map[string]*Tensor
}

// Layer is one Keras layer of a functional model. Layers appear in
// topological order (Keras writes them so), which Build relies on.
type Layer struct {
	Name    string
	Class   string          // Keras class_name: "Conv2D", "BatchNormalization", ...
	Config  json.RawMessage // the layer's config object
	Inbound []string        // names of the layers feeding it (first node only)
}

type layersJSON struct {
	Format        string       `json:"format"`
	ModelTopology *kerasTop    `json:"modelTopology"`
	Manifest      []ShardGroup `json:"weightsManifest"`
}

type kerasTop struct {
	ModelConfig struct {
		ClassName string `json:"class_name"`
		Config    struct {
			Name   string `json:"name"`
			Layers []struct {
				Name      string          `json:"name"`
				ClassName string          `json:"class_name"`
				Config    json.RawMessage `json:"config"`
				Inbound   [][][]any       `json:"inbound_nodes"`
			} `json:"layers"`
			InputLayers  [][]any `json:"input_layers"`
			OutputLayers [][]any `json:"output_layers"`
		} `json:"config"`
	} `json:"model_config"`
}

// LoadLayersModel reads a layers model from dir: model.json with binary
// shards, or (nsfwjs layout) model.min.js with *.min.js base64 shards.
func LoadLayersModel(dir string) (*LayersModel, error) {
	var raw []byte
	var read ShardReader
	path := filepath.Join(dir, "model.json")
	if b, err := os.ReadFile(path); err == nil {
		raw = b
		read = func(p string) ([]byte, error) {
			if filepath.IsAbs(p) || p != filepath.Clean(p) || strings.HasPrefix(p, "..") {
				return nil, fmt.Errorf("tfjs: shard path %q escapes the model directory", p)
			}
			return os.ReadFile(filepath.Join(dir, p))
		}
	} else {
		path = filepath.Join(dir, "model.min.js")
		b, err2 := MinJSToJSON(path)
		if err2 != nil {
			return nil, fmt.Errorf("tfjs: %s has neither model.json (%v) nor a readable model.min.js: %w", dir, err, err2)
		}
		raw, read = b, MinJSShards(dir)
	}
	var mj layersJSON
	if err := json.Unmarshal(raw, &mj); err != nil {
		return nil, fmt.Errorf("tfjs: %s: %w", path, err)
	}
	if mj.ModelTopology == nil || mj.ModelTopology.ModelConfig.ClassName == "" {
		return nil, fmt.Errorf("tfjs: %s: no Keras model_config in modelTopology (a graph model?)", path)
	}
	mc := mj.ModelTopology.ModelConfig
	if mc.ClassName != "Model" && mc.ClassName != "Functional" {
		return nil, fmt.Errorf("tfjs: %s: model class %q, only functional models (Model/Functional) are supported", path, mc.ClassName)
	}
	m := &LayersModel{Dir: dir, Name: mc.Config.Name}
	seen := map[string]bool{}
	for i, l := range mc.Config.Layers {
		if l.Name == "" || seen[l.Name] {
			return nil, fmt.Errorf("tfjs: %s: layer %d has an empty or repeated name %q", path, i, l.Name)
		}
		ly := Layer{Name: l.Name, Class: l.ClassName, Config: l.Config}
		if len(l.Inbound) > 1 {
			return nil, fmt.Errorf("tfjs: %s: layer %q is shared (%d inbound nodes); not supported", path, l.Name, len(l.Inbound))
		}
		if len(l.Inbound) == 1 {
			for _, in := range l.Inbound[0] {
				name, _ := in[0].(string)
				if !seen[name] {
					return nil, fmt.Errorf("tfjs: %s: layer %q takes %q, which is not an earlier layer", path, l.Name, name)
				}
				ly.Inbound = append(ly.Inbound, name)
			}
		}
		seen[l.Name] = true
		m.Layers = append(m.Layers, ly)
	}
	if len(mc.Config.InputLayers) != 1 || len(mc.Config.OutputLayers) != 1 {
		return nil, fmt.Errorf("tfjs: %s: %d inputs and %d outputs, want one of each", path, len(mc.Config.InputLayers), len(mc.Config.OutputLayers))
	}
	m.Input, _ = mc.Config.InputLayers[0][0].(string)
	m.Output, _ = mc.Config.OutputLayers[0][0].(string)
	for _, l := range m.Layers {
		if l.Name == m.Input {
			var c struct {
				Shape []*int `json:"batch_input_shape"`
			}
			if err := json.Unmarshal(l.Config, &c); err != nil || len(c.Shape) < 2 {
				return nil, fmt.Errorf("tfjs: %s: input layer %q has no batch_input_shape", path, l.Name)
			}
			for _, d := range c.Shape[1:] {
				if d == nil {
					m.InputShape = append(m.InputShape, -1)
				} else {
					m.InputShape = append(m.InputShape, *d)
				}
			}
		}
	}
	if m.InputShape == nil {
		return nil, fmt.Errorf("tfjs: %s: input layer %q not found", path, m.Input)
	}
	w, err := ReadWeights(mj.Manifest, read)
	if err != nil {
		return nil, fmt.Errorf("%w (model %s)", err, path)
	}
	m.Weights = w
	return m, nil
}

// Layer returns the layer called name.
func (m *LayersModel) Layer(name string) (*Layer, bool) {
	for i := range m.Layers {
		if m.Layers[i].Name == name {
			return &m.Layers[i], true
		}
	}
	return nil, false
}

// weight returns layer/<suffix> with the given shape (nil shape: any).
func (m *LayersModel) weight(layer, suffix string, shape ...int) (*Tensor, error) {
	name := layer + "/" + suffix
	t, ok := m.Weights[name]
	if !ok {
		return nil, fmt.Errorf("tfjs: weight %q missing from the manifest", name)
	}
	if shape != nil && !slices.Equal(t.Shape, shape) {
		return nil, fmt.Errorf("tfjs: weight %q has shape %v, want %v", name, t.Shape, shape)
	}
	return t, nil
}
