package onnxgen

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// The ONNX protobuf messages this package writes, field numbers from
// onnx.proto (ONNX IR version 8): only the fields a BERT-shaped inference
// graph needs.

// ONNX TensorProto.DataType values.
const (
	typeFloat = 1
	typeInt64 = 7
)

// AttributeProto.AttributeType values.
const (
	attrFloat = 1
	attrInt   = 2
	attrInts  = 7
)

func putBytes(b []byte, field protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func putString(b []byte, field protowire.Number, s string) []byte {
	return putBytes(b, field, []byte(s))
}

func putVarint(b []byte, field protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, field, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// tensorF32 is a TensorProto (dims=1, data_type=2, name=8, raw_data=9) with
// little-endian float32 raw data.
func tensorF32(name string, vals []float32, dims ...int) []byte {
	var b []byte
	for _, d := range dims {
		b = putVarint(b, 1, uint64(d))
	}
	b = putVarint(b, 2, typeFloat)
	b = putString(b, 8, name)
	raw := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return putBytes(b, 9, raw)
}

// tensorI64 is a TensorProto of int64 values (raw data).
func tensorI64(name string, vals []int64, dims ...int) []byte {
	var b []byte
	for _, d := range dims {
		b = putVarint(b, 1, uint64(d))
	}
	b = putVarint(b, 2, typeInt64)
	b = putString(b, 8, name)
	raw := make([]byte, 8*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	return putBytes(b, 9, raw)
}

// attr is an AttributeProto: name=1, f=2, i=3, ints=8, type=20.
type attr struct {
	name string
	kind int
	f    float32
	i    int64
	ints []int64
}

func (a attr) bytes() []byte {
	b := putString(nil, 1, a.name)
	switch a.kind {
	case attrFloat:
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.f))
	case attrInt:
		b = putVarint(b, 3, uint64(a.i))
	case attrInts:
		for _, v := range a.ints {
			b = putVarint(b, 8, uint64(v))
		}
	}
	return putVarint(b, 20, uint64(a.kind))
}

// node is a NodeProto: input=1, output=2, name=3, op_type=4, attribute=5.
func node(op, name string, inputs, outputs []string, attrs ...attr) []byte {
	var b []byte
	for _, in := range inputs {
		b = putString(b, 1, in)
	}
	for _, out := range outputs {
		b = putString(b, 2, out)
	}
	b = putString(b, 3, name)
	b = putString(b, 4, op)
	for _, a := range attrs {
		b = putBytes(b, 5, a.bytes())
	}
	return b
}

// valueInfo is a ValueInfoProto (name=1, type=2) of a tensor type
// (TypeProto.tensor_type=1: elem_type=1, shape=2) whose dimensions are
// symbolic names ("batch") or fixed sizes.
func valueInfo(name string, elem int, dims ...any) []byte {
	var shape []byte
	for _, d := range dims {
		var dim []byte
		switch d := d.(type) {
		case int:
			dim = putVarint(nil, 1, uint64(d))
		case string:
			dim = putString(nil, 2, d)
		}
		shape = putBytes(shape, 1, dim)
	}
	tt := putVarint(nil, 1, uint64(elem))
	tt = putBytes(tt, 2, shape)
	typ := putBytes(nil, 1, tt)
	b := putString(nil, 1, name)
	return putBytes(b, 2, typ)
}

// model is a ModelProto: ir_version=1, producer_name=2, graph=7,
// opset_import=8 (domain "" = ai.onnx, version=2). Graph: node=1, name=2,
// initializer=5, input=11, output=12.
func model(opset int, graphName string, nodes, inits, inputs, outputs [][]byte) []byte {
	var g []byte
	for _, n := range nodes {
		g = putBytes(g, 1, n)
	}
	g = putString(g, 2, graphName)
	for _, t := range inits {
		g = putBytes(g, 5, t)
	}
	for _, v := range inputs {
		g = putBytes(g, 11, v)
	}
	for _, v := range outputs {
		g = putBytes(g, 12, v)
	}
	b := putVarint(nil, 1, 8)
	b = putString(b, 2, "superalign-onnxgen")
	b = putBytes(b, 7, g)
	op := putString(nil, 1, "")
	op = putVarint(op, 2, uint64(opset))
	return putBytes(b, 8, op)
}
