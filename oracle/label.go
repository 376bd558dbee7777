package oracle

import (
	"fmt"
	"net/http"
)

func (s *Server) budgetH(w http.ResponseWriter, c *call) error {
	c.r.mu.Lock()
	b := budgetResponse{Total: c.r.budget, Spent: c.r.spent}
	c.r.mu.Unlock()
	return writeJSON(w, b)
}

// label sells gold labels of train_strong. Under the run's lock it counts the
// distinct ids not paid for before (bought, or decided at the desk) and
// refuses the whole request if they exceed what is left, so concurrent
// clients can never overspend, a refused request charges nothing and no id
// is ever charged twice.
func (s *Server) label(w http.ResponseWriter, c *call) error {
	var req labelRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	c.line.IDs = req.IDs
	c.line.Size = len(req.IDs)
	if len(req.IDs) > s.cfg.MaxIDs {
		return &RefusedError{Status: http.StatusBadRequest, Code: CodeBadIDs, Message: fmt.Sprintf("%d ids in one request, at most %d", len(req.IDs), s.cfg.MaxIDs)}
	}
	n := c.r.h.NTrainStrong()
	for _, id := range req.IDs {
		if id < 0 || id >= n {
			return &RefusedError{Status: http.StatusBadRequest, Code: CodeBadIDs, Message: fmt.Sprintf("id %d outside train_strong [0,%d)", id, n)}
		}
	}
	r := c.r
	r.mu.Lock()
	defer r.mu.Unlock()
	fresh := map[int]bool{}
	for _, id := range req.IDs {
		if !r.charged[id] {
			fresh[id] = true
		}
	}
	if r.spent+len(fresh) > r.budget {
		return &RefusedError{Status: http.StatusConflict, Code: CodeOverBudget,
			Message: fmt.Sprintf("%d new labels asked, %d of the budget of %d left; nothing charged", len(fresh), r.budget-r.spent, r.budget)}
	}
	out := labelResponse{Labels: make([]int, len(req.IDs))}
	for i, id := range req.IDs {
		y, ok := r.bought[id]
		if !ok {
			var err error
			if y, err = r.h.TrainStrongLabel(id); err != nil {
				return fmt.Errorf("gold of id %d: %w", id, err)
			}
			r.bought[id] = y
			if !r.charged[id] {
				r.charged[id] = true
				r.spent++
			}
		}
		out.Labels[i] = y
	}
	out.Remaining = r.budget - r.spent
	return writeJSON(w, out)
}
