package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/superalign/superalign/assets"
	"github.com/superalign/superalign/data"
	"github.com/superalign/superalign/encode"
	"github.com/superalign/superalign/experiment"
	"github.com/superalign/superalign/method"
	"github.com/superalign/superalign/student"
)

// newFlags makes a FlagSet whose --help prints the command's summary first.
func newFlags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: w2s %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags; --help returns errHelp so the caller exits 0.
func parse(fs *flag.FlagSet, args []string) (bool, error) {
	err := fs.Parse(args)
	if err == flag.ErrHelp {
		return true, nil
	}
	if err != nil {
		return false, usageError{err}
	}
	return false, nil
}

func table() *tabwriter.Writer { return tabwriterFor(os.Stdout) }

func cmdDatasets(ctx context.Context, args []string) error {
	fs := newFlags("datasets", "")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	w := table()
	fmt.Fprintln(w, "NAME\tTASK\tPACKAGE\tDESCRIPTION")
	for _, b := range data.Builtins() {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", b.Name, b.Task, b.Package, b.Description)
	}
	fmt.Fprintln(w, "PATH\tyour data\t-\tJSONL, CSV or Parquet with text|features|image and label columns")
	return w.Flush()
}

func cmdEncoders(ctx context.Context, args []string) error {
	fs := newFlags("encoders", "")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	w := table()
	fmt.Fprintln(w, "NAME\tKIND\tDIM\tDESCRIPTION")
	for _, e := range encode.Infos() {
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\n", e.Name, e.Kind, e.Dim, e.Description)
	}
	for _, e := range encode.CNNBlockForms() {
		fmt.Fprintf(w, "%s\t%s\t-\t%s\n", e.Name, e.Kind, e.Description)
	}
	fmt.Fprintln(w, "features\tvectors\t-\tthe dataset's own features column, passed through")
	fmt.Fprintf(w, "%sDIR\ttext\t-\tyour ONNX text encoder: DIR holds model.onnx + tokenizer.json (Hugging Face layout) or is hf:OWNER/REPO[@REV]; attention-masked mean of last_hidden_state (%sDIR: the [CLS] token)\n",
		encode.ONNXPrefix, encode.ONNXCLSPrefix)
	fmt.Fprintln(w, "\nStudents: ENC[:HEAD] is a probe (heads: linear, the default, and mlp) on the frozen encoder's features;")
	fmt.Fprintf(w, "ENC-ft fine-tunes the encoder end to end with a linear head (use-lite-ft, %sDIR, %sDIR; --ft-epochs, default %d; --ft-lr, default %g).\n",
		"onnx-ft:", "onnx-cls-ft:", student.DefaultFineTuneEpochs, student.DefaultFineTuneLR)
	fmt.Fprintln(w, "ENC-ft-topN fine-tunes only the top N transformer layers (use-lite-ft-top1), the layers below frozen and run once per text.")
	fmt.Fprintln(w, "The layers CNNs fine-tune the same way on images, at their SIZE (mobilenet-v2-96-ft; -ft-topN: the top N blocks, e.g. mobilenet-v2-96-ft-top2).")
	fmt.Fprintln(w, "Every method runs on either; the probes a method trains internally use the frozen features.")
	return w.Flush()
}

func cmdMethods(ctx context.Context, args []string) error {
	fs := newFlags("methods", "[--markdown | --godoc]")
	markdown := fs.Bool("markdown", false, "print METHODS.md (every method with reference, parameters and adaptation)")
	godoc := fs.Bool("godoc", false, "print method/catalogue.go (the same entries as a doc comment, for godoc)")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if *markdown {
		fmt.Print(methodsMarkdown())
		return nil
	}
	if *godoc {
		fmt.Print(methodsGodoc())
		return nil
	}
	w := table()
	fmt.Fprintln(w, "NAME\tDESCRIPTION\tREFERENCE\tTRAIN_WEAK GOLD")
	for _, m := range method.Infos() {
		name := m.Name
		if m.NotInAll != "" {
			name += " (not in all)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", name, m.Description, m.Reference, m.Gold)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Println("\nGold: methods reach train_weak gold with strong features only through gold=B (charged, recorded in gold_strong);")
	fmt.Println("weak-side refits are free and recorded (gold_used, gold_features). See METHODS.md.")
	fmt.Println("\nEvery method also takes " + method.GeneralOptions + ".")
	return nil
}

func cmdVersion(ctx context.Context, args []string) error {
	fmt.Println("w2s", experiment.Version)
	return nil
}

func cmdFetch(ctx context.Context, args []string) error {
	fs := newFlags("fetch", "[NAME...]   (no name: the assets the demo needs; 'all': every asset)")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	names := fs.Args()
	switch {
	case len(names) == 0:
		names = []string{"sentiment", "spam-assassin", "glove"}
	case len(names) == 1 && names[0] == "all":
		names = nil
		for _, p := range assets.Registry() {
			names = append(names, p.Name)
		}
	}
	for _, n := range names {
		dir, err := assets.Ensure(ctx, n, os.Stderr)
		if err != nil {
			return err
		}
		fmt.Printf("%s\t%s\n", n, dir)
	}
	return nil
}

// methodsMarkdown renders METHODS.md from the registry, so the document
// cannot drift from the code: `make methods-doc` rewrites it and a test
// checks the committed file is current.
func methodsMarkdown() string {
	var b strings.Builder
	b.WriteString("# Methods\n\nGenerated by `w2s methods --markdown` from the method registry; do not edit by hand.\n")
	b.WriteString("Run a method with parameters as `--method NAME:key=value,key=value`.\n\n")
	b.WriteString("Every method also takes " + method.GeneralOptions + ".\n\n")
	b.WriteString(goldAccounting)
	b.WriteString("| method | what it does | reference | parameters (defaults) | adaptation | train_weak gold |\n|---|---|---|---|---|---|\n")
	cell := func(s string) string {
		if s == "" {
			return "–"
		}
		return strings.ReplaceAll(s, "|", "\\|")
	}
	var notInAll []string
	for _, m := range method.Infos() {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", m.Name, cell(m.Description), cell(m.Reference), cell(m.Params), cell(m.Adaptation), cell(m.Gold))
		if m.NotInAll != "" {
			notInAll = append(notInAll, fmt.Sprintf("- `%s`: %s", m.Name, m.NotInAll))
		}
	}
	if len(notInAll) > 0 {
		b.WriteString("\nNot in `--method all` (run them by name):\n\n" + strings.Join(notInAll, "\n") + "\n")
	}
	b.WriteString(fidelityNotes)
	b.WriteString(competenceNotes)
	return b.String()
}

// methodsGodoc renders method/catalogue.go: every method's registry entry
// as the doc comment of method.Catalogue, so godoc shows the papers and
// adaptations that are written once, in each method's Info, as METHODS.md
// does. `make methods-doc` rewrites it and a test checks it is current.
func methodsGodoc() string {
	var b strings.Builder
	b.WriteString("// Code generated by `w2s methods --godoc` (make methods-doc); DO NOT EDIT.\n\npackage method\n\n")
	b.WriteString("// Catalogue names the generated list of the registered methods, which\n")
	b.WriteString("// follows: each method's description, the paper and code it follows, its\n")
	b.WriteString("// parameters, how superalign adapts it and the train_weak gold it reads,\n")
	b.WriteString("// from its Info, where they are written once (METHODS.md renders the same\n")
	b.WriteString("// entries).\n")
	para := func(label, text string) {
		if text == "" {
			return
		}
		b.WriteString("//\n")
		line := "//"
		for _, w := range strings.Fields(label + text) {
			if len(line)+1+len(w) > 78 && line != "//" {
				b.WriteString(line + "\n")
				line = "//"
			}
			line += " " + w
		}
		b.WriteString(line + "\n")
	}
	for _, m := range method.Infos() {
		fmt.Fprintf(&b, "//\n// # %s\n", m.Name)
		para("", m.Description+".")
		para("Reference: ", m.Reference+".")
		para("Parameters: ", m.Params+".")
		para("Adaptation: ", m.Adaptation+".")
		para("Train_weak gold: ", m.Gold+".")
		if m.NotInAll != "" {
			para("Not in --method all: ", m.NotInAll+".")
		}
	}
	b.WriteString("const Catalogue = \"METHODS.md\"\n")
	return b.String()
}

// goldAccounting opens METHODS.md: what train_weak gold a method may read
// and how results account it (method/gold.go).
const goldAccounting = `## Gold accounting and controls

train_weak is the weak supervisor's own training data, so its gold labels are the supervisor's. What a method may do with them
depends on the features they are paired with:

- **Strong features (charged).** Gold paired with the student's features or inputs is the student's ceiling in miniature: a
  strong probe trained on all of train_weak's gold is a distilled ceiling, not weak-to-strong generalisation. A method reaches
  it only by declaring ` + "`gold=B`" + ` (default 0; ` + "`selective`" + `, ` + "`pik-only`" + ` and ` + "`pik-random`" + ` default to 100 for P(IK)):
  the executor opens a budget of B labels, and the method draws a seeded subset of B train_weak examples with their gold and
  strong features. Every method of a cell draws the same examples for the same B (a smaller B's are a prefix of a larger B's).
- **Weak-side features (free, recorded).** Refitting weak models on train_weak gold with the weak encoder's features, or an
  encoder weaker than the student's (ensemble members and mixture weights, co-supervision specialists, the oversight critic's
  cross-fitted weak labels), builds more supervisors from the supervisor's own data. It is free, as the weak model's own
  training is: such a model cannot hold the student's knowledge. It is recorded all the same, because a better supervisor moves
  what "the floor" means. Features of the student's encoder, or of a stronger one, are refused for train_weak.

Every results row carries ` + "`gold_used`" + ` (distinct train_weak labels read), ` + "`gold_strong`" + ` (those drawn with strong
features, the budget B) and ` + "`gold_features`" + ` (` + "`strong`, `weak`, `strong+weak`" + ` or empty). The oversight loop charges
its critic's train_weak gold to the loop's budget (` + "`--critic-share`" + `, half by default).

Every comparison table carries controls: the A/A null ` + "`naive@aa`" + ` (naive with another student seed: its rate of
significant results is the table's false-positive rate), and for every method that draws B > 0 gold labels the gold-matched
controls ` + "`gold-probe:gold=B`" + ` (the student on the B gold labels alone) and ` + "`naive+gold:gold=B`" + ` (naive plus the same
B labels); ` + "`w2s run`" + ` adds them when a method draws gold, and compares such a method with them as well as with naive.

`

// fidelityNotes closes METHODS.md: the changes that brought methods back
// to their papers and reference code (issue 12), one line each.
const fidelityNotes = `
## Fidelity fixes (issue 12)

- ` + "`logconf`" + `: ` + "`schedule=linear`" + ` is the default, the paper's smooth warm-up as EleutherAI has it and as openai/weak-to-strong
  PR #33 ("Fix confidence loss to scale up correctly") corrects the released code's step schedule to; ` + "`schedule=step`" + ` stays.
- ` + "`topo-filter`" + `: removes round(contamination·N) in total, as EleutherAI's topofilter (remaining = round(N·c) − cc_removed): the
  ζ step drops what the component step left of the quota, nothing when the components removed more (it dropped the whole
  quota on top of them).
- ` + "`window`" + `: the in-window losses are summed and divided by the batch size, as EleutherAI (fixed in protocol 2; it divided by
  the in-window count).
- ` + "`cosupervise`" + `: refuses K = 2 before any work (level 2 would be one round of self-training on the student's argmax) and
  warns at K = 3 (one of level 2's specialists has one class); it runs on review-source, spam-subset, fashion-mnist, mnist.
- ` + "`bootstrap`" + `: the default chain (` + "`chain=auto`" + `) is the real intermediate encoders of the ladder (bow < glove < use-lite;
  pixels < mobilenet-v2 < mobilenet-v2-mid < inception-v3-139 < inception-v3), weaker than the student; a pair with none between
  is refused before any work; ` + "`weak:mlp`" + ` (the old default, not an intermediate model) is ` + "`chain=weak:mlp`" + `.
- ` + "`kl`" + `: left out of ` + "`--method all`" + `: it is naive up to a constant (same gradient, TestKLGradientEqualsNaive).
- ` + "`selective`, `pik-only`" + `: gold-free self-labels (the student's own cross-fitted predictions on the frozen strong features)
  and P(IK) trained on the budget's gold=100 examples; they used a strong probe trained on all of train_weak's gold, a distilled
  ceiling.
`
