// Package tfjs reads TensorFlow.js models: graph models (model.json holding
// a GraphDef as JSON, a weights manifest and binary shards; graph.go,
// shards.go) and layers models (Keras topology with uint8-quantised weights,
// possibly base64 inside .min.js wrappers; layers*.go, weights.go, minjs.go),
// and runs them on GoMLX: LayersModel.Build interprets the Keras layers of
// the nsfwjs CNNs (BatchNorm and ReLU folded into the convolutions, which
// are matrix products over kernel taps), GraphProgram.Build the GraphDef ops
// of a frozen graph model (graph_exec.go: fused convolutions, depthwise,
// pools, MatMul). USE-lite is not interpreted: package encode builds it by
// hand from the graph model's weights.
//
// Shard sizes are validated against the manifest before any weight is
// decoded, so a truncated or foreign shard is reported with the byte counts
// instead of silently shifting every weight after it.
//
// Example: the USE-lite embedding table.
//
//	m, err := tfjs.LoadGraphModel(dir + "/model.json")
//	if err != nil { ... }
//	emb, err := m.Weight("module/Embeddings_en", 8002, 256) // emb.F32 holds 8002×256 floats
//	relu, _ := m.Node("…/FFN/conv1/Relu")                   // relu.Op == "Relu"
package tfjs
