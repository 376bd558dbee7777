package data

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/superalign/superalign/internal/testenv"
)

// TestLoadReviewSource: the sentiment sentences, same texts in the same
// order, labelled by the site they came from; three classes of 1000 that
// Balance leaves alone and every split keeps.
func TestLoadReviewSource(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	ctx := context.Background()
	d, err := Load(ctx, "review-source", os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if d.K() != 3 || !slices.Equal(d.Classes, []string{"imdb", "yelp", "amazon"}) || len(d.Examples) != 3000 {
		t.Fatalf("review-source: %d examples, classes %v", len(d.Examples), d.Classes)
	}
	if c := d.ClassCounts(); !slices.Equal(c, []int{1000, 1000, 1000}) {
		t.Errorf("class counts %v, want 1000 each", c)
	}
	sent, err := Load(ctx, "sentiment", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range d.Examples {
		s := sent.Examples[i]
		if e.Text != s.Text || e.Line != s.Line {
			t.Fatalf("example %d: %q (record %d), sentiment has %q (record %d)", i, e.Text, e.Line, s.Text, s.Line)
		}
		// The fixtures are read imdb, yelp, amazon: 1000 each, in order.
		if want := i / 1000; e.Label != want {
			t.Fatalf("example %d: source %d, want %d", i, e.Label, want)
		}
	}
	checkMultiClass(t, d)
	if h := d.ContentHash(); h != reviewSourceHash {
		t.Errorf("review-source ContentHash = %s, want %s", h, reviewSourceHash)
	}
}

// TestLoadSpamSubset: the spam mails, same texts in the same order, with
// ham split into easy and hard; the class mix (hard ham about 4%) is kept.
func TestLoadSpamSubset(t *testing.T) {
	testenv.NeedsAssets(t, "the SpamAssassin corpus")
	ctx := context.Background()
	d, err := Load(ctx, "spam-subset", os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Classes, []string{"easy-ham", "hard-ham", "spam"}) {
		t.Fatalf("classes %v", d.Classes)
	}
	binary, err := Load(ctx, "spam", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Examples) != len(binary.Examples) {
		t.Fatalf("%d mails, spam has %d", len(d.Examples), len(binary.Examples))
	}
	for i, e := range d.Examples {
		b := binary.Examples[i]
		// easy-ham and hard-ham are ham (0), spam is spam (1).
		if e.Text != b.Text || e.Line != b.Line || (e.Label == 2) != (b.Label == 1) {
			t.Fatalf("mail %d (entry %d): subset %s, spam says %s", i, e.Line, d.Classes[e.Label], binary.Classes[b.Label])
		}
	}
	// The file list has 3900 easy ham, 250 hard ham and 1896 spam; 20
	// spam mails hold no text once headers and markup are stripped.
	if c := d.ClassCounts(); !slices.Equal(c, []int{3900, 250, 1876}) {
		t.Errorf("class counts %v, want 3900 / 250 / 1876", c)
	}
	checkMultiClass(t, d)
	if h := d.ContentHash(); h != spamSubsetHash {
		t.Errorf("spam-subset ContentHash = %s, want %s", h, spamSubsetHash)
	}
}

// checkMultiClass: a K > 2 dataset is not undersampled (Balance and
// BalanceIndices keep every example), and a seeded split keeps the class
// mix in each third.
func checkMultiClass(t *testing.T, d *Dataset) {
	t.Helper()
	if b := Balance(d, 3); b != d {
		t.Error("Balance changed a multi-class dataset")
	}
	if idx := BalanceIndices(d, 3); len(idx) != len(d.Examples) {
		t.Errorf("BalanceIndices kept %d of %d", len(idx), len(d.Examples))
	}
	sp, err := SplitSeeded(d, 3, DefaultFractions)
	if err != nil {
		t.Fatal(err)
	}
	total := d.ClassCounts()
	for name, part := range map[string][]int{"train_weak": sp.TrainWeak, "train_strong": sp.TrainStrong, "test": sp.Test} {
		counts := make([]int, d.K())
		for _, i := range part {
			counts[d.Examples[i].Label]++
		}
		for c := range counts {
			// Stratified thirds: within one example of a third.
			if third := float64(total[c]) / 3; float64(counts[c]) < third-1 || float64(counts[c]) > third+1 {
				t.Errorf("%s: class %s has %d of %d", name, d.Classes[c], counts[c], total[c])
			}
		}
	}
}

// Pinned archives, fixed reading order: the hashes are constants.
const (
	reviewSourceHash = "4463a053ca1d4226014e3dfb65450d74f18690f2c493c558a115668f219fffb4"
	spamSubsetHash   = "7d3b4ca8d6e82f3c8c2c66f7f288f21f650833b4d0a7f2b71601d4dca1fef3d5"
)

// TestLoadSpamHardHam: the ham of spam-subset, same texts in the same
// order, labelled hard (1) or easy (0): 3900 easy, 250 hard, no spam.
func TestLoadSpamHardHam(t *testing.T) {
	testenv.NeedsAssets(t, "the SpamAssassin corpus")
	ctx := context.Background()
	d, err := Load(ctx, "spam-hardham", os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Classes, []string{"easy-ham", "hard-ham"}) {
		t.Fatalf("classes %v", d.Classes)
	}
	sub, err := Load(ctx, "spam-subset", nil)
	if err != nil {
		t.Fatal(err)
	}
	j := 0
	for _, e := range sub.Examples {
		if e.Label == 2 {
			continue
		}
		h := d.Examples[j]
		if h.Text != e.Text || h.Line != e.Line || h.Label != e.Label {
			t.Fatalf("mail %d (entry %d): hardham %d, subset %d", j, h.Line, h.Label, e.Label)
		}
		j++
	}
	if j != len(d.Examples) {
		t.Fatalf("%d ham mails in spam-subset, %d in spam-hardham", j, len(d.Examples))
	}
	if c := d.ClassCounts(); !slices.Equal(c, []int{3900, 250}) {
		t.Errorf("class counts %v, want 3900 / 250", c)
	}
	// Undersampling (the default) cuts it to 250 + 250; none keeps all.
	if u := BalanceIndices(d, 1); !slices.Equal(d.ClassCountsOf(u), []int{250, 250}) {
		t.Errorf("undersampled counts %v", d.ClassCountsOf(u))
	}
}
