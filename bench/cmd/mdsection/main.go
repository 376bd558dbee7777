// Command mdsection replaces one named section of a markdown file (BENCH.md)
// with new content, so each benchmark script owns its section and rerunning
// one never erases another's numbers.
//
//	mdsection -name NAME -in FRAGMENT.md -out BENCH.md
//
// A section is the text between "<!-- begin NAME -->" and "<!-- end NAME -->"
// lines; a missing section is appended. The file is replaced atomically.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/superalign/superalign/internal/atomicfile"
)

func main() {
	name := flag.String("name", "", "section name")
	in := flag.String("in", "", "file with the section's new content")
	out := flag.String("out", "BENCH.md", "markdown file to update")
	flag.Parse()
	if err := run(*name, *in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "mdsection:", err)
		os.Exit(1)
	}
}

func run(name, in, out string) error {
	if name == "" || in == "" {
		return fmt.Errorf("-name and -in are required")
	}
	body, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	old, err := os.ReadFile(out)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	return atomicfile.WriteFile(out, []byte(Replace(string(old), name, string(body))))
}

// Replace returns doc with section name's content set to body.
func Replace(doc, name, body string) string {
	begin, end := "<!-- begin "+name+" -->", "<!-- end "+name+" -->"
	section := begin + "\n" + strings.TrimRight(body, "\n") + "\n" + end + "\n"
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i >= 0 && j > i {
		return doc[:i] + section + strings.TrimPrefix(doc[j+len(end):], "\n")
	}
	if doc != "" && !strings.HasSuffix(doc, "\n\n") {
		doc = strings.TrimRight(doc, "\n") + "\n\n"
	}
	return doc + section
}
