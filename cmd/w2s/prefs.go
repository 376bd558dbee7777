package main

import (
	"fmt"
	"io"

	"github.com/superalign/superalign/store"
)

// printPreference prints the reward-model table of preference summaries:
// floor, ceiling and w2s above are pairwise accuracies; here are the
// reward models' calibration on test pairs and best-of-n.
func printPreference(w io.Writer, sums []store.Summary) {
	var any bool
	for _, s := range sums {
		any = any || s.Preference != nil
	}
	if !any {
		return
	}
	fmt.Fprintln(w, "\nPreference pairs (reward models): FLOOR/CEILING/W2S above are pairwise accuracies on held-out pairs. ECE of P(A≻B) on test pairs;")
	fmt.Fprintln(w, "best-of-n: how often each model's pick among n candidates is the gold-best (chance 1/n), mean [95% t-CI] over seeds; GAIN = w2s − weak pick rate, paired per seed")
	tw := tabwriterFor(w)
	fmt.Fprintln(tw, "DATASET\tWEAK → STRONG\tMETHOD\tECE FLOOR/CEIL/W2S\tN\tGROUPS\tBoN WEAK\tBoN CEILING\tBoN W2S\tBoN GAIN")
	for _, s := range sums {
		p := s.Preference
		if p == nil {
			continue
		}
		bon := "\t–\t–\t–\t–\t–\t–"
		if p.BestOfN > 0 {
			bon = fmt.Sprintf("\t%d\t%d\t%.3f [%.3f, %.3f]\t%.3f [%.3f, %.3f]\t%.3f [%.3f, %.3f]\t%+.3f [%+.3f, %+.3f]", p.BestOfN, p.BoNGroups,
				p.BoNFloorMean, p.BoNFloorCILow, p.BoNFloorCIHigh, p.BoNCeilingMean, p.BoNCeilingCILow, p.BoNCeilingCIHigh,
				p.BoNW2SMean, p.BoNW2SCILow, p.BoNW2SCIHigh, p.BoNGainMean, p.BoNGainCILow, p.BoNGainCIHigh)
		}
		fmt.Fprintf(tw, "%s\t%s → %s\t%s\t%.3f/%.3f/%.3f%s\n", s.Dataset, s.Weak, s.Strong, s.Method, p.FloorECEMean, p.CeilingECEMean, p.W2SECEMean, bon)
	}
	tw.Flush()
}
