package report

import (
	"fmt"
	"html"
	"strings"

	"github.com/superalign/superalign/store"
)

// PreferenceSection is the HTML section of reward-model summaries (empty
// when no summary is a preference one): each reward model's calibration on
// test pairs and best-of-n pick rates with their 95% t-intervals across
// seeds, and the student's gain over the weak model's picks. Names are
// escaped.
func PreferenceSection(sums []store.Summary) string {
	var b strings.Builder
	for _, s := range sums {
		p := s.Preference
		if p == nil {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("<h2>Reward models on preference pairs</h2>\n<p>Floor, ceiling and w2s above are pairwise accuracies on held-out pairs: P(A ≻ B) = σ(r(A) − r(B)) against the side the gold prefers. ECE is each reward model's expected calibration error of P(A ≻ B) on the test pairs. Best-of-n: per group of n test responses of one topic or context, one graded strictly above the others, how often the model's highest-reward pick is the gold-best (chance 1/n); mean [95% t-interval] across seeds; gain = student − weak model, paired per seed.</p>\n")
			b.WriteString("<table>\n<tr><th>dataset</th><th>weak → strong</th><th>method</th><th>ECE floor / ceiling / w2s</th><th>n</th><th>groups</th><th>best-of-n weak</th><th>best-of-n ceiling</th><th>best-of-n w2s</th><th>gain</th></tr>\n")
		}
		bon := "<td>–</td><td>–</td><td>–</td><td>–</td><td>–</td><td>–</td>"
		if p.BestOfN > 0 {
			ci := func(m, lo, hi float64) string { return fmt.Sprintf("%.3f [%.3f, %.3f]", m, lo, hi) }
			bon = fmt.Sprintf("<td>%d</td><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%+.3f [%+.3f, %+.3f]</td>", p.BestOfN, p.BoNGroups,
				ci(p.BoNFloorMean, p.BoNFloorCILow, p.BoNFloorCIHigh), ci(p.BoNCeilingMean, p.BoNCeilingCILow, p.BoNCeilingCIHigh),
				ci(p.BoNW2SMean, p.BoNW2SCILow, p.BoNW2SCIHigh), p.BoNGainMean, p.BoNGainCILow, p.BoNGainCIHigh)
		}
		fmt.Fprintf(&b, "<tr><td>%s</td><td>%s → %s</td><td>%s</td><td>%.3f / %.3f / %.3f</td>%s</tr>\n",
			html.EscapeString(s.Dataset), html.EscapeString(s.Weak), html.EscapeString(s.Strong), html.EscapeString(s.Method),
			p.FloorECEMean, p.CeilingECEMean, p.W2SECEMean, bon)
	}
	if b.Len() > 0 {
		b.WriteString("</table>\n\n")
	}
	return b.String()
}
