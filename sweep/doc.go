// Package sweep runs grids of weak-to-strong cells (datasets × weak → strong
// pairs × methods × seeds) on one machine or as a SLURM job array, never
// recomputing or losing finished work.
//
// Each cell has content keys for its job-graph nodes (features, weak model,
// ceiling, student; see experiment.CellKeys): a node's key hashes its inputs,
// the code version and its parents' keys, so a changed teacher changes
// exactly its descendants. Finished rows live in DIR/cells/STUDENTKEY.json,
// trained weak models' and ceilings' predictions in the teacher cache
// (experiment's, checksummed and locked across processes), both written
// atomically, so any executor, process or rerun reuses them.
//
// Planning hashes every dataset's content, which means reading it all
// (seconds for the 6046 spam mails). PlanCached skips that on a rerun when
// nothing the keys depend on changed: the plan carries a Stamp (sha256 of
// the executable, SUPERALIGN_* environment, and per user data file its
// path, size, mtime and sha256 of its bytes), so a finished sweep reruns in
// a fraction of a second and any changed input plans afresh.
//
// SIGINT: RunLocal starts no new cell, lets the cells in flight finish and
// save, and returns an error naming what was not started; a rerun (or
// --resume) computes only the missing cells. `w2s sweep` makes a second
// SIGINT kill at once (writes are atomic, so nothing half-written counts).
//
// Worked example (sweep.yaml):
//
//	datasets: [sentiment, spam]
//	pairs: ["bow->glove", "bow->glove:mlp"]
//	methods: [naive, naive-hard, "logconf:coef=0.25|0.5"]   # 4 method specs
//	seeds: 5
//	limit: 600
//
//	w2s sweep --config sweep.yaml --out runs/s --dry-run      # 2×2×4×5 = 80 cells, what is done
//	w2s sweep --config sweep.yaml --out runs/s --workers 1    # local pool, progress + ETA
//	w2s sweep --out runs/s --resume --executor slurm --partition gpu --time 01:00:00 --mem 8G --max-concurrent 16
//
// In code:
//
//	cr := &experiment.CellRunner{Cache: &featcache.Cache{}, Checkpoints: sweep.CheckpointDir(dir)}
//	plan, cached, _ := sweep.PlanCached(ctx, cfg, cr, dir) // or sweep.NewPlan(ctx, cfg, cr)
//	plan.Save(dir)
//	st, _ := sweep.RunLocal(ctx, dir, plan, cr, sweep.DefaultWorkers(), os.Stderr)
//	rows, sums, _ := sweep.Finalize(dir, plan, "w2s sweep", "") // results.jsonl, .parquet, report.html
package sweep
