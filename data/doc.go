// Package data holds labelled datasets: the Example/Dataset types, loaders
// for user files (JSONL, CSV, Parquet), the built-in datasets read from
// registry packages (UCI sentiment sentences, SpamAssassin, MNIST and
// Fashion-MNIST; the first two also as 3-class tasks by origin:
// review-source by site, spam-subset by easy ham / hard ham / spam), and
// the seeded sampling every experiment starts with: balance (binary only;
// multi-class datasets keep their class mix), subsample, split.
//
// User files carry one input column, text (a string), features (an array
// of numbers; in CSV a JSON array in the cell) or image (a path, relative
// to the file), and a label column holding ints or strings. Classes are the
// sorted distinct labels and Example.Label indexes them. Every problem is
// reported as an *InputError reading "FILE:LINE: REASON".
//
// Sampling uses math/rand/v2's PCG with a fixed stream per purpose, so a
// seed gives the same examples on every machine.
//
// Example:
//
//	d, err := data.Load(ctx, "sentiment", os.Stderr) // or "my.jsonl"
//	if err != nil {
//		return err
//	}
//	d = data.Balance(d, seed)      // binary: undersample the majority
//	d = data.Subsample(d, 900, seed) // --limit 900, stratified
//	sp, err := data.SplitSeeded(d, seed, data.DefaultFractions)
//	if err != nil {
//		return err
//	}
//	weakTexts := d.Texts(sp.TrainWeak)   // 300 sentences
//	weakGold := d.Labels(sp.TrainWeak)   // their gold labels
//	fmt.Println(d.ClassCounts(), d.ContentHash()[:12])
package data
