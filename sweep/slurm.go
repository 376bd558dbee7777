package sweep

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/superalign/superalign/internal/atomicfile"
)

// Slurm submits pending cells as one SLURM job array. Each array task runs
// Command + ["--run", DIR, "--index", "$SLURM_ARRAY_TASK_ID"] (by default
// `w2s cell`), which writes the cell's row and status atomically into the
// shared run directory; the array's task ids are the plan indices.
type Slurm struct {
	Partition     string // --partition ("" = cluster default)
	Time          string // --time, e.g. 01:00:00
	Mem           string // --mem, e.g. 8G
	CPUs          int    // --cpus-per-task
	GPUs          int    // --gres=gpu:N
	MaxConcurrent int    // %N of --array (0 = no limit)
	// Command is the task's command prefix; default: this executable + "cell".
	Command []string
	// Env lines (KEY=VALUE) exported in the batch script.
	Env []string
	// Poll is the squeue polling interval (default 2s).
	Poll time.Duration
	// OnSubmit, when set, is called with the job id right after sbatch.
	OnSubmit func(jobID string)
}

// Script returns the sbatch script for the given plan indices.
func (s Slurm) Script(dir string, indices []int) (string, error) {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	cmd := s.Command
	if len(cmd) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return "", fmt.Errorf("finding the w2s executable: %w", err)
		}
		cmd = []string{exe, "cell"}
	}
	ids := make([]string, len(indices))
	for i, x := range indices {
		ids[i] = strconv.Itoa(x)
	}
	array := strings.Join(ids, ",")
	if s.MaxConcurrent > 0 {
		array += "%" + strconv.Itoa(s.MaxConcurrent)
	}
	var b strings.Builder
	b.WriteString("#!/bin/bash\n#SBATCH --job-name=w2s-sweep\n")
	fmt.Fprintf(&b, "#SBATCH --array=%s\n#SBATCH --output=%s\n", array, filepath.Join(absDir, "logs", "%A_%a.out"))
	if s.Partition != "" {
		fmt.Fprintf(&b, "#SBATCH --partition=%s\n", s.Partition)
	}
	if s.Time != "" {
		fmt.Fprintf(&b, "#SBATCH --time=%s\n", s.Time)
	}
	if s.Mem != "" {
		fmt.Fprintf(&b, "#SBATCH --mem=%s\n", s.Mem)
	}
	if s.CPUs > 0 {
		fmt.Fprintf(&b, "#SBATCH --cpus-per-task=%d\n", s.CPUs)
	}
	if s.GPUs > 0 {
		fmt.Fprintf(&b, "#SBATCH --gres=gpu:%d\n", s.GPUs)
	}
	b.WriteString("set -eu\n")
	for _, e := range s.Env {
		fmt.Fprintf(&b, "export %s\n", shellQuoteEnv(e))
	}
	for _, a := range cmd {
		b.WriteString(shellQuote(a) + " ")
	}
	fmt.Fprintf(&b, "--run %s --index \"$SLURM_ARRAY_TASK_ID\"\n", shellQuote(absDir))
	return b.String(), nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func shellQuoteEnv(kv string) string {
	k, v, _ := strings.Cut(kv, "=")
	return k + "=" + shellQuote(v)
}

// Run submits the plan's pending cells as one array, polls squeue until the
// array has left the queue, then checks every task's row. Failed or missing
// cells are reported with their status error and the tail of their log; a
// later run (w2s sweep --resume) submits only those.
func (s Slurm) Run(ctx context.Context, dir string, plan *Plan, log io.Writer) (Stats, error) {
	st := Stats{Cells: len(plan.Cells)}
	pending := plan.Pending(dir)
	st.Reused = len(plan.Cells) - len(pending)
	if len(pending) == 0 {
		return st, nil
	}
	script, err := s.Script(dir, pending)
	if err != nil {
		return st, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		return st, err
	}
	scriptPath := filepath.Join(dir, "sweep", "array.sbatch")
	if err := atomicfile.WriteFile(scriptPath, []byte(script)); err != nil {
		return st, err
	}
	out, err := exec.CommandContext(ctx, "sbatch", "--parsable", scriptPath).CombinedOutput()
	if err != nil {
		return st, fmt.Errorf("sbatch %s: %w: %s", scriptPath, err, bytes.TrimSpace(out))
	}
	jobID, _, _ := strings.Cut(strings.TrimSpace(string(out)), ";")
	fmt.Fprintf(orDiscard(log), "sweep: submitted %d cells as SLURM job array %s (%s)\n", len(pending), jobID, scriptPath)
	if s.OnSubmit != nil {
		s.OnSubmit(jobID)
	}
	poll := s.Poll
	if poll <= 0 {
		poll = 2 * time.Second
	}
	start := time.Now()
	for {
		left, err := squeueCount(jobID)
		if err != nil {
			return st, err
		}
		if left == 0 {
			break
		}
		done := len(pending) - len(plan.Pending(dir)) - 0
		fmt.Fprintf(orDiscard(log), "sweep: job %s: %d/%d cells done, %d tasks queued or running (%s)\n",
			jobID, done, len(pending), left, time.Since(start).Round(time.Second))
		select {
		case <-ctx.Done():
			exec.Command("scancel", jobID).Run()
			return st, fmt.Errorf("interrupted: cancelled job %s; rerun with --resume to submit the unfinished cells: %w", jobID, ctx.Err())
		case <-time.After(poll):
		}
	}
	var fails []string
	missing := map[int]bool{}
	for _, i := range plan.Pending(dir) {
		missing[i] = true
	}
	for _, i := range pending {
		c := plan.Cells[i]
		if !missing[i] {
			st.Ran++
			if cs, ok := readStatus(dir, c.Keys.Student); ok {
				count(&st.WeakTrained, &st.WeakReused, cs.WeakReused)
				count(&st.CeilingTrained, &st.CeilingReused, cs.CeilingReused)
			}
			continue
		}
		st.Failed++
		why := "no result (cancelled or killed)"
		if cs, ok := readStatus(dir, c.Keys.Student); ok && cs.State == "failed" {
			why = cs.Error
		}
		logPath := filepath.Join(dir, "logs", fmt.Sprintf("%s_%d.out", jobID, i))
		fails = append(fails, fmt.Sprintf("cell %d (%s %s->%s %s seed %d): %s\n  log %s:\n%s", i, c.Spec.Dataset, c.Spec.Weak,
			c.Spec.Strong, c.Spec.Method, c.Spec.Seed, why, logPath, indent(tail(logPath, 15))))
	}
	if len(fails) > 0 {
		return st, fmt.Errorf("%d of %d SLURM tasks failed (w2s sweep --resume resubmits them):\n%s", len(fails), len(pending), strings.Join(fails, "\n"))
	}
	return st, nil
}

// squeueCount returns how many tasks of the job are still queued or running.
func squeueCount(jobID string) (int, error) {
	out, err := exec.Command("squeue", "-h", "-r", "-j", jobID, "-o", "%i").CombinedOutput()
	if err != nil {
		// A job that has left slurmctld's memory is reported as invalid.
		if bytes.Contains(out, []byte("Invalid job id")) {
			return 0, nil
		}
		return 0, fmt.Errorf("squeue -j %s: %w: %s", jobID, err, bytes.TrimSpace(out))
	}
	n := 0
	for _, l := range strings.Split(string(out), "\n") {
		if strings.TrimSpace(l) != "" {
			n++
		}
	}
	return n, nil
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "(no log: the task never started)"
	} else if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
