// Package isolation checks the source half of gold isolation: packages that
// must never see hidden gold (method, oversight, and the strategy files of
// drift) may not import the gold holder, load or split datasets themselves,
// read a dataset's labels, or touch files and the network. internal/goldwalk checks the other half, the
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
	// Confine, when set, checks only some files of the package (the
	// strategy side of package drift) and keeps them from the rest.
	Confine *Confinement
}

// Confinement draws a boundary inside one package: the confined files (a
// drift strategy and the View it is handed) share package drift with the
// runner, whose unexported truth, scenario and oracle server hold every
// phase's gold, so visibility alone cannot keep them apart. In a confined
// file the check forbids, besides the policy's rules, every package-level
// name declared in the package's other files (except Shared), and every
// unexported field or method name declared there (x.goldOf, p.client,
// su.tr). Without type checking a member name declared on both sides could
// be either, so a confined file may not declare one: it must be renamed.
type Confinement struct {
	// Files says whether a file (base name) is confined.
	Files func(base string) bool
	// Shared are the other files' package-level names confined files may
	// use (the Purse a View carries).
	Shared map[string]bool
	Reason string
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
	var files []*ast.File
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
		files = append(files, f)
	}
	var b *boundary
	if p.Confine != nil {
		b = p.Confine.scan(fset, files)
	}
	var out []Violation
	for _, f := range files {
		base := filepath.Base(fset.Position(f.Package).Filename)
		if b != nil && !p.Confine.Files(base) {
			continue
		}
		out = append(out, checkFile(fset, f, p, base)...)
		if b != nil {
			out = append(out, b.check(fset, f, p.Confine)...)
		}
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

// boundary is what the unconfined files of a package declare.
type boundary struct {
	outside map[string]bool // package-level names of the unconfined files
	members map[string]bool // unexported field and method names declared there
	own     map[string]bool // field and method names the confined files declare
}

func (c *Confinement) scan(fset *token.FileSet, files []*ast.File) *boundary {
	b := &boundary{outside: map[string]bool{}, members: map[string]bool{}, own: map[string]bool{}}
	for _, f := range files {
		confined := c.Files(filepath.Base(fset.Position(f.Package).Filename))
		mem := b.members
		if confined {
			mem = b.own
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv != nil {
					mem[d.Name.Name] = true
				} else if !confined {
					b.outside[d.Name.Name] = true
				}
			case *ast.GenDecl:
				if confined {
					continue
				}
				for _, sp := range d.Specs {
					switch sp := sp.(type) {
					case *ast.TypeSpec:
						b.outside[sp.Name.Name] = true
					case *ast.ValueSpec:
						for _, n := range sp.Names {
							b.outside[n.Name] = true
						}
					}
				}
			}
		}
		// Fields of every struct type, local ones included.
		ast.Inspect(f, func(n ast.Node) bool {
			if st, ok := n.(*ast.StructType); ok {
				for _, fd := range st.Fields.List {
					for _, nm := range fd.Names {
						mem[nm.Name] = true
					}
				}
			}
			return true
		})
	}
	for n := range b.members {
		if ast.IsExported(n) {
			delete(b.members, n)
		}
	}
	return b
}

// check finds a confined file's uses of the other files' names.
func (b *boundary) check(fset *token.FileSet, f *ast.File, c *Confinement) []Violation {
	var out []Violation
	add := func(pos token.Pos, rule, what, reason string) {
		out = append(out, Violation{Pos: fset.Position(pos), Rule: rule, What: what, Reason: reason})
	}
	imported := map[string]bool{}
	for _, spec := range f.Imports {
		if path, err := strconv.Unquote(spec.Path.Value); err == nil {
			imported[localName(spec, path)] = true
		}
	}
	// Idents that name no package-level object: selected members and the
	// keys of composite literals (Update{Keep: true}).
	skip := map[*ast.Ident]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			skip[n.Sel] = true
			if id, ok := n.X.(*ast.Ident); ok && id.Obj == nil && imported[id.Name] {
				return true // a package-qualified name: the policy's rules
			}
			name := n.Sel.Name
			if b.members[name] && !b.own[name] {
				add(n.Sel.Pos(), "member", "."+name, c.Reason)
			}
		case *ast.CompositeLit:
			for _, e := range n.Elts {
				if kv, ok := e.(*ast.KeyValueExpr); ok {
					if id, ok := kv.Key.(*ast.Ident); ok {
						skip[id] = true
					}
				}
			}
		case *ast.StructType:
			for _, fd := range n.Fields.List {
				for _, nm := range fd.Names {
					if b.members[nm.Name] {
						add(nm.Pos(), "shared-name", nm.Name, "also a field or method of the runner's side: rename it, so that the check can tell a strategy's own member from the runner's")
					}
				}
			}
		case *ast.FuncDecl:
			if n.Recv != nil && b.members[n.Name.Name] {
				add(n.Name.Pos(), "shared-name", n.Name.Name, "also a field or method of the runner's side: rename it, so that the check can tell a strategy's own member from the runner's")
			}
		}
		return true
	})
	ast.Inspect(f, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok || id.Obj != nil || skip[id] || !b.outside[id.Name] || c.Shared[id.Name] {
			return true
		}
		add(id.Pos(), "name", id.Name, c.Reason)
		return true
	})
	return out
}
