// Package progress reports the advance of long steps: a bar with rate and ETA
// redrawn in place on a terminal, plain lines (at most one every few seconds)
// when the output is a log file or CI.
//
// Example:
//
//	bar := progress.New(os.Stderr, "glove: embedding", len(texts), "sentences")
//	for i := range texts { ...; bar.Add(1) }
//	bar.Done()
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Bar tracks one step of known size. It is safe for concurrent Add calls.
// A nil *Bar is valid and does nothing, so callers can pass nil to stay quiet.
type Bar struct {
	mu       sync.Mutex
	w        io.Writer
	label    string
	unit     string
	total    int
	done     int
	start    time.Time
	last     time.Time
	terminal bool
	every    time.Duration
}

// New starts a bar over total units written to w (nil w gives a nil Bar).
func New(w io.Writer, label string, total int, unit string) *Bar {
	if w == nil {
		return nil
	}
	b := &Bar{w: w, label: label, unit: unit, total: total, start: time.Now(), terminal: IsTerminal(w)}
	b.every = 5 * time.Second
	if b.terminal {
		b.every = 100 * time.Millisecond
	}
	return b
}

// IsTerminal reports whether w is a character device (a terminal).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Add records n more finished units and redraws when due.
func (b *Bar) Add(n int) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	now := time.Now()
	if now.Sub(b.last) >= b.every {
		b.last = now
		b.draw(now, false)
	}
}

// Done prints the final line with the total time.
func (b *Bar) Done() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.draw(time.Now(), true)
}

func (b *Bar) draw(now time.Time, final bool) {
	elapsed := now.Sub(b.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(b.done) / elapsed
	}
	var line string
	if final {
		line = fmt.Sprintf("%s: %d %s in %.1fs (%.0f %s/s)", b.label, b.done, b.unit, elapsed, rate, b.unit)
	} else {
		eta := "?"
		if rate > 0 && b.total > 0 {
			eta = (time.Duration(float64(b.total-b.done)/rate) * time.Second).Round(time.Second).String()
		}
		frac := 0.0
		if b.total > 0 {
			frac = float64(b.done) / float64(b.total)
		}
		bar := ""
		if b.terminal {
			const width = 24
			filled := min(width, int(frac*width))
			bar = "[" + strings.Repeat("#", filled) + strings.Repeat(".", width-filled) + "] "
		}
		line = fmt.Sprintf("%s: %s%d/%d %s (%3.0f%%) %.0f %s/s ETA %s", b.label, bar, b.done, b.total, b.unit, 100*frac, rate, b.unit, eta)
	}
	if b.terminal {
		end := ""
		if final {
			end = "\n"
		}
		fmt.Fprintf(b.w, "\r\033[K%s%s", line, end)
		return
	}
	fmt.Fprintln(b.w, line)
}
