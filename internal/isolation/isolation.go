// Package isolation checks the source half of gold isolation: packages that
// must never see hidden gold (method, oversight) may not import the gold
// holder, load or split datasets themselves, read a dataset's labels, or
// touch files and the network. internal/goldwalk checks the other half, the
// types a method is handed.
//
// The check parses source (go/parser, no type checking), so it runs even
// when the package does not compile, and its rules are by name: an import
// path, a package-qualified name (data.SplitIndices, through any import
// alias), or a member name on any value (.Labels(...), .Examples). Test
// files (_test.go) are not checked: tests load real data on purpose.
//
//	vs, err := isolation.Check("method", isolation.MethodPolicy())
//	for _, v := range vs {
//		fmt.Println(v) // method/leak.go:9:9: data.SplitIndices: ... split indices ...
//	}
package isolation

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Module is this repository's module path.
const Module = "github.com/superalign/superalign"

// Violation is one forbidden use in a source file.
type Violation struct {
	Pos token.Position
	// Rule is "import", "selector" (a package-qualified name), "member" (a
	// field or method name on any value) or "dot-import".
	Rule string
	// What names the use: an import path, "data.SplitIndices", ".Labels()".
	What   string
	Reason string
}

func (v Violation) String() string {
	return fmt.Sprintf("%s: %s: %s", v.Pos, v.What, v.Reason)
}

// Member forbids a field or method name on any value.
type Member struct {
	// CallOnly restricts the rule to calls (x.Labels(...)), so that a
	// package's own field of the same name (res.Labels = m) stays legal.
	CallOnly bool
	Reason   string
	// AllowedIn lists the files (base names) of the package where the
	// member may be used: the runner's own code inside a package it shares
	// with the code the rule keeps away (the executor in package method).
	AllowedIn map[string]bool
}

// Policy is what a package may not use.
type Policy struct {
	// Imports maps a forbidden import path to the reason; a key ending in
	// "/..." forbids the path and every path below it ("net/..." covers net
	// and net/http).
	Imports map[string]string
	// Selectors gives, per import path, a rule for package-qualified names:
	// it returns the reason a name is forbidden, "" when it is allowed.
	Selectors map[string]func(name string) string
	// Allowed lists, per import path that Imports forbids, names that may
	// be used anyway: such an import is legal, and each use of a name
	// outside the list is a violation (oversight may call eval.MeanCI,
	// pure statistics, but nothing that holds gold).
	Allowed map[string]map[string]bool
	// Members forbids field or method names on any value.
	Members map[string]Member
}

// Check parses the non-test Go files of dir (every file, whatever its build
// tags) and returns the policy's violations, ordered by position. It fails
// only when a file cannot be read or parsed.
func Check(dir string, p Policy) ([]Violation, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, fmt.Errorf("isolation: listing %s: %w", dir, err)
	}
	fset := token.NewFileSet()
	var out []Violation
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("isolation: %w", err)
		}
		// Mode 0 keeps object resolution, which tells a package name
		// (unresolved identifier) from a local variable of the same name.
		f, err := parser.ParseFile(fset, path, src, 0)
		if err != nil {
			return nil, fmt.Errorf("isolation: parsing %s: %w", path, err)
		}
		out = append(out, checkFile(fset, f, p, filepath.Base(path))...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Pos, out[j].Pos
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return out, nil
}

// importReason is the policy's reason for forbidding path, "" if allowed.
func (p Policy) importReason(path string) string {
	if r, ok := p.Imports[path]; ok {
		return r
	}
	for k, r := range p.Imports {
		if prefix, ok := strings.CutSuffix(k, "/..."); ok && (path == prefix || strings.HasPrefix(path, prefix+"/")) {
			return r
		}
	}
	return ""
}

// localName is the name a file refers to an import by: its alias, or the
// last path element without a major-version suffix (math/rand/v2 → rand,
// gopkg.in/yaml.v3 → yaml).
func localName(spec *ast.ImportSpec, path string) string {
	if spec.Name != nil {
		return spec.Name.Name
	}
	parts := strings.Split(path, "/")
	last := parts[len(parts)-1]
	if len(parts) > 1 && len(last) > 1 && last[0] == 'v' && isDigits(last[1:]) {
		last = parts[len(parts)-2]
	}
	if i := strings.Index(last, ".v"); i > 0 && isDigits(last[i+2:]) {
		last = last[:i]
	}
	return last
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func checkFile(fset *token.FileSet, f *ast.File, p Policy, file string) []Violation {
	var out []Violation
	add := func(pos token.Pos, rule, what, reason string) {
		out = append(out, Violation{Pos: fset.Position(pos), Rule: rule, What: what, Reason: reason})
	}
	pkgs := map[string]string{} // local name → import path
	for _, spec := range f.Imports {
		path, err := strconv.Unquote(spec.Path.Value)
		if err != nil {
			continue
		}
		name := localName(spec, path)
		if name == "_" {
			// A blank import still runs the package's init; judge the
			// import path alone.
			if r := p.importReason(path); r != "" {
				add(spec.Pos(), "import", path, r)
			}
			continue
		}
		if name == "." {
			if p.importReason(path) != "" || p.Selectors[path] != nil || p.Allowed[path] != nil {
				add(spec.Pos(), "dot-import", path, "a dot import hides which of its names are used; import it by name")
				continue
			}
		}
		pkgs[name] = path
		if r := p.importReason(path); r != "" && p.Allowed[path] == nil {
			add(spec.Pos(), "import", path, r)
		}
	}

	// Calls, to tell x.Labels(...) from a field x.Labels.
	called := map[*ast.SelectorExpr]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok {
			if s, ok := ast.Unparen(c.Fun).(*ast.SelectorExpr); ok {
				called[s] = true
			}
		}
		return true
	})
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		name := sel.Sel.Name
		if id, ok := sel.X.(*ast.Ident); ok && id.Obj == nil {
			if path, isPkg := pkgs[id.Name]; isPkg {
				what := localName(&ast.ImportSpec{}, path) + "." + name
				if allowed := p.Allowed[path]; allowed != nil && !allowed[name] {
					add(sel.Pos(), "selector", what, p.importReason(path)+" (only "+strings.Join(sortedKeys(allowed), ", ")+" may be used)")
				}
				if rule := p.Selectors[path]; rule != nil {
					if r := rule(name); r != "" {
						add(sel.Pos(), "selector", what, r)
					}
				}
				return true
			}
		}
		if m, ok := p.Members[name]; ok && (!m.CallOnly || called[sel]) && !m.AllowedIn[file] {
			what := "." + name
			if m.CallOnly {
				what += "()"
			}
			add(sel.Sel.Pos(), "member", what, m.Reason)
		}
		return true
	})
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
