package sweep

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/superalign/superalign/experiment"
	"github.com/superalign/superalign/internal/atomicfile"
	"github.com/superalign/superalign/store"
)

// Cell is one planned student cell with its job-graph keys.
type Cell struct {
	Index int                 `json:"index"`
	Spec  experiment.CellSpec `json:"cell"`
	Keys  experiment.CellKeys `json:"keys"`
}

// Plan is a sweep's cells in execution order, saved as DIR/sweep/plan.json
// so `w2s cell --run DIR --index I` (a SLURM task) finds its cell.
type Plan struct {
	Config Config `json:"config"`
	Cells  []Cell `json:"cells"`
	// Stamp, when set, is what the keys were computed from (PlanCached).
	Stamp *Stamp `json:"stamp,omitempty"`
}

// Status is DIR/status/KEY.json, written atomically by whoever runs a cell.
type Status struct {
	State         string    `json:"state"` // running | done | failed
	Error         string    `json:"error,omitempty"`
	Host          string    `json:"host"`
	PID           int       `json:"pid"`
	Started       time.Time `json:"started"`
	Finished      time.Time `json:"finished,omitzero"`
	WeakReused    bool      `json:"weak_reused"`
	CeilingReused bool      `json:"ceiling_reused"`
}

// Layout of a sweep run directory (a store.RunDir plus sweep state):
//
//	DIR/sweep/plan.json      the planned cells with their keys
//	DIR/cells/KEY.json       finished rows (KEY = student node key)
//	DIR/status/KEY.json      per-cell state, error, reuse of shared nodes
//	DIR/checkpoints/*.ckpt   fine-tuning checkpoints of cells in flight
//
// Trained weak models and ceilings are cached content-addressed in the
// teacher cache (experiment.CellRunner.Teachers), shared by every task.
//
//	DIR/logs/JOB_TASK.out    SLURM task logs
//	DIR/results.jsonl, summary.json, results.parquet, report.html
func planPath(dir string) string { return filepath.Join(dir, "sweep", "plan.json") }

// CheckpointDir is where a sweep's cells keep their fine-tuning checkpoints.
func CheckpointDir(dir string) string   { return filepath.Join(dir, "checkpoints") }
func statusPath(dir, key string) string { return filepath.Join(dir, "status", key+".json") }

// NewPlan expands cfg and computes every cell's keys (loading datasets and
// encoders, not features).
func NewPlan(ctx context.Context, cfg Config, cr *experiment.CellRunner) (*Plan, error) {
	specs, err := cfg.Cells()
	if err != nil {
		return nil, err
	}
	p := &Plan{Config: cfg}
	seen := map[string]bool{}
	for _, cs := range specs {
		k, err := cr.Keys(ctx, cs)
		if err != nil {
			return nil, fmt.Errorf("%s %s->%s %s seed %d: %w", cs.Dataset, cs.Weak, cs.Strong, cs.Method, cs.Seed, err)
		}
		if seen[k.Student] {
			continue
		}
		seen[k.Student] = true
		p.Cells = append(p.Cells, Cell{Index: len(p.Cells), Spec: cs, Keys: k})
	}
	return p, nil
}

// Save writes the plan atomically.
func (p *Plan) Save(dir string) error {
	b, err := json.MarshalIndent(p, "", " ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(planPath(dir), append(b, '\n'))
}

// LoadPlan reads DIR/sweep/plan.json.
func LoadPlan(dir string) (*Plan, error) {
	b, err := os.ReadFile(planPath(dir))
	if err != nil {
		return nil, fmt.Errorf("reading sweep plan: %w", err)
	}
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", planPath(dir), err)
	}
	return &p, nil
}

// Pending returns the indices of cells with no finished row in dir.
func (p *Plan) Pending(dir string) []int {
	rd := store.RunDir{Dir: dir}
	var out []int
	for _, c := range p.Cells {
		if _, ok := rd.Done(c.Keys.Student); !ok {
			out = append(out, c.Index)
		}
	}
	return out
}

func readStatus(dir, key string) (Status, bool) {
	b, err := os.ReadFile(statusPath(dir, key))
	if err != nil {
		return Status{}, false
	}
	var s Status
	if json.Unmarshal(b, &s) != nil {
		return Status{}, false
	}
	return s, true
}

func writeStatus(dir, key string, s Status) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(statusPath(dir, key), append(b, '\n'))
}

// RunCell computes one planned cell and records its row and status
// atomically; a cell already done is left alone (reused reports true).
func RunCell(ctx context.Context, dir string, c Cell, cr *experiment.CellRunner) (reused bool, st experiment.CellStats, err error) {
	rd := store.RunDir{Dir: dir}
	if _, ok := rd.Done(c.Keys.Student); ok {
		return true, st, nil
	}
	host, _ := os.Hostname()
	status := Status{State: "running", Host: host, PID: os.Getpid(), Started: time.Now().UTC()}
	if err := writeStatus(dir, c.Keys.Student, status); err != nil {
		return false, st, err
	}
	_, st, err = cr.Run(ctx, c.Spec, func(key string, row *store.Row) error {
		if key != c.Keys.Student {
			return fmt.Errorf("cell %d computed key %s, planned %s: the code or inputs changed since planning; plan again", c.Index, key, c.Keys.Student)
		}
		status.Finished = time.Now().UTC()
		row.DurationS = status.Finished.Sub(status.Started).Seconds()
		return rd.SaveCell(key, *row)
	})
	if status.Finished.IsZero() {
		status.Finished = time.Now().UTC()
	}
	status.WeakReused, status.CeilingReused = st.WeakReused, st.CeilingReused
	if err != nil {
		status.State, status.Error = "failed", err.Error()
		if werr := writeStatus(dir, c.Keys.Student, status); werr != nil {
			return false, st, fmt.Errorf("%w (and writing its status: %v)", err, werr)
		}
		return false, st, err
	}
	status.State = "done"
	return false, st, writeStatus(dir, c.Keys.Student, status)
}

// CellMain is `w2s cell --run DIR --index I`: run planned cell I of DIR
// (a SLURM array task). It exits cleanly when the cell is already done.
func CellMain(ctx context.Context, dir string, index int, cr *experiment.CellRunner) error {
	plan, err := LoadPlan(dir)
	if err != nil {
		return err
	}
	if index < 0 || index >= len(plan.Cells) {
		return fmt.Errorf("%s: cell index %d out of range [0, %d)", planPath(dir), index, len(plan.Cells))
	}
	if cr.Checkpoints == "" {
		cr.Checkpoints = CheckpointDir(dir)
	}
	_, _, err = RunCell(ctx, dir, plan.Cells[index], cr)
	return err
}
