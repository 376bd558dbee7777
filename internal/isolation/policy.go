package isolation

import "strings"

// Reasons, shared by the policies.
const (
	reasonEval    = "package eval holds the hidden gold labels of train_strong and test"
	reasonFiles   = "file, process and system access: data must come in through the method's view, not from disk"
	reasonNetwork = "network access: only package oracle speaks HTTP (oversight buys gold through an *oracle.Client)"
	reasonRunner  = "this package runs or stores experiments and holds their gold splits"
	reasonLabels  = "Dataset.Labels returns gold labels"
	reasonExample = "Dataset.Examples carries every example's gold label"
	reasonOracle  = "the oracle server side holds gold; only its Client (budgeted, audited) may be used"
)

// commonImports are forbidden to both method and oversight.
func commonImports() map[string]string {
	return map[string]string{
		Module + "/eval":       reasonEval,
		Module + "/assets":     "fetches and unpacks dataset and model packages from disk and the network",
		Module + "/store":      "reads and writes results (scored against gold) on disk",
		Module + "/experiment": reasonRunner,
		Module + "/sweep":      reasonRunner,
		"os":                   reasonFiles,
		"os/...":               reasonFiles,
		"io/ioutil":            reasonFiles,
		"syscall":              reasonFiles,
		"golang.org/x/sys/...": reasonFiles,
		"plugin":               reasonFiles,
		"embed":                "embedding files would ship data (gold included) inside the package",
		"unsafe":               "unsafe can read the unexported gold of any value it reaches",
		"C":                    "cgo can do anything the process can",
		"database/...":         reasonFiles,
		"modernc.org/sqlite":   reasonFiles,
		"net":                  reasonNetwork,
		"net/...":              reasonNetwork,
		"crypto/tls":           reasonNetwork,
	}
}

// dataRule forbids the parts of package data that hold or produce gold:
// loaders (Load*, Read*, Open*, Fetch*), the balance / subsample / split
// functions and their index forms, and the types that carry labels
// (Dataset, Example, Split, IDX). data.Matrix, data.OneHot and the like stay
// legal: probabilities and labels a method was handed.
func dataRule(name string) string {
	switch {
	case hasAnyPrefix(name, "Load", "Read", "Open", "Fetch"):
		return "dataset loader: a method gets its data from the view, never from a dataset"
	case strings.Contains(name, "Split") || strings.Contains(name, "Balance") || strings.Contains(name, "Subsample") || name == "KeptIndices":
		return "split/balance/subsample indices index the gold-labelled dataset"
	case name == "Dataset" || name == "Example":
		return "a data." + name + " carries gold labels"
	case name == "IDX":
		return "raw IDX file contents (label files included)"
	case name == "CheckInputs":
		return "dataset loader: reads every dataset file in full to check it"
	case name == "EntryTask" || name == "CheckTask":
		return "dataset reader: opens --data files to tell a preference file from a classification file"
	case name == "Pair":
		return "a data.Pair carries the gold grades of its two responses (best-of-n)"
	}
	return ""
}

// filepathRule forbids the filepath functions that touch the file system
// (Join and friends are string operations and stay legal).
func filepathRule(name string) string {
	switch name {
	case "Walk", "WalkDir", "Glob", "EvalSymlinks", "Abs":
		return reasonFiles
	}
	return ""
}

// oracleRule forbids the server side of package oracle.
func oracleRule(name string) string {
	if strings.Contains(name, "Server") || strings.Contains(name, "Hidden") || strings.Contains(name, "Split") || name == "Config" {
		return reasonOracle
	}
	return ""
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func members() map[string]Member {
	return map[string]Member{
		"Labels":        {CallOnly: true, Reason: reasonLabels},
		"ClassCounts":   {CallOnly: true, Reason: "Dataset.ClassCounts counts gold labels"},
		"ClassCountsOf": {CallOnly: true, Reason: "Dataset.ClassCountsOf counts gold labels"},
		"Examples":      {Reason: reasonExample},
		// The value channel's labels are gold too (issue 15): a method sees
		// only the weak value supervisor's probabilities (View.Value).
		"Values": {CallOnly: true, Reason: "Dataset.Values returns the value channel's labels, gold of the value supervisor"},
	}
}

// reasonOpenBudget is why GoldPool.OpenBudget is kept to the runner.
const reasonOpenBudget = "GoldPool.OpenBudget sets how much train_weak gold with strong features a run may draw: only the executor " +
	"(method/run.go, capped at the method's declared gold=B) and the oversight loop (oversight/loop.go, the critic's gold, charged to " +
	"the loop's budget) open budgets"

// MethodPolicy is what package method may not use: eval, the runners and
// stores, dataset loaders and split/balance functions, Dataset.Labels and
// Dataset.Examples (and ClassCounts), files, processes, the network and the oracle (a method
// gets gold only through its view), and GoldPool.OpenBudget outside the
// executor (run.go) and the pool itself (gold.go).
func MethodPolicy() Policy {
	imports := commonImports()
	imports[Module+"/oracle"] = "a method gets gold only through its view, not from the oracle"
	m := members()
	m["OpenBudget"] = Member{CallOnly: true, Reason: reasonOpenBudget, AllowedIn: map[string]bool{"run.go": true, "gold.go": true}}
	return Policy{
		Imports: imports,
		Selectors: map[string]func(string) string{
			Module + "/data": dataRule,
			"path/filepath":  filepathRule,
		},
		Members: m,
	}
}

// PureEvalStatistics are the functions of package eval that oversight may
// call: statistics of plain numbers, with no way to reach gold (a test
// checks their signatures mention no eval type).
var PureEvalStatistics = []string{
	"MeanCI", "PairedDiffCI", "TInterval", "StratifiedTInterval", "SignFlipTest",
	"StratifiedSignFlipTest", "Holm", "RatioOfMeansCI", "WilcoxonSignedRank", "PGROverSeeds",
}

// OversightPolicy is MethodPolicy for package oversight, with two
// boundaries drawn by package: it may call oracle's Client (the oracle does
// the HTTP, under a budget and an audit log) but nothing of its server
// side, and it may import eval for PureEvalStatistics only. The loop
// (loop.go) opens its critic's gold budget, charged to Config.Budget.
func OversightPolicy() Policy {
	allowed := map[string]bool{}
	for _, n := range PureEvalStatistics {
		allowed[n] = true
	}
	m := members()
	m["OpenBudget"] = Member{CallOnly: true, Reason: reasonOpenBudget, AllowedIn: map[string]bool{"loop.go": true}}
	return Policy{
		Imports: commonImports(),
		Selectors: map[string]func(string) string{
			Module + "/data":   dataRule,
			Module + "/oracle": oracleRule,
			"path/filepath":    filepathRule,
		},
		Allowed: map[string]map[string]bool{Module + "/eval": allowed},
		Members: m,
	}
}

// DriftStrategyPolicy is what the strategy side of package drift may not
// use: the files that define View and the strategies (view.go,
// strategy.go, strategy_*.go). Besides MethodPolicy's rules (no eval, no
// files or network, no dataset loaders or labels), a strategy may not
// import the oracle (it buys gold and reaches the review desk through
// View.Purse, whose oracle run holds only the current phase's training
// rows) or reflect (which reads unexported fields), nor name anything the
// runner's files declare except the Purse type, nor select their
// unexported fields and methods: the runner's truth, scenario gold, splits
// and oracle server stay out of reach although they share the package.
func DriftStrategyPolicy() Policy {
	imports := commonImports()
	imports[Module+"/oracle"] = "a strategy buys gold and escalates to the review desk through View.Purse, never the oracle itself"
	imports["reflect"] = "reflect reads unexported fields: the purse's oracle client, the runner's truth"
	return Policy{
		Imports: imports,
		Selectors: map[string]func(string) string{
			Module + "/data": dataRule,
			"path/filepath":  filepathRule,
		},
		Members: members(),
		Confine: &Confinement{
			Files: IsDriftStrategyFile,
			// View.Purse is the strategy's one way to gold, and to the desk.
			Shared: map[string]bool{"Purse": true},
			Reason: "drift's runner side (run.go, purse.go, scenario.go, ...) holds every phase's gold and the oracle server; a strategy reaches it only through its View and the Purse's methods",
		},
	}
}

// IsDriftStrategyFile says whether a file of package drift is on the
// strategy side: new strategies go in strategy_*.go files.
func IsDriftStrategyFile(base string) bool {
	return base == "view.go" || base == "strategy.go" || strings.HasPrefix(base, "strategy_")
}
