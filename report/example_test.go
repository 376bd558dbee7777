package report_test

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/superalign/superalign/eval"
	"github.com/superalign/superalign/report"
	"github.com/superalign/superalign/store"
)

func ExampleRender() {
	pgr := 0.5
	rows := []store.Row{{Dataset: "sst2", Weak: "bow:linear", Strong: "glove:linear", Method: "naive",
		FloorAcc: 0.6, CeilingAcc: 0.8, W2SAcc: 0.7, PGR: &pgr, PGRCILow: &pgr, PGRCIHigh: &pgr}}
	var page bytes.Buffer
	err := report.Render(&page, report.Meta{Title: "demo", Created: time.Unix(0, 0)},
		rows, eval.Summarize(rows, eval.Options{Seed: 1}), nil)
	fmt.Println(err, strings.Count(page.String(), "<svg"), strings.Contains(page.String(), "0.500"))
	// Output: <nil> 2 true
}
