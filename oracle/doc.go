// Package oracle is the label-isolation boundary of superalign: the only way
// for a method or the oversight loop to obtain gold labels of a run's hidden
// splits. A Server holds each run's *eval.Hidden and answers, over JSON on
// HTTP (localhost by default), with a bearer token per run:
//
//   - Label(ids): gold labels of train_strong rows, charged against the run's
//     gold budget atomically (concurrent clients can never overspend; a
//     request that would exceed the budget is refused whole and charges
//     nothing; an id paid for before, bought or decided at the desk, is free);
//   - Evaluate(probs [nTest,K]): test accuracy and AUROC, never per-example
//     gold, rounded and under an information budget (below); also
//     rate-limited, and refused after repeated near-identical prediction
//     vectors, each such call flagged "probing" in the audit log;
//   - Escalate / Pending / Decide / Decisions: the human review queue. The
//     loop escalates items; a person at the review desk (package web) decides
//     through a separate desk token; a decided label is human gold and costs
//     one unit of the same budget, unless the id was bought already.
//
// # Threat model of Evaluate
//
// The adversary holds one run token and calls Evaluate adaptively, as often
// and with whatever predictions it likes, to learn the test labels (so that
// it can score its students against them, or report them). It knows the test
// inputs and the number of test rows; it does not know any test label. Each
// answer is a function of the test labels, so a channel that answers exactly
// and often can be inverted: about nTest random prediction vectors and a
// linear solve recover every label, and flipping one prediction at a time
// reads labels one by one. Both attacks live on small changes of accuracy
// (about 0.5/√nTest for a random vector, 1/nTest for one flipped row). The
// defence (evalbudget.go):
//
//   - answers are rounded to a grid of at least 2/√nTest (and at least
//     Config.Resolution, default 0.02), so the chance fluctuation of a
//     knowledge-free submission almost never moves an answer: 0.1 for the
//     1000-row sentiment test split; a split of fewer than 400 rows would
//     need a grid coarser than 0.1 and gets no answers at all;
//   - one answer (accuracy and AUROC) then takes at most (1/step+1)² values
//     and carries at most 2·log2(1/step+1) bits about the labels, however the
//     predictions were chosen, and a run may learn at most
//     Config.LeakFraction (default 0.1) bits per test row over its life: it
//     gets that many bits' worth of answers, at most Config.MaxEvaluations
//     (default 10); Info.Evaluations and Info.Resolution say what a run got;
//   - refusals depend on the predictions and the clock only, never on gold,
//     so they leak nothing; near-identical submissions are still refused as
//     probing.
//
// What remains: an adversary can spend answers to find where a grid edge
// lies and then learn about one bit per remaining answer; the total stays
// under the bit budget. The red-team test (TestReconstructionAttacks) runs
// the random-query + linear-solve attack (and the boosting vote on the same
// answers) and the flip-one attack with 115 calls against a real server over
// HTTP, and fails if any labels the test split materially better than
// chance. The oversight loop needs one answer per round and treats a refusal
// as "no oracle view this round"; the experiment layer scores every round
// against the hidden gold itself. Runs registered over the same test split
// (w2s oversee registers one per budget and strategy) each have their own
// budget: hand the tokens of several such runs to one untrusted party and
// the bound multiplies.
//
// # Audit log
//
// Every request, refused or not, is one JSON line of the audit log: time,
// run, client, endpoint, ids or size, outcome, and flag. Lines are bounded:
// at most 1000 ids (size keeps the count), and a refused request's body is
// kept as its first 256 bytes with its length. Requests that never reach a
// run (bad or missing token, unknown run or endpoint) and redirects are
// logged in full up to Config.NoisePerMinute per client and minute, then
// counted and summarised in one "noise_summary" line per client.
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
//	m, err := c.Evaluate(ctx, studentTestProbs)          // m.Accuracy ± m.Resolution/2
//	var re *oracle.RefusedError
//	if errors.As(err, &re) && re.Code == oracle.CodeOverBudget { ... }
package oracle
