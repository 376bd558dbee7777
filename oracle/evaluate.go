package oracle

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/eval"
)

// evaluate scores test predictions after the probing block, the run's
// evaluation budget and the rate limit, and answers with accuracy and AUROC
// rounded to the configured resolution (evalbudget.go): the run learns at
// most LeakFraction bits per test row in all, whatever it submits.
func (s *Server) evaluate(w http.ResponseWriter, c *call) error {
	var req evaluateRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	c.line.Size = req.Rows
	h := c.r.h
	if req.Rows != h.NTest() || req.Cols != h.K() || len(req.Values) != req.Rows*req.Cols {
		return &RefusedError{Status: http.StatusBadRequest, Code: CodeBadShape,
			Message: fmt.Sprintf("predictions are [%d,%d] with %d values, want [%d,%d] (test rows × classes)", req.Rows, req.Cols, len(req.Values), h.NTest(), h.K())}
	}
	r := c.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.blocked {
		c.line.Flag = "probing"
		return &RefusedError{Status: http.StatusForbidden, Code: CodeProbing, Message: "evaluations of this run are blocked after repeated near-identical predictions (label probing)"}
	}
	if r.evalBudget == 0 {
		return &RefusedError{Status: http.StatusForbidden, Code: CodeEvalBudget, Message: s.cfg.noBudgetMessage(h.NTest(), r.resolution)}
	}
	if r.nEval >= r.evalBudget {
		return &RefusedError{Status: http.StatusForbidden, Code: CodeEvalBudget,
			Message: fmt.Sprintf("run has used all %d evaluations its test split of %d rows allows (at most %g bits of test-label information per row)", r.evalBudget, h.NTest(), s.cfg.LeakFraction)}
	}
	now := s.cfg.Now()
	r.bucket += now.Sub(r.bucketAt).Minutes() * s.cfg.EvalPerMinute
	r.bucketAt = now
	if r.bucket > float64(s.cfg.EvalBurst) {
		r.bucket = float64(s.cfg.EvalBurst)
	}
	if r.bucket < 1 {
		return &RefusedError{Status: http.StatusTooManyRequests, Code: CodeRateLimited, Message: fmt.Sprintf("more than %g evaluations per minute (burst %d); retry later", s.cfg.EvalPerMinute, s.cfg.EvalBurst)}
	}
	m := data.Matrix{Rows: req.Rows, Cols: req.Cols, Values: req.Values}
	acc, auroc, err := h.TestMetrics(m)
	if err != nil {
		if errors.Is(err, eval.ErrShape) || errors.Is(err, eval.ErrNotFinite) {
			return &RefusedError{Status: http.StatusBadRequest, Code: CodeBadShape, Message: err.Error()}
		}
		return err
	}
	// Probing: compare with the run's recent evaluations before answering.
	strict, loose := s.nearest(r, m)
	r.bucket--
	r.nEval++
	switch {
	case strict:
		r.strictProbes++
		c.line.Flag = "probing"
	case loose:
		r.loose++
		if r.loose > s.cfg.NearLimit/4 {
			c.line.Flag = "probing"
		}
	}
	if r.strictProbes >= s.cfg.ProbeLimit || r.loose >= s.cfg.NearLimit {
		// This answer is withheld too: it is the one that crossed the line.
		r.blocked = true
		c.line.Flag = "probing"
		return &RefusedError{Status: http.StatusForbidden, Code: CodeProbing,
			Message: fmt.Sprintf("%d near-identical evaluations (differing in at most %d rows): label probing; evaluations of this run are now blocked", r.strictProbes+r.loose, s.nearRows(h.NTest()))}
	}
	if len(r.evals) == historySize {
		r.evals, r.evalArgmax = r.evals[1:], r.evalArgmax[1:]
	}
	r.evals = append(r.evals, append([]float32(nil), m.Values...))
	r.evalArgmax = append(r.evalArgmax, m.Argmax())
	res := r.resolution
	return writeJSON(w, Metrics{Accuracy: quantize(acc, res), AUROC: quantize(auroc, res), N: m.Rows,
		Resolution: res, EvaluationsLeft: r.evalBudget - r.nEval})
}

func (s *Server) nearRows(nTest int) int {
	if s.cfg.NearRows > 0 {
		return s.cfg.NearRows
	}
	return max(3, nTest/100)
}

// nearest reports whether m is a near-duplicate of a recent evaluation:
// strict when between 1 and NearRows rows changed at all and the rest are
// identical (flipping predictions one at a time to read labels off the
// accuracy, or nudging scores to read them off the AUROC); loose when the
// argmax changed in 1..NearRows rows while other probabilities moved too.
// An identical resubmission reveals nothing new and is neither.
func (s *Server) nearest(r *run, m data.Matrix) (strict, loose bool) {
	limit := s.nearRows(m.Rows)
	am := m.Argmax()
	k := m.Cols
	for e, prev := range r.evals {
		changed := 0
		for i := 0; i < m.Rows && changed <= limit; i++ {
			for j := 0; j < k; j++ {
				d := m.Values[i*k+j] - prev[i*k+j]
				if d > probTol || d < -probTol {
					changed++
					break
				}
			}
		}
		if changed >= 1 && changed <= limit {
			return true, false
		}
		flips := 0
		for i, a := range am {
			if a != r.evalArgmax[e][i] {
				flips++
				if flips > limit {
					break
				}
			}
		}
		if flips >= 1 && flips <= limit {
			loose = true
		}
	}
	return false, loose
}
