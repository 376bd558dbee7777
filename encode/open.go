package encode

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// UserFeatures is the pseudo-encoder of vectors a dataset carries itself
// (a features column, or the raw pixels of an image set): no model, the
// features are the input.
const UserFeatures = "features"

// Opened is an encoder name resolved by Open: exactly one of Text and
// Image is set, or neither for UserFeatures.
type Opened struct {
	Name  string
	Text  Encoder
	Image ImageEncoder
}

// Fingerprint identifies the encoder's output (weights and preprocessing).
func (o Opened) Fingerprint() string {
	switch {
	case o.Text != nil:
		return o.Text.Fingerprint()
	case o.Image != nil:
		return o.Image.Fingerprint()
	}
	return UserFeatures
}

// Tunable returns the encoder as a Tunable, when its forward graph can be
// fine-tuned.
func (o Opened) Tunable() (Tunable, bool) {
	t, ok := o.Text.(Tunable)
	return t, ok
}

// TunableImage returns the encoder as a TunableImage, when its forward
// graph can be fine-tuned.
func (o Opened) TunableImage() (TunableImage, bool) {
	t, ok := o.Image.(TunableImage)
	return t, ok
}

// Open resolves any encoder name: the registry's text and image encoders,
// the parametric ONNX encoders (onnx:DIR, onnx-cls:DIR, with DIR a path or
// hf:OWNER/REPO[@REV]) and UserFeatures. It is the one place that turns a
// name into an encoder; assets are fetched and prepared on first use and
// log receives progress (may be nil).
func Open(ctx context.Context, name string, log io.Writer) (Opened, error) {
	o := Opened{Name: name}
	var err error
	switch {
	case name == UserFeatures:
	case IsImageEncoder(name):
		o.Image, err = NewImage(ctx, name, log)
	default:
		o.Text, err = New(ctx, name, log)
	}
	if err != nil {
		return Opened{}, err
	}
	return o, nil
}

// Known reports whether name resolves to an encoder without building it
// (for checking specs before any work starts).
func Known(name string) error {
	if name == UserFeatures {
		return nil
	}
	if _, _, ok := ParseONNXName(name); ok {
		return nil
	}
	if _, ok := registry[name]; ok {
		return nil
	}
	if _, ok, err := parseCNNName(name); ok {
		return err
	}
	names := []string{UserFeatures, ONNXPrefix + "DIR", ONNXCLSPrefix + "DIR"}
	for _, in := range Infos() {
		names = append(names, in.Name)
	}
	for _, in := range CNNBlockForms() {
		names = append(names, in.Name)
	}
	return fmt.Errorf("encode: unknown encoder %q (known: %s)", name, strings.Join(names, ", "))
}
