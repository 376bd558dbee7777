package train

// Training checkpoints. A fine-tune of USE-lite costs about a minute per
// 1000 sentences and epoch on 2 cores, and a method may chain several, so a
// killed run must not start them over: the whole training state (every
// float variable of the net's store: parameters, head, Adam moments),
// the step reached and the losses so far go to Config.Checkpoint, and a
// Fit with the same key resumes there. The batch order is a function of
// the seed (drawn after the net's initialisation, which a resume repeats),
// so it is not stored. Resuming is bit-exact on the pure-Go backend.
//
// File layout, written atomically with a trailing sha256 (internal/checkfile):
//
//	magic "superalign training checkpoint v2\n"
//	key [32]byte                 sha256 of net, objective and configuration
//	step, total steps            uint64 each
//	finished epochs E uint32, then E × (loss float64, duration int64 ns)
//	current epoch: loss sum float64, steps uint64, duration int64 ns
//	variables V uint32, then V × (path length uint32, path, values uint64, float32 × values)

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/superalign/superalign/internal/checkfile"
)

const checkpointMagic = "superalign training checkpoint v2\n"

// progressState is what the loop has done: step, per-epoch losses and the
// running sums of the current epoch.
type progressState struct {
	step, total  int
	epochLoss    []float64
	epochTime    []time.Duration
	curSum       float64
	curSteps     int
	curElapsed   time.Duration
	resumedEpoch int // epochs finished when the run resumed (log only)
}

// saveCheckpoint writes the state of vars (float32 variables, sorted by
// path) and p to path atomically.
func saveCheckpoint(path string, key [32]byte, p *progressState, vars []*model.Variable) error {
	_, err := checkfile.Write(path, func(w io.Writer) error {
		var hdr bytes.Buffer
		hdr.WriteString(checkpointMagic)
		hdr.Write(key[:])
		le := func(v any) { binary.Write(&hdr, binary.LittleEndian, v) }
		le(uint64(p.step))
		le(uint64(p.total))
		le(uint32(len(p.epochLoss)))
		for e := range p.epochLoss {
			le(math.Float64bits(p.epochLoss[e]))
			le(int64(p.epochTime[e]))
		}
		le(math.Float64bits(p.curSum))
		le(uint64(p.curSteps))
		le(int64(p.curElapsed))
		le(uint32(len(vars)))
		if _, err := w.Write(hdr.Bytes()); err != nil {
			return err
		}
		for _, v := range vars {
			t, err := v.Value()
			if err != nil {
				return fmt.Errorf("reading %s: %w", v.Path(), err)
			}
			var head bytes.Buffer
			binary.Write(&head, binary.LittleEndian, uint32(len(v.Path())))
			head.WriteString(v.Path())
			binary.Write(&head, binary.LittleEndian, uint64(t.Shape().Size()))
			if _, err := w.Write(head.Bytes()); err != nil {
				return err
			}
			var werr error
			tensors.MustConstFlatData(t, func(f []float32) { werr = checkfile.WriteFloats(w, f) })
			if werr != nil {
				return werr
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("train: checkpoint %s: %w", path, err)
	}
	return nil
}

// errStaleCheckpoint: the file is intact but belongs to another fit.
var errStaleCheckpoint = errors.New("checkpoint of another training run")

// loadCheckpoint reads the checkpoint at path into fresh tensors shaped
// like vars. It returns errStaleCheckpoint for another key and a
// checkfile.CorruptError for a damaged file.
func loadCheckpoint(path string, key [32]byte, total int, vars []*model.Variable) (*progressState, []*tensors.Tensor, error) {
	r, err := checkfile.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	magic := make([]byte, len(checkpointMagic))
	if err := r.ReadFull(magic); err != nil {
		return nil, nil, err
	}
	if string(magic) != checkpointMagic {
		return nil, nil, checkfile.Corruptf("not a training checkpoint (bad magic)")
	}
	var got [32]byte
	if err := r.ReadFull(got[:]); err != nil {
		return nil, nil, err
	}
	if got != key {
		return nil, nil, errStaleCheckpoint
	}
	var buf [8]byte
	u64 := func() (uint64, error) {
		if err := r.ReadFull(buf[:]); err != nil {
			return 0, err
		}
		return binary.LittleEndian.Uint64(buf[:]), nil
	}
	u32 := func() (uint32, error) {
		if err := r.ReadFull(buf[:4]); err != nil {
			return 0, err
		}
		return binary.LittleEndian.Uint32(buf[:4]), nil
	}
	p := &progressState{}
	step, err := u64()
	if err != nil {
		return nil, nil, err
	}
	tot, err := u64()
	if err != nil {
		return nil, nil, err
	}
	if int(tot) != total || step > tot {
		return nil, nil, checkfile.Corruptf("checkpoint at step %d of %d, this run has %d steps", step, tot, total)
	}
	p.step, p.total = int(step), int(tot)
	epochs, err := u32()
	if err != nil {
		return nil, nil, err
	}
	if epochs > 1<<20 {
		return nil, nil, checkfile.Corruptf("checkpoint claims %d finished epochs", epochs)
	}
	for range epochs {
		l, err := u64()
		if err != nil {
			return nil, nil, err
		}
		d, err := u64()
		if err != nil {
			return nil, nil, err
		}
		p.epochLoss = append(p.epochLoss, math.Float64frombits(l))
		p.epochTime = append(p.epochTime, time.Duration(d))
	}
	sum, err := u64()
	if err != nil {
		return nil, nil, err
	}
	steps, err := u64()
	if err != nil {
		return nil, nil, err
	}
	elapsed, err := u64()
	if err != nil {
		return nil, nil, err
	}
	p.curSum, p.curSteps, p.curElapsed = math.Float64frombits(sum), int(steps), time.Duration(elapsed)
	nv, err := u32()
	if err != nil {
		return nil, nil, err
	}
	if int(nv) != len(vars) {
		return nil, nil, checkfile.Corruptf("checkpoint holds %d variables, the net has %d", nv, len(vars))
	}
	values := make([]*tensors.Tensor, 0, len(vars))
	fail := func(err error) (*progressState, []*tensors.Tensor, error) {
		for _, t := range values {
			t.FinalizeAll()
		}
		return nil, nil, err
	}
	for _, v := range vars {
		n, err := u32()
		if err != nil {
			return fail(err)
		}
		if int(n) != len(v.Path()) {
			return fail(checkfile.Corruptf("checkpoint variable name of %d bytes where the net has %s", n, v.Path()))
		}
		name := make([]byte, n)
		if err := r.ReadFull(name); err != nil {
			return fail(err)
		}
		if string(name) != v.Path() {
			return fail(checkfile.Corruptf("checkpoint has variable %q where the net has %q", name, v.Path()))
		}
		size, err := u64()
		if err != nil {
			return fail(err)
		}
		if int(size) != v.Shape().Size() {
			return fail(checkfile.Corruptf("checkpoint variable %s has %d values, the net's has shape %s", v.Path(), size, v.Shape()))
		}
		if err := r.ExpectPayloadAtLeast(int64(4 * size)); err != nil {
			return fail(err)
		}
		t := tensors.FromShape(v.Shape())
		var rerr error
		tensors.MustMutableFlatData(t, func(f []float32) { rerr = r.ReadFloats(f) })
		values = append(values, t)
		if rerr != nil {
			return fail(rerr)
		}
	}
	if _, err := r.Verify(); err != nil {
		return fail(err)
	}
	p.resumedEpoch = len(p.epochLoss)
	return p, values, nil
}

// resume returns the saved state of the fit key at path, or nil when there
// is none to use; a damaged or stale file is reported to log and left to be
// overwritten by the next save.
func resume(path string, key [32]byte, total int, vars []*model.Variable, log func(string, ...any)) (*progressState, []*tensors.Tensor, error) {
	p, values, err := loadCheckpoint(path, key, total, vars)
	switch {
	case err == nil:
		return p, values, nil
	case errors.Is(err, os.ErrNotExist):
		return nil, nil, nil
	case errors.Is(err, errStaleCheckpoint) || checkfile.IsCorrupt(err):
		log("ignoring checkpoint %s (%v); starting afresh", path, err)
		return nil, nil, nil
	default:
		return nil, nil, fmt.Errorf("train: checkpoint %s: %w", path, err)
	}
}
