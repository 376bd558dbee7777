package student

import (
	"context"
	"testing"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/testenv"
	"github.com/superalign/superalign/train"
)

// benchFineTune times fine-tune epochs of spec over 64 yelp sentences
// (2 steps of 32), the graphs compiled by a first fit outside the timer:
// the workload to profile (go test -bench FineTune -cpuprofile).
func benchFineTune(b *testing.B, spec string) {
	testenv.NeedsAssets(b, "the USE-lite model")
	ctx := context.Background()
	s, err := Open(ctx, MustParse(spec), Options{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	all := yelpLabelled(b)
	in := Inputs{Texts: all.texts[:64]}
	o := train.Objective{Targets: data.OneHot(all.labels[:64], 2)}
	cfg := s.Config()
	cfg.Epochs, cfg.Seed = 1, 1
	if _, _, err := s.Fit(ctx, in, o, cfg); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, _, err := s.Fit(ctx, in, o, cfg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFineTuneWhole(b *testing.B)    { benchFineTune(b, "use-lite-ft") }
func BenchmarkFineTuneTopLayer(b *testing.B) { benchFineTune(b, "use-lite-ft-top1") }
