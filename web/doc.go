// Package web is the human review desk of the oversight loop (`w2s serve`):
// a small server-rendered web application (html/template, one inline style
// block, no scripts, no external assets) where a person logs in with a
// reviewer token, sees the items the loop escalated — the text or image, the
// weak label, the student's label, the critique and its evidence — and
// decides: accept the weak label, accept the student's, give another class,
// or skip. Decisions go to the oracle (package oracle) as human gold through
// a client holding the run's desk token, which can list and decide escalated
// items but can neither buy gold labels nor evaluate predictions; the desk
// therefore has no way to show a reviewer gold they were not shown.
//
// Security: reviewer tokens are the desk's own (not the oracle's); sessions
// are HttpOnly SameSite=Strict cookies; every form carries a per-session CSRF
// token (the login form a double-submit token), and cross-origin POSTs are
// refused; pages are sent with a Content-Security-Policy that forbids
// scripts, framing and outside requests; the desk binds to localhost by
// default; 20 failed logins within a minute lock the login form for the
// failing client's address only, so a guesser cannot lock other reviewers
// out. Each decision is recorded by the oracle with its time, reviewer
// and round (and audited there), and appended to DeskOptions.DecisionLog.
//
// With DeskOptions.RunsDir set, /runs lists the run directories that hold a
// report.html or summary.json and serves those two files (nothing else).
//
// Example, in process next to the oracle:
//
//	srv, _ := oracle.NewServer(oracle.Config{})
//	runTok, _ := srv.AddRun("sent-s1", hidden, 50)
//	deskTok, _ := srv.DeskToken("sent-s1")
//	base, _ := srv.Start()
//	loop := oracle.NewClient(base, "sent-s1", runTok)
//	_ = loop.Escalate(ctx, items) // []oracle.ReviewItem from the critic
//
//	desk, _ := web.NewDesk(oracle.NewClient(base, "sent-s1", deskTok), web.DeskOptions{
//		Reviewers: map[string]string{"a-long-random-token": "alice"},
//		RunsDir:   "runs",
//	})
//	url, _ := desk.Start() // http://127.0.0.1:PORT: alice logs in and decides
//	defer desk.Close()
//	decisions, _ := loop.Decisions(ctx) // human gold for the next round
//
// Or from the shell, against `w2s oracle`:
//
//	w2s oracle --data sentiment --seed 1 --budget 50 --access access.json  # prints URL, run, tokens
//	w2s serve --run sentiment-s1 --token-file access.json \
//	    --reviewers-file reviewers --runs runs  # reviewers: alice=a-long-random-token, mode 0600
//
// Tokens are read from files (mode 0600) or the environment ($W2S_DESK_TOKEN,
// $W2S_REVIEWERS) so that they do not show in the process list.
package web
