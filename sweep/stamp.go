package sweep

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/experiment"
	"github.com/superalign/superalign/internal/sha"
)

// Stamp identifies everything a plan's keys are computed from without
// reading the datasets: planning a finished sweep again re-reads every
// dataset (6046 spam mails: seconds) just to hash it, and a stamp lets a
// rerun reuse the saved plan's keys instead.
//
// It holds the sha256 of the running executable (code version, asset pins,
// built-in parsers and encoder registry are all compiled in), the
// SUPERALIGN_* environment, and per dataset either "builtin:NAME" (its
// files are pinned, checksum-verified assets) or a user file's absolute
// path, size, modification time and the sha256 of its bytes. Any change to
// any of these misses the cache and the keys are computed afresh, so a
// changed file always changes its key.
type Stamp struct {
	Executable string            `json:"executable"`
	Env        []string          `json:"env,omitempty"`
	Datasets   map[string]string `json:"datasets"`
}

// stampExecutable is the executable hashed; tests point it elsewhere.
var stampExecutable = os.Executable

// NewStamp computes the stamp of cfg's inputs.
func NewStamp(cfg Config) (Stamp, error) {
	exe, err := stampExecutable()
	if err != nil {
		return Stamp{}, fmt.Errorf("sweep: stamp: %w", err)
	}
	st := Stamp{Datasets: map[string]string{}}
	if st.Executable, err = sha.File(exe); err != nil {
		return Stamp{}, fmt.Errorf("sweep: stamp: %w", err)
	}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "SUPERALIGN_") {
			st.Env = append(st.Env, kv)
		}
	}
	slices.Sort(st.Env)
	builtin := map[string]bool{}
	for _, b := range data.Builtins() {
		builtin[b.Name] = true
	}
	for _, d := range cfg.Datasets {
		if builtin[d] {
			st.Datasets[d] = "builtin:" + d
			continue
		}
		abs, err := filepath.Abs(d)
		if err != nil {
			return Stamp{}, fmt.Errorf("sweep: stamp: %s: %w", d, err)
		}
		fi, err := os.Stat(abs)
		if err != nil {
			return Stamp{}, fmt.Errorf("sweep: stamp: %w", err)
		}
		if !fi.Mode().IsRegular() {
			return Stamp{}, fmt.Errorf("sweep: stamp: %s: not a regular file", d)
		}
		sum, err := sha.File(abs)
		if err != nil {
			return Stamp{}, fmt.Errorf("sweep: stamp: %w", err)
		}
		st.Datasets[d] = fmt.Sprintf("file:%s size=%d mtime=%d sha256=%s", abs, fi.Size(), fi.ModTime().UnixNano(), sum)
	}
	return st, nil
}

// PlanCached is NewPlan that reuses DIR/sweep/plan.json when it was planned
// from the same config with the same Stamp (see Stamp), reporting reused.
// On any doubt (no stamp, a different one, an unreadable plan) it plans
// afresh. The stamp travels inside the plan (Plan.Stamp), so plan and stamp
// are written in one atomic step and can never disagree.
func PlanCached(ctx context.Context, cfg Config, cr *experiment.CellRunner, dir string) (*Plan, bool, error) {
	st, err := NewStamp(cfg)
	if err != nil {
		// Not stampable (e.g. a dataset path that is not a plain file):
		// plan without the cache; NewPlan reports real errors.
		p, perr := NewPlan(ctx, cfg, cr)
		return p, false, perr
	}
	if p, err := LoadPlan(dir); err == nil && p.Stamp != nil && reflect.DeepEqual(*p.Stamp, st) && sameConfig(p.Config, cfg) {
		return p, true, nil
	}
	p, err := NewPlan(ctx, cfg, cr)
	if err != nil {
		return nil, false, err
	}
	p.Stamp = &st
	return p, false, nil
}

// sameConfig compares configs as they are saved (JSON), so a config that
// went through plan.json compares equal to the one it came from.
func sameConfig(a, b Config) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}
