package data

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/superalign/superalign/internal/testenv"
)

// The built-in tests read the real packages through the shared cache
// (assets.CacheDir), so after the first run they cost no download.

func TestBuiltinsListed(t *testing.T) {
	want := map[string]string{"sentiment": "sentiment", "spam": "spam-assassin", "review-source": "sentiment", "spam-subset": "spam-assassin",
		"spam-hardham": "spam-assassin", "spam-value": "spam-assassin", "review-pairs": "sentiment", "fashion-mnist": "fashion-mnist", "mnist": "mnist"}
	task := map[string]string{"sentiment": TaskText, "spam": TaskText, "review-source": TaskText, "spam-subset": TaskText,
		"spam-hardham": TaskText, "spam-value": TaskText, "review-pairs": TaskText, "fashion-mnist": TaskImage, "mnist": TaskImage}
	got := Builtins()
	if len(got) != len(want) {
		t.Fatalf("Builtins() = %+v", got)
	}
	for _, b := range got {
		if want[b.Name] != b.Package || b.Task != task[b.Name] || b.Description == "" {
			t.Errorf("builtin %+v", b)
		}
	}
	if _, err := LoadBuiltin(context.Background(), "nope", nil); err == nil || !strings.Contains(err.Error(), "sentiment") {
		t.Errorf("unknown built-in: err = %v", err)
	}
	if _, err := Load(context.Background(), "no/such/file.jsonl", nil); err == nil || !strings.Contains(err.Error(), "neither a built-in") {
		t.Errorf("Load of a missing path: err = %v", err)
	}
}

func TestLoadSentiment(t *testing.T) {
	testenv.NeedsAssets(t, "the sentiment dataset")
	d, err := Load(context.Background(), "sentiment", os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Examples) != 3000 || d.K() != 2 || d.Classes[0] != "negative" || d.Classes[1] != "positive" {
		t.Fatalf("sentiment: %d examples, classes %v", len(d.Examples), d.Classes)
	}
	if c := d.ClassCounts(); c[0] != 1500 || c[1] != 1500 {
		t.Errorf("sentiment class counts %v, want balanced 1500/1500", c)
	}
	for i, e := range d.Examples {
		if e.Text == "" || e.Text != strings.TrimSpace(e.Text) {
			t.Fatalf("example %d text %q", i, e.Text)
		}
	}
	// Pinned archive, fixed reading order: the hash is a constant.
	if h := d.ContentHash(); h != sentimentHash {
		t.Errorf("sentiment ContentHash = %s, want %s", h, sentimentHash)
	}
	if b := Balance(d, 1); b != d {
		t.Error("Balance of a balanced dataset should be a no-op")
	}
}

const sentimentHash = "d26d606d02a6547e4716188706ec0f512dc2a8a912edc948f4be01863c1618ca"

// headerLeak matches header fields as they appear in a header (name plus
// the start of a typical value), and any X-Spam field name at all. Prose
// that merely discusses a token such as 'received:2001' is content.
var headerLeak = regexp.MustCompile(`(?i)(X-Spam|Received: from|Received: by|Return-Path: <|Delivered-To: \S+@|Message-Id: <)`)

func TestLoadSpam(t *testing.T) {
	testenv.NeedsAssets(t, "the SpamAssassin corpus")
	d, err := LoadBuiltin(context.Background(), "spam", os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	c := d.ClassCounts()
	t.Logf("spam: %d examples, classes %v, counts %v", len(d.Examples), d.Classes, c)
	if len(d.Examples) < 5900 || len(d.Examples) > 6046 || c[0] < 4000 || c[1] < 1800 {
		t.Errorf("spam: %d examples, counts %v; want about 6046 (ham ~4150, spam ~1896)", len(d.Examples), c)
	}
	leaks := 0
	for i, e := range d.Examples {
		if m := headerLeak.FindString(e.Text); m != "" {
			leaks++
			if leaks <= 5 {
				at := strings.Index(e.Text, m)
				t.Errorf("example %d (list entry %d, class %s) contains header text %q: ...%s...", i, e.Line, d.Classes[e.Label], m, e.Text[max(0, at-80):min(len(e.Text), at+80)])
			}
		}
		if e.Text == "" || utf8.RuneCountInString(e.Text) > maxMailChars || !utf8.ValidString(e.Text) {
			t.Errorf("example %d: bad text (len %d runes, valid %v)", i, utf8.RuneCountInString(e.Text), utf8.ValidString(e.Text))
		}
		if strings.Contains(strings.ToLower(e.Text), "<html") {
			t.Errorf("example %d still holds HTML: %.200s", i, e.Text)
		}
	}
	if leaks > 0 {
		t.Errorf("%d texts contain header field names", leaks)
	}
	bal := Balance(d, 7)
	if bc := bal.ClassCounts(); bc[0] != c[1] || bc[1] != c[1] {
		t.Errorf("balanced spam counts %v, want %d each", bc, c[1])
	}
}
