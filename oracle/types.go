package oracle

import (
	"fmt"
	"time"
)

// Metrics are what Evaluate returns for test-split predictions: aggregate
// scores only, never per-example gold, rounded to Resolution (the true
// value is within Resolution/2 of the one reported).
type Metrics struct {
	Accuracy        float64 `json:"accuracy"`
	AUROC           float64 `json:"auroc"`
	N               int     `json:"n"`                // test examples scored
	Resolution      float64 `json:"resolution"`       // grid step of Accuracy and AUROC
	EvaluationsLeft int     `json:"evaluations_left"` // answers the run may still get
}

// Info describes a run's hidden splits, so that a client can size requests.
type Info struct {
	Run          string `json:"run"`
	K            int    `json:"k"`
	NTrainStrong int    `json:"n_train_strong"`
	NTest        int    `json:"n_test"`
	Role         string `json:"role"` // "run" or "desk": what the token may do
	// Evaluations is how many Evaluate answers the run may get in all (0
	// when its test split is too small to answer without leaking labels),
	// EvaluationsLeft how many remain; answers are rounded to Resolution.
	Evaluations     int     `json:"evaluations"`
	EvaluationsLeft int     `json:"evaluations_left"`
	Resolution      float64 `json:"resolution"`
}

// ReviewItem is one train_strong example that the oversight loop escalates
// to a person. Everything in it comes from the loop (never from the oracle's
// gold): the text, the weak label, the student's label and the critique.
type ReviewItem struct {
	ID           int      `json:"id"` // train_strong row index
	Round        int      `json:"round"`
	Text         string   `json:"text,omitempty"`
	Image        string   `json:"image,omitempty"` // data:image/png;base64,... shown inline by the desk
	WeakLabel    int      `json:"weak_label"`
	StudentLabel int      `json:"student_label"`
	Classes      []string `json:"classes"`
	Critique     string   `json:"critique,omitempty"`
	Evidence     []string `json:"evidence,omitempty"` // human-readable lines
}

// Decision is a person's verdict on an escalated item: human gold. Label is a
// class index, or Skipped (-1) when the reviewer declined to decide.
type Decision struct {
	ID       int       `json:"id"`
	Label    int       `json:"label"`
	Reviewer string    `json:"reviewer"`
	Time     time.Time `json:"time"`
	Round    int       `json:"round"`
}

// Skipped is the Decision.Label of an item the reviewer skipped.
const Skipped = -1

// Refusal codes: RefusedError.Code, the "code" of an error response, and the
// outcome recorded in the audit log.
const (
	CodeBadToken    = "bad_token"    // missing or wrong bearer token (401)
	CodeForbidden   = "forbidden"    // the token's role may not use this endpoint (403)
	CodeUnknownRun  = "unknown_run"  // no such run (404)
	CodeBadIDs      = "bad_ids"      // unknown, out-of-range or too many ids (400)
	CodeOverBudget  = "over_budget"  // the request would exceed the gold budget (409)
	CodeMalformed   = "malformed"    // body is not the JSON the endpoint expects (400)
	CodeBadShape    = "bad_shape"    // predictions of the wrong shape or non-finite (400)
	CodeRateLimited = "rate_limited" // too many evaluations too fast (429)
	CodeEvalBudget  = "eval_budget"  // the run's evaluation budget is spent, or its test split allows none (403)
	CodeNotFound    = "not_found"    // no such endpoint (404)
	CodeProbing     = "probing"      // evaluations refused after repeated near-identical ones (403)
	CodeNotPending  = "not_pending"  // a decision for an item that is not awaiting review (409)
)

// RefusedError is the oracle saying no: the HTTP status, a stable code (one
// of the Code constants) and a message naming the reason.
type RefusedError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"error"`
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("oracle refused (%d %s): %s", e.Status, e.Code, e.Message)
}

// Wire types.

type labelRequest struct {
	IDs []int `json:"ids"`
}

type labelResponse struct {
	Labels    []int `json:"labels"`
	Remaining int   `json:"remaining"`
}

type budgetResponse struct {
	Total int `json:"total"`
	Spent int `json:"spent"`
}

type evaluateRequest struct {
	Rows   int       `json:"rows"`
	Cols   int       `json:"cols"`
	Values []float32 `json:"values"`
}

type escalateRequest struct {
	Items []ReviewItem `json:"items"`
}

type decideRequest struct {
	ID       int    `json:"id"`
	Label    int    `json:"label"`
	Reviewer string `json:"reviewer"`
}
