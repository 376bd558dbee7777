package encode

// Fine-tuning checkpoints, shared by USE-lite and ONNX encoders. An
// end-to-end USE-lite fine-tune takes about a minute per epoch per 1000
// sentences on 2 cores, so a killed `w2s run` should not start its
// fine-tunes over: after every epoch the whole
// training state (parameters, head, Adam moments, step count, the shuffling
// RNG and the current example order) goes to FineTuneConfig.Checkpoint, and
// a later FineTune with the same inputs resumes after the last saved epoch.
// Resuming is bit-exact on the pure-Go backend: the state is everything the
// remaining epochs read.
//
// File layout, written atomically with a trailing sha256 (atomic.go):
//
//	magic "superalign fine-tune checkpoint v1\n"
//	key [32]byte        sha256 of what the run depends on (fineTuneKey)
//	epochs done, step t, len(pcg), pcg state, len(order), order (uint32 each)
//	per finished epoch: loss float64, duration int64 ns
//	number of state tensors, then per tensor: length, float32 values

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"time"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/internal/sha"
)

const ftCheckpointMagic = "superalign fine-tune checkpoint v1\n"

// ftProgress is the resumable state of a fine-tune after `epochs` epochs.
type ftProgress struct {
	epochs int
	step   int
	pcg    *rand.PCG
	order  []int
	losses []float64
	times  []time.Duration
	state  []*tensors.Tensor // parameters, head, Adam moments: the trainer's layout
}

// fineTuneKey identifies a fine-tune: the model (its fingerprint), the
// configuration (checkpoint path aside), the texts and the targets. A
// checkpoint with another key is stale and ignored.
func fineTuneKey(fingerprint string, texts []string, targets data.Matrix, cfg FineTuneConfig) [32]byte {
	h := sha.New()
	fmt.Fprintf(h, "%s|%s|epochs=%d|batch=%d|lr=%g|head_lr=%g|seed=%d|n=%d|k=%d\n",
		ftCheckpointMagic, fingerprint, cfg.Epochs, cfg.Batch, cfg.LR, cfg.HeadLR, cfg.Seed, len(texts), targets.Cols)
	var n [8]byte
	for _, t := range texts {
		binary.LittleEndian.PutUint64(n[:], uint64(len(t)))
		h.Write(n[:])
		io.WriteString(h, t)
	}
	writeFloats(h, targets.Values)
	var key [32]byte
	copy(key[:], h.Sum(nil))
	return key
}

// saveFTCheckpoint writes p to path atomically.
func saveFTCheckpoint(path string, key [32]byte, p *ftProgress) error {
	pcg, err := p.pcg.MarshalBinary()
	if err != nil {
		return fmt.Errorf("fine-tune checkpoint: rng state: %w", err)
	}
	_, err = writeChecksummedAtomic(path, func(w io.Writer) error {
		var hdr bytes.Buffer
		hdr.WriteString(ftCheckpointMagic)
		hdr.Write(key[:])
		u32 := func(v int) { binary.Write(&hdr, binary.LittleEndian, uint32(v)) }
		u32(p.epochs)
		u32(p.step)
		u32(len(pcg))
		hdr.Write(pcg)
		u32(len(p.order))
		for _, i := range p.order {
			u32(i)
		}
		for e := range p.epochs {
			binary.Write(&hdr, binary.LittleEndian, math.Float64bits(p.losses[e]))
			binary.Write(&hdr, binary.LittleEndian, int64(p.times[e]))
		}
		u32(len(p.state))
		if _, err := w.Write(hdr.Bytes()); err != nil {
			return err
		}
		for _, t := range p.state {
			var werr error
			tensors.MustConstFlatData(t, func(f []float32) {
				var n [4]byte
				binary.LittleEndian.PutUint32(n[:], uint32(len(f)))
				if _, werr = w.Write(n[:]); werr == nil {
					werr = writeFloats(w, f)
				}
			})
			if werr != nil {
				return werr
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("fine-tune checkpoint %s: %w", path, err)
	}
	return nil
}

// errStaleCheckpoint: the file is intact but belongs to another fine-tune.
var errStaleCheckpoint = errors.New("checkpoint of another fine-tune")

// loadFTCheckpoint reads the checkpoint at path into fresh tensors of the
// shapes of like (FineTune's initial state). It returns errStaleCheckpoint
// for another key and a corruptError for a damaged file.
func loadFTCheckpoint(path string, key [32]byte, like []*tensors.Tensor, maxEpochs int) (*ftProgress, error) {
	r, err := openChecked(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	magic := make([]byte, len(ftCheckpointMagic))
	if err := r.readFull(magic); err != nil {
		return nil, err
	}
	if string(magic) != ftCheckpointMagic {
		return nil, corruptf("not a fine-tune checkpoint (bad magic)")
	}
	var got [32]byte
	if err := r.readFull(got[:]); err != nil {
		return nil, err
	}
	if got != key {
		return nil, errStaleCheckpoint
	}
	var buf [8]byte
	u32 := func() (int, error) {
		if err := r.readFull(buf[:4]); err != nil {
			return 0, err
		}
		return int(binary.LittleEndian.Uint32(buf[:4])), nil
	}
	p := &ftProgress{}
	if p.epochs, err = u32(); err != nil {
		return nil, err
	}
	if p.step, err = u32(); err != nil {
		return nil, err
	}
	if p.epochs > maxEpochs {
		return nil, corruptf("checkpoint says %d epochs done, the run has %d", p.epochs, maxEpochs)
	}
	n, err := u32()
	if err != nil {
		return nil, err
	}
	if n > 64 {
		return nil, corruptf("rng state of %d bytes", n)
	}
	pcg := make([]byte, n)
	if err := r.readFull(pcg); err != nil {
		return nil, err
	}
	p.pcg = rand.NewPCG(0, 0)
	if err := p.pcg.UnmarshalBinary(pcg); err != nil {
		return nil, corruptf("rng state: %v", err)
	}
	if n, err = u32(); err != nil {
		return nil, err
	}
	if err := r.expectPayloadAtLeast(int64(4 * n)); err != nil {
		return nil, err
	}
	p.order = make([]int, n)
	for i := range p.order {
		if p.order[i], err = u32(); err != nil {
			return nil, err
		}
		if p.order[i] >= n {
			return nil, corruptf("example order holds %d of %d", p.order[i], n)
		}
	}
	for range p.epochs {
		if err := r.readFull(buf[:]); err != nil {
			return nil, err
		}
		p.losses = append(p.losses, math.Float64frombits(binary.LittleEndian.Uint64(buf[:])))
		if err := r.readFull(buf[:]); err != nil {
			return nil, err
		}
		p.times = append(p.times, time.Duration(binary.LittleEndian.Uint64(buf[:])))
	}
	if n, err = u32(); err != nil {
		return nil, err
	}
	if n != len(like) {
		return nil, corruptf("checkpoint holds %d tensors, the model needs %d", n, len(like))
	}
	for _, l := range like {
		size, err := u32()
		if err != nil {
			return nil, err
		}
		if size != l.Shape().Size() {
			return nil, corruptf("checkpoint tensor of %d values where the model has %s", size, l.Shape())
		}
		t := tensors.FromShape(l.Shape())
		var rerr error
		tensors.MustMutableFlatData(t, func(f []float32) { rerr = r.readFloats(f) })
		if rerr != nil {
			return nil, rerr
		}
		p.state = append(p.state, t)
	}
	if _, err := r.verify(); err != nil {
		return nil, err
	}
	return p, nil
}

// resumeFineTune returns the saved progress of the fine-tune key at path,
// or nil when there is none to use; a damaged or stale file is reported to
// log and left to be overwritten by the next save.
func resumeFineTune(path string, key [32]byte, like []*tensors.Tensor, maxEpochs int, log io.Writer) (*ftProgress, error) {
	if path == "" {
		return nil, nil
	}
	p, err := loadFTCheckpoint(path, key, like, maxEpochs)
	switch {
	case err == nil:
		if log != nil {
			fmt.Fprintf(log, "fine-tune: resuming from %s after epoch %d/%d\n", path, p.epochs, maxEpochs)
		}
		return p, nil
	case errors.Is(err, os.ErrNotExist):
		return nil, nil
	case errors.Is(err, errStaleCheckpoint) || isCorrupt(err):
		if log != nil {
			fmt.Fprintf(log, "fine-tune: ignoring checkpoint %s (%v); starting afresh\n", path, err)
		}
		return nil, nil
	default:
		return nil, fmt.Errorf("fine-tune checkpoint %s: %w", path, err)
	}
}
