package isolation

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// root is the repository root, two levels above this package.
const root = "../.."

// TestMethodAndOversightAreIsolated is the real check: the sources of
// package method and package oversight, and of every package below them
// (method/internal/...: the methods' shared machinery), break no rule of
// their policies.
func TestMethodAndOversightAreIsolated(t *testing.T) {
	checked := 0
	for pkg, p := range map[string]Policy{"method": MethodPolicy(), "oversight": OversightPolicy()} {
		err := filepath.WalkDir(filepath.Join(root, pkg), func(dir string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() || d.Name() == "testdata" {
				return err
			}
			vs, err := Check(dir, p)
			if err != nil {
				return err
			}
			checked++
			for _, v := range vs {
				t.Errorf("%s: %v", dir, v)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if checked < 4 {
		t.Errorf("checked %d directories, want method, its internal packages and oversight", checked)
	}
}

// plant copies the non-test sources of the real package pkg into a temp
// directory and adds leak.go, so a planted leak is checked in the company
// of the real code (which must add nothing).
func plant(t *testing.T, pkg, leak string) string { return plantAs(t, pkg, "leak.go", leak) }

// plantAs is plant with the planted file named leakFile.
func plantAs(t *testing.T, pkg, leakFile, leak string) string {
	t.Helper()
	dir := t.TempDir()
	srcs, err := filepath.Glob(filepath.Join(root, pkg, "*.go"))
	if err != nil || len(srcs) == 0 {
		t.Fatalf("no sources in %s: %v", pkg, err)
	}
	for _, src := range srcs {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(src)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, leakFile), []byte("package "+pkg+"\n\n"+leak), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

type leakCase struct {
	name string
	code string
	want []string // "rule what" of each expected violation, in order; none for a control
}

// methodLeaks reads gold, or data that carries it, through each forbidden
// path; the controls use what a method may use.
var methodLeaks = []leakCase{
	{"eval import", `import "github.com/superalign/superalign/eval"

func leak(train, test []int) *eval.Hidden { return eval.NewHidden(train, test, 2) }
`, []string{"import github.com/superalign/superalign/eval"}},
	{"data.Load", `import (
	"context"

	"github.com/superalign/superalign/data"
)

func leak() []int {
	d, _ := data.Load(context.Background(), "sentiment", nil)
	_ = d
	return nil
}
`, []string{"selector data.Load"}},
	{"data.LoadBuiltin through an alias", `import (
	"context"

	ds "github.com/superalign/superalign/data"
)

func leak() { ds.LoadBuiltin(context.Background(), "spam", nil) }
`, []string{"selector data.LoadBuiltin"}},
	{"data.LoadFile", `import "github.com/superalign/superalign/data"

func leak() { data.LoadFile("gold.jsonl") }
`, []string{"selector data.LoadFile"}},
	{"data.ReadIDXFile", `import "github.com/superalign/superalign/data"

func leak() { data.ReadIDXFile("t10k-labels-idx1-ubyte") }
`, []string{"selector data.ReadIDXFile"}},
	{"split and balance indices", `import "github.com/superalign/superalign/data"

func leak(x interface{}) {
	idx := data.BalanceIndices(nil, 1)
	idx = data.SubsampleIndices(nil, idx, 900, 1)
	sp, _ := data.SplitIndices(nil, idx, 1, data.DefaultFractions)
	_, _ = data.SplitSeeded(nil, 1, data.DefaultFractions)
	_ = sp.TrainStrong
}
`, []string{"selector data.BalanceIndices", "selector data.SubsampleIndices", "selector data.SplitIndices", "selector data.SplitSeeded"}},
	{"Dataset type in a signature", `import "github.com/superalign/superalign/data"

func leak(d *data.Dataset) {}
`, []string{"selector data.Dataset"}},
	{"Labels on any value", `type labelled interface{ Labels(idx []int) []int }

func leak(d labelled, idx []int) []int { return d.Labels(idx) }
`, []string{"member .Labels()"}},
	{"Examples and ClassCounts on any value", `type holder interface{ ClassCounts() []int }

func leak(d struct{ Examples []struct{ Label int } }, h holder) int {
	return d.Examples[0].Label + h.ClassCounts()[0]
}
`, []string{"member .Examples", "member .ClassCounts()"}},
	{"os.ReadFile", `import "os"

func leak() ([]byte, error) { return os.ReadFile("/tmp/gold.json") }
`, []string{"import os"}},
	{"os/exec", `import "os/exec"

func leak() { exec.Command("cat", "gold.json").Run() }
`, []string{"import os/exec"}},
	{"io/ioutil", `import "io/ioutil"

func leak() { ioutil.ReadFile("gold.json") }
`, []string{"import io/ioutil"}},
	{"net/http", `import "net/http"

func leak() { http.Get("http://127.0.0.1:8080/label") }
`, []string{"import net/http"}},
	{"net", `import "net"

func leak() { net.Dial("tcp", "127.0.0.1:8080") }
`, []string{"import net"}},
	{"oracle client in a method", `import "github.com/superalign/superalign/oracle"

func leak() { oracle.NewClient("http://127.0.0.1:1", "run", "tok") }
`, []string{"import github.com/superalign/superalign/oracle"}},
	{"unsafe", `import "unsafe"

func leak(p *int) uintptr { return uintptr(unsafe.Pointer(p)) }
`, []string{"import unsafe"}},
	{"embed", `import _ "embed"

//go:embed gold.json
var gold []byte
`, []string{"import embed"}},
	{"filepath.Glob", `import "path/filepath"

func leak() { filepath.Glob("/root/.cache/superalign/*") }
`, []string{"selector filepath.Glob"}},
	{"dot import of data", `import . "github.com/superalign/superalign/data"

func leak() { SplitIndices(nil, nil, 1, DefaultFractions) }
`, []string{"dot-import github.com/superalign/superalign/data"}},
	{"store", `import "github.com/superalign/superalign/store"

func leak() { store.ReadResults("runs/x") }
`, []string{"import github.com/superalign/superalign/store"}},
	{"data.CheckInputs", `import (
	"context"

	"github.com/superalign/superalign/data"
)

func leak() { data.CheckInputs(context.Background(), []string{"sentiment"}, nil) }
`, []string{"selector data.CheckInputs"}},
	// Controls: what methods legitimately use.
	{"control: matrices and one-hot", `import (
	"path/filepath"

	"github.com/superalign/superalign/data"
)

type result struct{ Labels data.Matrix }

func fine(p data.Matrix, y []int) result {
	_ = filepath.Join("a", "b")
	return result{Labels: data.OneHot(p.Argmax(), p.Cols)}
}
`, nil},
	{"control: a local variable named like a package", `import "github.com/superalign/superalign/data"

type loader struct{}

func (loader) Load() data.Matrix { return data.Matrix{} }

func fine() data.Matrix {
	data := loader{}
	return data.Load()
}
`, nil},
}

// budgetLeaks open a gold budget of any size outside the files allowed to
// (the executor's run.go and the pool's gold.go in package method; the
// loop's loop.go in package oversight), each in its own package's terms.
var budgetLeaks = map[string]leakCase{
	"method": {"a method opening its own gold budget", `import "context"

type self struct{ pool *GoldPool }

func (s self) Name() string { return "self" }

func (s self) Plan(ctx context.Context, v *View) (*Plan, error) {
	v.Gold = s.pool.OpenBudget(1 << 20) // all of train_weak's gold with strong features
	return nil, nil
}
`, []string{"member .OpenBudget()"}},
	"oversight": {"oversight opening a gold budget outside the loop", `import "github.com/superalign/superalign/method"

func leak(e *method.Executor, v *method.View) { v.Gold = e.Gold.OpenBudget(1 << 20) }
`, []string{"member .OpenBudget()"}},
}

func TestPlantedLeaksAreCaught(t *testing.T) {
	check := func(t *testing.T, pkg string, p Policy, cases []leakCase) {
		for _, tc := range cases {
			t.Run(pkg+"/"+tc.name, func(t *testing.T) {
				vs, err := Check(plant(t, pkg, tc.code), p)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, v := range vs {
					if filepath.Base(v.Pos.Filename) != "leak.go" {
						t.Errorf("the real %s sources were flagged: %v", pkg, v)
						continue
					}
					got = append(got, v.Rule+" "+v.What)
				}
				if strings.Join(got, "; ") != strings.Join(tc.want, "; ") {
					t.Errorf("violations %q, want %q\n%v", got, tc.want, vs)
				}
			})
		}
	}
	check(t, "method", MethodPolicy(), append(methodLeaks, budgetLeaks["method"]))
	// Oversight: the same leaks, except the two package boundaries it has
	// (eval for pure statistics, oracle's client), which get their own cases.
	var oversightLeaks []leakCase
	for _, tc := range methodLeaks {
		if tc.name != "eval import" && tc.name != "oracle client in a method" {
			oversightLeaks = append(oversightLeaks, tc)
		}
	}
	check(t, "oversight", OversightPolicy(), append(oversightLeaks, budgetLeaks["oversight"],
		leakCase{"eval gold holder", `import "github.com/superalign/superalign/eval"

func leak(h *eval.Hidden) int { return h.K() }
`, []string{"selector eval.Hidden"}},
		leakCase{"oracle server side", `import "github.com/superalign/superalign/oracle"

func leak() { oracle.NewServer(oracle.Config{}) }
`, []string{"selector oracle.NewServer", "selector oracle.Config"}},
		leakCase{"control: oracle client and pure statistics", `import (
	"context"

	"github.com/superalign/superalign/eval"
	"github.com/superalign/superalign/oracle"
)

func fine(c *oracle.Client, xs []float64) {
	c.Label(context.Background(), []int{1})
	eval.MeanCI(xs, 1, 100)
	eval.TInterval(xs, 0.95)
}
`, nil}))
}

// TestPureEvalStatisticsTakeNoGold: the eval functions oversight may call
// exist and their signatures mention no type of package eval, so none can
// be handed, or hand back, a gold holder.
func TestPureEvalStatisticsTakeNoGold(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, filepath.Join(root, "eval"), func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	evalTypes := map[string]bool{}
	funcs := map[string]*ast.FuncDecl{}
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, d := range f.Decls {
				switch d := d.(type) {
				case *ast.GenDecl:
					for _, s := range d.Specs {
						if ts, ok := s.(*ast.TypeSpec); ok {
							evalTypes[ts.Name.Name] = true
						}
					}
				case *ast.FuncDecl:
					if d.Recv == nil {
						funcs[d.Name.Name] = d
					}
				}
			}
		}
	}
	for _, name := range PureEvalStatistics {
		fn := funcs[name]
		if fn == nil {
			t.Errorf("eval.%s: no such function", name)
			continue
		}
		ast.Inspect(fn.Type, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok && evalTypes[id.Name] {
				// Result structs of plain numbers (SignFlip) are allowed
				// when they hold no eval type themselves; anything else
				// is a way to gold.
				if !plainStruct(pkgs, id.Name, evalTypes) {
					t.Errorf("eval.%s mentions eval.%s in its signature", name, id.Name)
				}
			}
			return true
		})
	}
}

// plainStruct reports whether eval's type name is a struct whose fields are
// all numbers or booleans.
func plainStruct(pkgs map[string]*ast.Package, name string, evalTypes map[string]bool) bool {
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, d := range f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok {
					continue
				}
				for _, s := range g.Specs {
					ts, ok := s.(*ast.TypeSpec)
					if !ok || ts.Name.Name != name {
						continue
					}
					st, ok := ts.Type.(*ast.StructType)
					if !ok {
						return false
					}
					for _, fld := range st.Fields.List {
						id, ok := fld.Type.(*ast.Ident)
						if !ok || evalTypes[id.Name] {
							return false
						}
						switch id.Name {
						case "float64", "int", "bool":
						default:
							return false
						}
					}
					return true
				}
			}
		}
	}
	return false
}

// TestDataAPIClassified: every exported name of package data, and every
// method of Dataset, is either forbidden by the rules or known to carry no
// gold. A new loader or label accessor added to data fails here until it is
// classified, so the rules cannot fall behind the package.
func TestDataAPIClassified(t *testing.T) {
	safe := map[string]bool{
		"Matrix": true, "NewMatrix": true, "MatrixFromRows": true, "OneHot": true,
		"BuiltinInfo": true, "Builtins": true, "InputError": true, "DefaultFractions": true,
		"IsBuiltin": true, "DisplayNames": true, // names, no data
		"TaskText": true, "TaskFeatures": true, "TaskImage": true,
		// preference pairs: class names and format and task names, no data
		"PairClasses": true, "PairA": true, "FormatHH": true, "FormatUltraFeedbck": true, "FormatPlainPairs": true,
		"TaskClassification": true, "TaskPreference": true,
	}
	// Dataset methods that reveal no label; the others must be member rules.
	safeDatasetMethods := map[string]bool{"K": true, "Texts": true, "IsImage": true, "Pixels": true, "ContentHash": true,
		"IsPairwise": true, "PairTexts": true, // pairs: the sides' texts (positions are a coin's), no label
		"HasValue": true, "ValueHash": true} // whether a value channel exists, and a hash of it: no label
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, filepath.Join(root, "data"), func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	rules := members()
	seen := 0
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, d := range f.Decls {
				var names []string
				switch d := d.(type) {
				case *ast.FuncDecl:
					if d.Recv != nil {
						recv := fmt.Sprint(d.Recv.List[0].Type)
						if strings.Contains(recv, "Dataset") && d.Name.IsExported() {
							if _, ruled := rules[d.Name.Name]; !ruled && !safeDatasetMethods[d.Name.Name] {
								t.Errorf("data.Dataset.%s is neither a member rule nor known safe: classify it", d.Name.Name)
							}
						}
						continue
					}
					names = append(names, d.Name.Name)
				case *ast.GenDecl:
					for _, s := range d.Specs {
						switch s := s.(type) {
						case *ast.TypeSpec:
							names = append(names, s.Name.Name)
						case *ast.ValueSpec:
							for _, n := range s.Names {
								names = append(names, n.Name)
							}
						}
					}
				}
				for _, n := range names {
					if !ast.IsExported(n) {
						continue
					}
					seen++
					if forbidden := dataRule(n) != ""; forbidden == safe[n] {
						t.Errorf("data.%s: forbidden by the rules = %v, listed safe = %v; it must be exactly one", n, forbidden, safe[n])
					}
				}
			}
		}
	}
	if seen < 20 {
		t.Errorf("only %d exported names found in package data: is the path right?", seen)
	}
}

func TestTestFilesAreNotChecked(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x_test.go"), []byte("package x\n\nimport \"os\"\n\nvar _ = os.ReadFile\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "x.go"), []byte("package x\n"), 0o644)
	vs, err := Check(dir, MethodPolicy())
	if err != nil || len(vs) != 0 {
		t.Errorf("test files were checked: %v %v", vs, err)
	}
	os.WriteFile(filepath.Join(dir, "bad.go"), []byte("package x\n\nfunc {"), 0o644)
	if _, err := Check(dir, MethodPolicy()); err == nil {
		t.Error("a file that does not parse must be an error, not a pass")
	}
}

// TestDriftStrategiesAreIsolated is the real check of drift's strategy
// side (view.go, strategy.go, strategy_*.go), which shares its package
// with the runner that holds every phase's gold.
func TestDriftStrategiesAreIsolated(t *testing.T) {
	dir := filepath.Join(root, "drift")
	vs, err := Check(dir, DriftStrategyPolicy())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		t.Errorf("%s: %v", dir, v)
	}
	srcs, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	confined := 0
	for _, s := range srcs {
		if IsDriftStrategyFile(filepath.Base(s)) {
			confined++
		}
	}
	if confined < 2 {
		t.Errorf("%d strategy-side files in %s, want view.go and strategy.go at least", confined, dir)
	}
}

// driftLeaks are strategies reaching for gold around their View.
var driftLeaks = []leakCase{
	{"scenario gold through a loader", `import "context"

type leaky struct{}

func (leaky) Step(v *View) (Update, error) {
	sc, _ := Load(context.Background(), "spam-abrupt", 0, nil)
	_ = sc.goldOf(v.Phase, 0)
	return Update{}, nil
}
`, []string{"name Load", "member .goldOf"}},
	{"the runner's types", `func leak(r *runner, su *seedSetup) []int { return su.tr.splits[0].train }
`, []string{"name runner", "name seedSetup", "member .tr", "member .splits", "member .train"}},
	{"the purse's oracle client", `import "context"

func leak(v *View) { v.Purse.client.Label(context.Background(), []int{0}) }
`, []string{"member .client"}},
	{"the oracle and reflect", `import (
	"reflect"

	"github.com/superalign/superalign/oracle"
)

func leak(v *View) (*oracle.Client, reflect.Value) { return nil, reflect.ValueOf(v.Purse).Elem().FieldByName("client") }
`, []string{"import reflect", "import github.com/superalign/superalign/oracle"}},
	{"a member named like the runner's", `type sneaky struct{ client int }

func (s sneaky) get() int { return s.client }
`, []string{"shared-name client"}},
	{"control: a strategy through its view and purse", `import (
	"math"

	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/train"
)

type fine struct{ weight float32 }

func (f fine) Step(v *View) (Update, error) {
	rows := v.Rows(v.Phase)
	var p *Purse = v.Purse
	labels, err := p.Buy(rows[:min(p.Left(), len(rows))])
	if err != nil {
		return Update{}, err
	}
	t := data.OneHot(labels, v.Weak.Cols)
	_ = v.Purse.Escalate([]Escalation{{Row: rows[0], Student: v.Prev.Row(rows[0]), Supervisor: v.Weak.Row(rows[0])}})
	hs, _ := v.Purse.Human()
	_ = hs
	return Update{Objective: train.Objective{Targets: t, Rows: rows}, Monitor: math.NaN()}, nil
}
`, nil},
}

func TestDriftPlantedLeaksAreCaught(t *testing.T) {
	for _, tc := range driftLeaks {
		t.Run(tc.name, func(t *testing.T) {
			vs, err := Check(plantAs(t, "drift", "strategy_leak.go", tc.code), DriftStrategyPolicy())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, v := range vs {
				if filepath.Base(v.Pos.Filename) != "strategy_leak.go" {
					t.Errorf("the real drift sources were flagged: %v", v)
					continue
				}
				got = append(got, v.Rule+" "+v.What)
			}
			if strings.Join(got, "; ") != strings.Join(tc.want, "; ") {
				t.Errorf("violations %q, want %q\n%v", got, tc.want, vs)
			}
		})
	}
	// The runner's own files are not confined: the same code there passes.
	vs, err := Check(plantAs(t, "drift", "runner_leak.go", driftLeaks[1].code), DriftStrategyPolicy())
	if err != nil || len(vs) != 0 {
		t.Errorf("an unconfined file was checked: %v %v", vs, err)
	}
}
