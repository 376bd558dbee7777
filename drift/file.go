package drift

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/superalign/superalign/data"
)

// FilePhases is how many phases a `time` column is cut into: equal-count
// groups of consecutive rows, never splitting one time value.
const FilePhases = 4

// ReadFile reads a user's stream: a JSONL or CSV file with the columns of
// any data file (text and label, read and checked by data.LoadFile) and a
// `phase` column (each distinct value one phase, in file order) or a
// numeric `time` column (cut into FilePhases phases of consecutive rows).
// Rows must be in time order. A row's label is its phase's value for it
// and is taken to hold in every phase (a file states one label per row),
// so forgetting is measured on every row. perPhase caps each phase's rows
// (the first ones; 0 keeps all).
//
// Errors name the file and line: no time or phase column, a time that is
// not a number, time going backwards, a phase with one class.
func ReadFile(path string, perPhase int) (*Scenario, error) {
	d, err := data.LoadFile(path)
	if err != nil {
		return nil, err
	}
	if d.K() < 2 {
		return nil, fmt.Errorf("%s: %d class(es), need at least 2", path, d.K())
	}
	col, times, err := readTimes(path)
	if err != nil {
		return nil, err
	}
	byLine := map[int]string{}
	for _, t := range times {
		byLine[t.line] = t.value
	}
	// Phases: consecutive runs of one value (phase), or of numeric time.
	type run struct {
		key  string
		num  float64
		rows []int
	}
	var runs []run
	for i, ex := range d.Examples {
		v, ok := byLine[ex.Line]
		if !ok || strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("%s:%d: empty %q", path, ex.Line, col)
		}
		v = strings.TrimSpace(v)
		var num float64
		if col == "time" {
			num, err = strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: time %q is not a number (use a phase column for named phases)", path, ex.Line, v)
			}
			if n := len(runs); n > 0 && num < runs[n-1].num {
				return nil, fmt.Errorf("%s:%d: time %v comes after %v: rows must be in time order (time must not decrease)", path, ex.Line, v, runs[n-1].key)
			}
		}
		if n := len(runs); n > 0 && runs[n-1].key == v {
			runs[n-1].rows = append(runs[n-1].rows, i)
			continue
		}
		if col == "phase" {
			for _, r := range runs {
				if r.key == v {
					return nil, fmt.Errorf("%s:%d: phase %q appears again after phase %q: rows must be grouped by phase, in order", path, ex.Line, v, runs[len(runs)-1].key)
				}
			}
		}
		runs = append(runs, run{key: v, num: num, rows: []int{i}})
	}
	// A time column: group the runs into FilePhases phases of about equal
	// size (a run is never split).
	var phases []Phase
	if col == "time" {
		if len(runs) < 2 {
			return nil, fmt.Errorf("%s: one time value (%s) for every row: a stream needs at least 2", path, runs[0].key)
		}
		want := (len(d.Examples) + FilePhases - 1) / FilePhases
		cur := Phase{}
		first := ""
		for k, r := range runs {
			if len(cur.Pool) == 0 {
				first = r.key
			}
			cur.Pool = append(cur.Pool, r.rows...)
			if len(cur.Pool) >= want || k == len(runs)-1 {
				cur.Name = first + "–" + r.key
				if first == r.key {
					cur.Name = first
				}
				phases = append(phases, cur)
				cur = Phase{}
			}
		}
	} else {
		for _, r := range runs {
			phases = append(phases, Phase{Name: r.key, Pool: r.rows})
		}
	}
	for p := range phases {
		if perPhase > 0 && len(phases[p].Pool) > perPhase {
			phases[p].Pool = phases[p].Pool[:perPhase]
		}
		classes := map[int]bool{}
		for _, i := range phases[p].Pool {
			classes[d.Examples[i].Label] = true
		}
		if len(classes) < 2 {
			var only string
			for c := range classes {
				only = d.Classes[c]
			}
			return nil, fmt.Errorf("%s:%d: phase %q has one class (%q): every phase needs at least 2 classes to re-fit a supervisor on", path, d.Examples[phases[p].Pool[0]].Line, phases[p].Name, only)
		}
	}
	g := make([]int, len(d.Examples))
	for i, ex := range d.Examples {
		g[i] = ex.Label
	}
	s := &Scenario{Name: filepath.Base(path), Data: d, Classes: d.Classes, Phases: phases, ChangePoint: 1,
		Description: fmt.Sprintf("user stream %s, %d phases by %s", filepath.Base(path), len(phases), col)}
	for range phases {
		s.gold = append(s.gold, g)
	}
	return s, nil
}

type timeCell struct {
	line  int
	value string
}

// readTimes reads the phase or time column of a JSONL or CSV file, with
// the 1-based line of each row as data.LoadFile numbers it.
func readTimes(path string) (col string, out []timeCell, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		cr := csv.NewReader(bufio.NewReader(f))
		header, err := cr.Read()
		if err != nil {
			return "", nil, fmt.Errorf("%s:1: %w", path, err)
		}
		idx := -1
		for i, h := range header {
			h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
			if h == "time" || h == "phase" {
				if idx >= 0 {
					return "", nil, fmt.Errorf("%s:1: both a time and a phase column: keep one", path)
				}
				idx, col = i, h
			}
		}
		if idx < 0 {
			return "", nil, fmt.Errorf("%s:1: missing column \"time\" (or \"phase\") in header (columns: %s): a drift stream orders its rows in time", path, strings.Join(header, ", "))
		}
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return "", nil, fmt.Errorf("%s: %w", path, err)
			}
			line, _ := cr.FieldPos(0)
			out = append(out, timeCell{line, rec[idx]})
		}
		return col, out, nil
	case ".jsonl", ".ndjson":
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<28)
		line := 0
		for sc.Scan() {
			line++
			b := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
			if b == "" {
				continue
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal([]byte(b), &m); err != nil {
				return "", nil, fmt.Errorf("%s:%d: %w", path, line, err)
			}
			_, hasT := m["time"]
			_, hasP := m["phase"]
			c := ""
			switch {
			case hasT && hasP:
				return "", nil, fmt.Errorf("%s:%d: both a time and a phase field: keep one", path, line)
			case hasT:
				c = "time"
			case hasP:
				c = "phase"
			default:
				return "", nil, fmt.Errorf("%s:%d: missing field \"time\" (or \"phase\"): a drift stream orders its rows in time", path, line)
			}
			if col != "" && c != col {
				return "", nil, fmt.Errorf("%s:%d: field %q, but earlier rows have %q", path, line, c, col)
			}
			col = c
			raw := m[c]
			var s string
			if json.Unmarshal(raw, &s) != nil {
				s = string(raw)
			}
			out = append(out, timeCell{line, s})
		}
		if err := sc.Err(); err != nil {
			return "", nil, fmt.Errorf("%s: %w", path, err)
		}
		return col, out, nil
	}
	return "", nil, fmt.Errorf("%s: a drift stream is a .jsonl, .ndjson or .csv file", path)
}

// WriteFile writes a scenario as a user stream (JSONL: text, label and
// time when the scenario knows its examples' times, else phase), each row
// labelled under its own phase's values, in time order: the file form of a
// built-in scenario, and how a real user file is built for the tests.
func WriteFile(s *Scenario, w io.Writer) error {
	type rec struct {
		i, p int
	}
	var recs []rec
	for p, ph := range s.Phases {
		for _, i := range ph.Pool {
			recs = append(recs, rec{i, p})
		}
	}
	if s.times != nil {
		sort.SliceStable(recs, func(a, b int) bool { return s.times[recs[a].i] < s.times[recs[b].i] })
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, r := range recs {
		m := map[string]any{"text": s.Data.Examples[r.i].Text, "label": s.Classes[s.goldOf(r.p, r.i)]}
		if s.times != nil {
			m["time"] = s.times[r.i]
		} else {
			m["phase"] = s.Phases[r.p].Name
		}
		if err := enc.Encode(m); err != nil {
			return err
		}
	}
	return nil
}
