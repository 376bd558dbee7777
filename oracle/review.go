package oracle

import (
	"fmt"
	"net/http"
	"strings"
)

func (s *Server) escalate(w http.ResponseWriter, c *call) error {
	var req escalateRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	c.line.Size = len(req.Items)
	n, k := c.r.h.NTrainStrong(), c.r.h.K()
	for _, it := range req.Items {
		c.line.IDs = append(c.line.IDs, it.ID)
		if it.ID < 0 || it.ID >= n {
			return &RefusedError{Status: http.StatusBadRequest, Code: CodeBadIDs, Message: fmt.Sprintf("item id %d outside train_strong [0,%d)", it.ID, n)}
		}
		if len(it.Classes) != 0 && len(it.Classes) != k {
			return &RefusedError{Status: http.StatusBadRequest, Code: CodeMalformed, Message: fmt.Sprintf("item %d has %d class names, run has %d classes", it.ID, len(it.Classes), k)}
		}
		for _, y := range []int{it.WeakLabel, it.StudentLabel} {
			if y < 0 || y >= k {
				return &RefusedError{Status: http.StatusBadRequest, Code: CodeMalformed, Message: fmt.Sprintf("item %d: label %d outside [0,%d)", it.ID, y, k)}
			}
		}
	}
	r := c.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending)+len(req.Items) > maxPending {
		return &RefusedError{Status: http.StatusBadRequest, Code: CodeBadIDs,
			Message: fmt.Sprintf("review queue would hold more than %d items (%d pending, %d more asked); people cannot review that many", maxPending, len(r.pending), len(req.Items))}
	}
	for _, it := range req.Items {
		if r.decided[it.ID] {
			continue // a person has already given this item a label
		}
		if len(it.Classes) == 0 {
			it.Classes = make([]string, k)
			for j := range it.Classes {
				it.Classes[j] = fmt.Sprintf("class %d", j)
			}
		}
		if _, ok := r.pending[it.ID]; !ok {
			r.order = append(r.order, it.ID)
		}
		r.pending[it.ID] = it
	}
	return writeJSON(w, map[string]int{"pending": len(r.pending)})
}

func (s *Server) pendingH(w http.ResponseWriter, c *call) error {
	r := c.r
	r.mu.Lock()
	out := make([]ReviewItem, 0, len(r.order))
	for _, id := range r.order {
		out = append(out, r.pending[id])
	}
	r.mu.Unlock()
	c.line.Size = len(out)
	return writeJSON(w, out)
}

// decide records a person's decision on a pending item. A label (not a skip)
// is human gold and costs one unit of the run's budget, charged atomically
// like Label, unless the id was bought with Label before (one charge per
// id, whichever comes first); a skip costs nothing and leaves the item out of the queue until
// the loop escalates it again.
func (s *Server) decide(w http.ResponseWriter, c *call) error {
	var req decideRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	c.line.IDs = []int{req.ID}
	c.line.Reviewer = clip(req.Reviewer, 64)
	lbl := req.Label
	c.line.Label = &lbl
	if strings.TrimSpace(req.Reviewer) == "" {
		return &RefusedError{Status: http.StatusBadRequest, Code: CodeMalformed, Message: "decision without a reviewer"}
	}
	k := c.r.h.K()
	if req.Label != Skipped && (req.Label < 0 || req.Label >= k) {
		return &RefusedError{Status: http.StatusBadRequest, Code: CodeMalformed, Message: fmt.Sprintf("label %d: want a class in [0,%d) or %d to skip", req.Label, k, Skipped)}
	}
	r := c.r
	r.mu.Lock()
	defer r.mu.Unlock()
	it, ok := r.pending[req.ID]
	if !ok {
		return &RefusedError{Status: http.StatusConflict, Code: CodeNotPending, Message: fmt.Sprintf("item %d is not awaiting review", req.ID)}
	}
	if req.Label != Skipped {
		// An id bought with Label before is paid for: deciding it is free.
		if !r.charged[req.ID] {
			if r.spent+1 > r.budget {
				return &RefusedError{Status: http.StatusConflict, Code: CodeOverBudget, Message: fmt.Sprintf("budget of %d gold labels spent; decision not recorded", r.budget)}
			}
			r.charged[req.ID] = true
			r.spent++
		}
		r.decided[req.ID] = true
	}
	d := Decision{ID: req.ID, Label: req.Label, Reviewer: req.Reviewer, Time: s.cfg.Now().UTC(), Round: it.Round}
	r.decision = append(r.decision, d)
	delete(r.pending, req.ID)
	for i, id := range r.order {
		if id == req.ID {
			r.order = append(r.order[:i], r.order[i+1:]...)
			break
		}
	}
	return writeJSON(w, d)
}

func (s *Server) decisions(w http.ResponseWriter, c *call) error {
	r := c.r
	r.mu.Lock()
	out := append([]Decision{}, r.decision...)
	r.mu.Unlock()
	c.line.Size = len(out)
	return writeJSON(w, out)
}
