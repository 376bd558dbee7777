// Package data holds labelled datasets: the Example/Dataset types, loaders
// for user files (JSONL, CSV, Parquet), the built-in datasets read from
// registry packages (UCI sentiment sentences, SpamAssassin, MNIST and
// Fashion-MNIST; the first two also as 3-class tasks by origin:
// review-source by site, spam-subset by easy ham / hard ham / spam; and
// spam-hardham, hard ham vs easy ham, a binary task with 6% positives), and
// the seeded sampling every experiment starts with: balance (binary only;
// multi-class datasets keep their class mix), subsample, split.
//
// Balancing is a choice (--balance, KeptIndices): undersample (the
// default: Balance), none (the natural class mix) or weight (the natural
// mix, with losses weighted by inverse class frequency in the experiment
// layer). Every split is stratified, so with the natural mix each part
// holds each class within one example of its fraction of that class
// (TestStratifiedSplitImbalanced).
//
// User files carry exactly one input column, text (a string), features (an
// array of numbers; in CSV a JSON array in the cell) or image (a path,
// relative to the file), and a label column holding ints or strings.
// Classes are the sorted distinct labels and Example.Label indexes them.
// Every problem is reported as an *InputError reading "FILE:LINE: REASON".
//
// One set of rules holds for JSONL, CSV and Parquet alike, so the same data
// in any format gives the same classes and ContentHash:
//
//   - a UTF-8 byte order mark at the very start of a text file is skipped;
//     anywhere else it is data (and invalid JSON in JSONL);
//   - text must be UTF-8: an invalid byte is an error naming the line (and
//     the column), never silently replaced;
//   - a column name appearing twice in a CSV header or Parquet schema, a key
//     appearing twice in a JSONL object, or two input columns at once, is an
//     error: no "the last one wins";
//   - labels: surrounding whitespace is not part of a label ("pos " is
//     "pos"); a label that reads as a decimal number, whether a JSON number
//     or text ("1", " 01 ", "+1", "1.0", "1e2"), is that number, so "01", "1",
//     1 and 1.0 are one class "1"; it must be an integer in the int64 range
//     (a fraction or a too-large integer is an error saying which); any other
//     text is a string label; one file uses one label type.
//
// DisplayNames and CheckInputs resolve a run's --data list: unique names
// (a file's base name, or its path when two entries share one), duplicates
// refused, every file validated before any work starts.
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
