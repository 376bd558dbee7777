package method

import (
	"fmt"
	"strings"
)

// Preference pairs (issue 17). A pair is a two-class example whose class 1
// is "A preferred", and the student's logits on a pair are the reward
// model's logits of side A minus those of side B (package student), so
// P(A ≻ B) = σ(r(A) − r(B)). Soft cross-entropy on those two-class logits
// is exactly the Bradley–Terry loss: −p·log σ(Δ) − (1−p)·log σ(−Δ) with
// Δ = r(A) − r(B) and p the target P(A ≻ B). So the methods whose loss
// reads only the pair's two-class prediction and target mean the same on
// pairs as on points, unchanged:
//
//   - naive: soft BT on the weak reward model's P(A ≻ B);
//   - naive-hard: hard BT on its argmax;
//   - logconf: the auxiliary-confidence loss on the pairwise probabilities
//     (the student's own hardened preference mixed in);
//   - conf-filter: trains on the pairs whose weak preference is most
//     confident;
//   - the controls naive@aa, gold-probe and naive+gold.
//
// Methods that fit probes, neighbourhoods or ensembles on the feature
// vectors themselves (kNN, topology, ensembles, P(IK), co-supervision,
// bootstrap rungs, ...) would treat φ(A) − φ(B) as a point, where a pair
// and its swap are far apart; they refuse pairs rather than give a number
// whose meaning nobody checked. So does calibrate=true, whose cross-fit
// has not been checked on pairs.
var pairwiseMethods = map[string]bool{
	"naive": true, "naive-hard": true, "logconf": true, "conf-filter": true,
	"naive@aa": true, "gold-probe": true, "naive+gold": true,
}

// PairwiseMethods lists the methods that run on preference pairs.
func PairwiseMethods() []string {
	return []string{"naive", "naive-hard", "logconf", "conf-filter", "naive@aa", "gold-probe", "naive+gold"}
}

// checkPairwise refuses a method that has no pairwise meaning.
func checkPairwise(m Method) error {
	name, params, err := ParseSpec(m.Name())
	if err != nil {
		return err
	}
	if _, cal := params.values["calibrate"]; cal || !pairwiseMethods[name] {
		return fmt.Errorf("%s does not apply to preference pairs (methods on pairs: %s)", m.Name(), strings.Join(PairwiseMethods(), ", "))
	}
	return nil
}
