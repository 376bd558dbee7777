package encode

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	gr "github.com/gomlx/gomlx/core/graph"

	"github.com/superalign/superalign/assets"
	"github.com/superalign/superalign/tfjs"
)

// The nsfwjs CNNs' penultimate features are specialised to five NSFW
// classes by fine-tuning and transfer poorly to other images; earlier
// blocks hold more generic features (edges, textures, parts), less moved
// by that fine-tuning, so an encoder can also read an intermediate block: CNN@BLOCK, e.g. mobilenet-v2@block13,
// is the global average pool of that block's output [n, h, w, C] ->
// [n, C]. A CNN name may also carry an input size, CNN-SIZE
// (mobilenet-v2-96; layers models only), and both combine:
// inception-v3-139@mixed5.

// cnnLayerSep separates a CNN's name from the block or layer it is read at.
const cnnLayerSep = "@"

// cnnFamily is one nsfwjs CNN that CNN-SIZE@BLOCK names can build on.
type cnnFamily struct {
	dir     string // directory under the nsfwjs package's dist/models
	graph   bool   // a graph model (GraphCNN); else a layers model (CNN)
	native  int    // input size of the model
	minSize int    // smallest input size the architecture accepts
	// blocks are the block aliases CNN@BLOCK accepts, in network order.
	blocks []string
	// block resolves an alias in blocks to the layer or node it reads
	// (has tells whether the model has a layer or node of a given name).
	block func(alias string, has func(string) bool) string
	// rawLayers: any layer name of the model may follow the "@" too
	// (Keras layer names; the graph model's node paths are not offered).
	rawLayers bool
}

var cnnFamilies = map[string]cnnFamily{
	"mobilenet-v2": {dir: "mobilenet_v2", native: 224, minSize: 32, blocks: numbered("block", 0, 16),
		block: mobileNetKerasBlock, rawLayers: true},
	"inception-v3": {dir: "inception_v3", native: 299, minSize: 75, blocks: numbered("mixed", 0, 10),
		block: func(alias string, _ func(string) bool) string { return alias }, rawLayers: true},
	"mobilenet-v2-mid": {dir: "mobilenet_v2_mid", graph: true, native: 224, blocks: numbered("block", 0, 16),
		block: mobileNetGraphBlock},
}

// numbered is prefix+lo … prefix+hi.
func numbered(prefix string, lo, hi int) []string {
	var out []string
	for i := lo; i <= hi; i++ {
		out = append(out, prefix+strconv.Itoa(i))
	}
	return out
}

// mobileNetKerasBlock maps blockN to the Keras MobileNetV2 layer that is
// the block's output: the residual sum block_N_add where the block has
// one, else the projection's BatchNorm (block 0 is "expanded_conv").
func mobileNetKerasBlock(alias string, has func(string) bool) string {
	n := strings.TrimPrefix(alias, "block")
	if n == "0" {
		return "expanded_conv_project_BN"
	}
	if add := "block_" + n + "_add"; has(add) {
		return add
	}
	return "block_" + n + "_project_BN"
}

// mobileNetGraphBlock is mobileNetKerasBlock for the TF-Hub MobileNetV2
// graph (mobilenet_v2_mid): node .../MobilenetV2/expanded_conv_N/add, or
// .../expanded_conv_N/project/BatchNorm/FusedBatchNormV3. The nodes' full
// names carry the export's scope prefix, so has takes a suffix.
func mobileNetGraphBlock(alias string, has func(string) bool) string {
	scope := "/MobilenetV2/expanded_conv"
	if n := strings.TrimPrefix(alias, "block"); n != "0" {
		scope += "_" + n
	}
	if has(scope + "/add") {
		return scope + "/add"
	}
	return scope + "/project/BatchNorm/FusedBatchNormV3"
}

// cnnName is a parsed CNN[-SIZE][@BLOCK] encoder name.
type cnnName struct {
	family string
	size   int    // 0: the native size
	alias  string // block alias or layer name; "" for the penultimate features
}

// String is the name as written.
func (c cnnName) String() string {
	s := c.family
	if c.size != 0 {
		s += "-" + strconv.Itoa(c.size)
	}
	if c.alias != "" {
		s += cnnLayerSep + c.alias
	}
	return s
}

// parseCNNName parses CNN[-SIZE][@BLOCK]. ok is false when name does not
// start with a CNN family (it is some other encoder's name); err reports a
// CNN name with a bad size or block. A layer name that is not a block
// alias is checked only when the model is opened.
func parseCNNName(name string) (c cnnName, ok bool, err error) {
	head, alias, hasAt := strings.Cut(name, cnnLayerSep)
	f, ok := cnnFamilies[head]
	c = cnnName{family: head, alias: alias}
	if !ok {
		i := strings.LastIndex(head, "-")
		if i < 0 {
			return cnnName{}, false, nil
		}
		if f, ok = cnnFamilies[head[:i]]; !ok {
			return cnnName{}, false, nil
		}
		size, serr := strconv.Atoi(head[i+1:])
		if serr != nil {
			return cnnName{}, false, nil
		}
		c.family, c.size = head[:i], size
		switch {
		case f.graph:
			return c, true, fmt.Errorf("encode: %q: %s is a graph model and runs at its %d px only; write %s", name, c.family, f.native, cnnName{family: c.family, alias: alias})
		case size == f.native:
			return c, true, fmt.Errorf("encode: %q: %d px is %s's native size; write %s", name, size, c.family, cnnName{family: c.family, alias: alias})
		case size < f.minSize || size > 4*f.native:
			return c, true, fmt.Errorf("encode: %q: input size %d outside %d…%d px", name, size, f.minSize, 4*f.native)
		}
	}
	if hasAt {
		if alias == "" {
			return c, true, fmt.Errorf("encode: %q: no block after %q (%s)", name, cnnLayerSep, blocksHelp(c.family))
		}
		if !slices.Contains(f.blocks, alias) && (!f.rawLayers || looksLikeBlock(f, alias)) {
			return c, true, fmt.Errorf("encode: %q: %s has no block %q (%s)", name, c.family, alias, blocksHelp(c.family))
		}
	}
	return c, true, nil
}

// looksLikeBlock reports whether alias has the form of f's block aliases
// (block7, mixed3): one out of range is a mistake, not a layer name.
func looksLikeBlock(f cnnFamily, alias string) bool {
	prefix := strings.TrimRight(f.blocks[0], "0123456789")
	n, ok := strings.CutPrefix(alias, prefix)
	_, err := strconv.Atoi(n)
	return ok && err == nil
}

// blocksHelp lists family's blocks for error messages.
func blocksHelp(family string) string {
	f := cnnFamilies[family]
	s := fmt.Sprintf("blocks: %s … %s", f.blocks[0], f.blocks[len(f.blocks)-1])
	if f.rawLayers {
		s += ", or any layer name of the Keras model"
	}
	return s
}

// CNNBlockForms describes the CNN@BLOCK encoder forms for listings such as
// `w2s encoders`, one row per CNN (Dim 0: it depends on the block).
func CNNBlockForms() []Info {
	var out []Info
	for _, name := range []string{"mobilenet-v2", "mobilenet-v2-mid", "inception-v3"} {
		f := cnnFamilies[name]
		d := fmt.Sprintf("global average pool of %s's output at an earlier, more generic block (%s)", name, blocksHelp(name))
		if !f.graph {
			d += fmt.Sprintf("; %s-SIZE and %s-SIZE@BLOCK at another input size (%d…%d px)", name, name, f.minSize, 4*f.native)
		}
		out = append(out, Info{Name: name + cnnLayerSep + "BLOCK", Kind: "image", Description: d})
	}
	return out
}

// cnnDescription describes CNN form c for Lookup.
func cnnDescription(c cnnName) string {
	d := c.family
	if c.size != 0 {
		d += fmt.Sprintf(" at %d px input", c.size)
	}
	if c.alias != "" {
		return "global average pool of the output of block/layer " + c.alias + " of " + d
	}
	return d + ", penultimate features"
}

// globalPool averages feature maps [n, h, w, C] over h and w: [n, C].
func globalPool(x *gr.Node) *gr.Node {
	if x.Rank() != 4 {
		return x
	}
	return gr.ReduceMean(x, 1, 2)
}

// cnnMemo keeps each loaded model (by directory) and each built encoder
// (by name) once per process: every block of a CNN shares one copy of its
// weights.
var cnnMemo struct {
	sync.Mutex
	layers map[string]*tfjs.LayersModel
	graphs map[string]*tfjs.GraphProgram
	encs   map[string]ImageEncoder
}

// openCNN builds (or returns the memoised) encoder c, fetching the nsfwjs
// package on first use.
func openCNN(ctx context.Context, c cnnName, log io.Writer) (ImageEncoder, error) {
	cnnMemo.Lock()
	defer cnnMemo.Unlock()
	key := c.String()
	if e, ok := cnnMemo.encs[key]; ok {
		return e, nil
	}
	f, ok := cnnFamilies[c.family]
	if !ok {
		return nil, fmt.Errorf("encode: %q is not an nsfwjs CNN", c.family)
	}
	pkg, err := assets.Ensure(ctx, "nsfwjs", log)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(pkg, "dist", "models", f.dir)
	var enc ImageEncoder
	if f.graph {
		enc, err = openGraphCNN(c, f, dir)
	} else {
		enc, err = openLayersCNN(c, f, dir)
	}
	if err != nil {
		return nil, err
	}
	if cnnMemo.encs == nil {
		cnnMemo.encs = map[string]ImageEncoder{}
	}
	cnnMemo.encs[key] = enc
	return enc, nil
}

// openLayersCNN builds c on the layers model in dir (cnnMemo held).
func openLayersCNN(c cnnName, f cnnFamily, dir string) (*CNN, error) {
	m, ok := cnnMemo.layers[dir]
	if !ok {
		var err error
		if m, err = tfjs.LoadLayersModel(dir); err != nil {
			return nil, err
		}
		if cnnMemo.layers == nil {
			cnnMemo.layers = map[string]*tfjs.LayersModel{}
		}
		cnnMemo.layers[dir] = m
	}
	layer := ""
	if c.alias != "" {
		layer = c.alias
		if slices.Contains(f.blocks, c.alias) {
			layer = f.block(c.alias, func(name string) bool { _, ok := m.Layer(name); return ok })
		}
		if _, ok := m.Layer(layer); !ok {
			return nil, fmt.Errorf("encode: %s: %s has no layer %q (%s)", c, c.family, layer, blocksHelp(c.family))
		}
	}
	return newCNN(c.family, m, c.size, layer, c.alias)
}

// openGraphCNN builds c on the graph model in dir (cnnMemo held).
func openGraphCNN(c cnnName, f cnnFamily, dir string) (*GraphCNN, error) {
	p, ok := cnnMemo.graphs[dir]
	if !ok {
		var err error
		if p, err = tfjs.LoadGraphProgram(dir); err != nil {
			return nil, err
		}
		if cnnMemo.graphs == nil {
			cnnMemo.graphs = map[string]*tfjs.GraphProgram{}
		}
		cnnMemo.graphs[dir] = p
	}
	node := ""
	if c.alias != "" {
		suffix := f.block(c.alias, func(s string) bool { return graphNodeWithSuffix(p, s) != "" })
		if node = graphNodeWithSuffix(p, suffix); node == "" {
			return nil, fmt.Errorf("encode: %s: %s has no node ending in %q", c, c.family, suffix)
		}
	}
	return newGraphCNN(c.String(), p, node)
}

// graphNodeWithSuffix returns the one node of p whose name ends in
// suffix, or "" when none or several do.
func graphNodeWithSuffix(p *tfjs.GraphProgram, suffix string) string {
	found := ""
	for _, n := range p.Nodes {
		if strings.HasSuffix(n.Name, suffix) {
			if found != "" {
				return ""
			}
			found = n.Name
		}
	}
	return found
}

// FeatureLayer is the layer whose output the features are read from:
// flatten_1, or the intermediate layer of a CNN@BLOCK encoder.
func (c *CNN) FeatureLayer() string {
	if c.layer == "" {
		return "flatten_1"
	}
	return c.layer
}
