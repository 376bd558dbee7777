package oracle

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/superalign/superalign/data"
)

// Client talks to an oracle Server for one run. It holds that run's token
// (from Server.AddRun, or Server.DeskToken for the review desk) and is safe
// for concurrent use.
type Client struct {
	base, run, token string
	agent            string
	hc               *http.Client
}

// NewClient returns a client for run at baseURL (e.g. http://127.0.0.1:41234).
func NewClient(baseURL, run, token string) *Client {
	return &Client{
		base:  strings.TrimRight(baseURL, "/"),
		run:   run,
		token: token,
		hc:    &http.Client{Timeout: 2 * time.Minute},
	}
}

// SetAgent names the client in the oracle's audit log (e.g. "oversee").
func (c *Client) SetAgent(name string) { c.agent = name }

// Run is the run this client speaks for.
func (c *Client) Run() string { return c.run }

// do sends one request. A refusal from the oracle comes back as a
// *RefusedError; transport failures wrap their cause.
func (c *Client) do(ctx context.Context, method, endpoint string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("oracle %s: encode request: %w", endpoint, err)
		}
		body = bytes.NewReader(b)
	}
	u := c.base + "/v1/runs/" + url.PathEscape(c.run) + "/" + endpoint
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("oracle %s: %w", endpoint, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.agent != "" {
		req.Header.Set("X-W2S-Client", c.agent)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("oracle %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("oracle %s: read response: %w", endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		re := &RefusedError{Status: resp.StatusCode}
		if json.Unmarshal(b, re) != nil || re.Code == "" {
			re.Code, re.Message = "http", strings.TrimSpace(string(b))
		}
		return re
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("oracle %s: decode response: %w", endpoint, err)
		}
	}
	return nil
}

// Info returns the run's class count and split sizes.
func (c *Client) Info(ctx context.Context) (Info, error) {
	var out Info
	err := c.do(ctx, http.MethodGet, "info", nil, &out)
	return out, err
}

// Label buys the gold labels of train_strong rows ids: labels[i] is the
// class of ids[i]. An id bought before is free and answers the same label;
// remaining is what is left of the budget afterwards. A request that would
// exceed the budget is refused whole (*RefusedError, CodeOverBudget) and
// charges nothing.
func (c *Client) Label(ctx context.Context, ids []int) (labels []int, remaining int, err error) {
	if ids == nil {
		ids = []int{}
	}
	var out labelResponse
	if err := c.do(ctx, http.MethodPost, "label", labelRequest{IDs: ids}, &out); err != nil {
		return nil, 0, err
	}
	if len(out.Labels) != len(ids) {
		return nil, 0, fmt.Errorf("oracle label: %d labels for %d ids", len(out.Labels), len(ids))
	}
	return out.Labels, out.Remaining, nil
}

// Budget returns the run's gold budget and how much of it is spent (labels
// bought plus human decisions).
func (c *Client) Budget(ctx context.Context) (total, spent int, err error) {
	var out budgetResponse
	if err := c.do(ctx, http.MethodGet, "budget", nil, &out); err != nil {
		return 0, 0, err
	}
	return out.Total, out.Spent, nil
}

// Evaluate scores predicted test probabilities [nTest, K] and returns
// aggregate metrics. Repeated near-identical predictions are refused as
// label probing (see Config).
func (c *Client) Evaluate(ctx context.Context, probs data.Matrix) (Metrics, error) {
	if probs.Values == nil {
		probs.Values = []float32{}
	}
	var out Metrics
	err := c.do(ctx, http.MethodPost, "evaluate", evaluateRequest{Rows: probs.Rows, Cols: probs.Cols, Values: probs.Values}, &out)
	return out, err
}

// Escalate queues items for human review at the desk. An item already
// pending is replaced (e.g. with a newer round's critique); one a person has
// already labelled is ignored.
func (c *Client) Escalate(ctx context.Context, items []ReviewItem) error {
	if items == nil {
		items = []ReviewItem{}
	}
	return c.do(ctx, http.MethodPost, "escalate", escalateRequest{Items: items}, nil)
}

// Pending returns the items awaiting review, in escalation order.
func (c *Client) Pending(ctx context.Context) ([]ReviewItem, error) {
	var out []ReviewItem
	err := c.do(ctx, http.MethodGet, "pending", nil, &out)
	return out, err
}

// Decide records a reviewer's decision on a pending item (desk token only).
// label is a class index or Skipped. A label costs one unit of budget.
func (c *Client) Decide(ctx context.Context, id, label int, reviewer string) (Decision, error) {
	var out Decision
	err := c.do(ctx, http.MethodPost, "decide", decideRequest{ID: id, Label: label, Reviewer: reviewer}, &out)
	return out, err
}

// Decisions returns every decision of the run so far, oldest first
// (including skips, Label == Skipped).
func (c *Client) Decisions(ctx context.Context) ([]Decision, error) {
	var out []Decision
	err := c.do(ctx, http.MethodGet, "decisions", nil, &out)
	return out, err
}

// IsRefused reports whether err is an oracle refusal with the given code.
func IsRefused(err error, code string) bool {
	var re *RefusedError
	return errors.As(err, &re) && re.Code == code
}
