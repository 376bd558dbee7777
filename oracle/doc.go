// Package oracle is the label-isolation boundary of superalign: the only way
// for a method or the oversight loop to obtain gold labels of a run's hidden
// splits. A Server holds each run's *eval.Hidden and answers, over JSON on
// HTTP (localhost by default), with a bearer token per run:
//
//   - Label(ids): gold labels of train_strong rows, charged against the run's
//     gold budget atomically (concurrent clients can never overspend; a
//     request that would exceed the budget is refused whole and charges
//     nothing; an id bought before is free);
//   - Evaluate(probs [nTest,K]): test accuracy and AUROC, never per-example
//     gold; rate-limited, capped per run, and refused after repeated
//     near-identical prediction vectors (the way to read labels one by one),
//     each such call flagged "probing" in the audit log;
//   - Escalate / Pending / Decide / Decisions: the human review queue. The
//     loop escalates items; a person at the review desk (package web) decides
//     through a separate desk token; a decided label is human gold and costs
//     one unit of the same budget.
//
// Every request, refused or not, is one JSON line of the audit log: time,
// run, client, endpoint, ids or size, outcome, and flag.
//
// The run token may buy labels, evaluate and escalate; the desk token (from
// Server.DeskToken) may list the queue and decide but never buy or evaluate,
// so the loop cannot forge human decisions and the desk cannot read gold.
//
// Example, in process:
//
//	srv, _ := oracle.NewServer(oracle.Config{AuditPath: "runs/x/audit.jsonl"})
//	tok, _ := srv.AddRun("sentiment-s1-b50", hidden, 50) // 50 gold labels
//	base, _ := srv.Start()                                 // http://127.0.0.1:PORT
//	defer srv.Close()
//	c := oracle.NewClient(base, "sentiment-s1-b50", tok)
//	labels, left, err := c.Label(ctx, []int{3, 17, 42}) // left == 47
//	m, err := c.Evaluate(ctx, studentTestProbs)          // m.Accuracy, m.AUROC
//	var re *oracle.RefusedError
//	if errors.As(err, &re) && re.Code == oracle.CodeOverBudget { ... }
package oracle
