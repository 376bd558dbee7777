package data

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDisplayNames(t *testing.T) {
	dir := t.TempDir()
	mk := func(rel string) string {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(`{"text":"a","label":1}`+"\n"+`{"text":"b","label":0}`+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b, c := mk("a/reviews.jsonl"), mk("b/reviews.jsonl"), mk("c/other.csv")
	link := filepath.Join(dir, "link.jsonl")
	if err := os.Symlink(a, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		entries []string
		want    []string
		err     string
	}{
		{"unique base names", []string{"sentiment", a, c}, []string{"sentiment", "reviews", "other"}, ""},
		{"same base name: paths", []string{a, b, c}, []string{a, b, "other"}, ""},
		{"file named like a built-in", []string{"sentiment", mk("x/sentiment.jsonl")}, []string{"sentiment", filepath.Join(dir, "x/sentiment.jsonl")}, ""},
		{"same file twice", []string{a, a}, nil, "twice"},
		{"same file by another path", []string{a, dir + "/a/../a/reviews.jsonl"}, nil, "are the same file"},
		{"same file through a link", []string{a, link}, nil, "are the same file (a link or another path to it)"},
		{"built-in twice", []string{"spam", "spam"}, nil, "twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DisplayNames(tc.entries)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("names %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCheckInputs: a bad file anywhere in the list fails before anything is
// computed, with its file and line; identical content under two names is
// noted and both are kept.
func TestCheckInputs(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.jsonl")
	twin := filepath.Join(dir, "twin.jsonl")
	bad := filepath.Join(dir, "bad.csv")
	body := `{"text":"a","label":1}` + "\n" + `{"text":"b","label":0}` + "\n"
	os.WriteFile(good, []byte(body), 0o644)
	os.WriteFile(twin, []byte(body), 0o644)
	os.WriteFile(bad, []byte("text,label,label\nhi,0,1\n"), 0o644)
	var log strings.Builder
	names, err := CheckInputs(context.Background(), []string{good, twin}, &log)
	if err != nil || len(names) != 2 || names[0] == names[1] {
		t.Fatalf("names %q, %v", names, err)
	}
	if !strings.Contains(log.String(), "same content") {
		t.Errorf("identical content not noted: %q", log.String())
	}
	_, err = CheckInputs(context.Background(), []string{good, twin, bad}, nil)
	var ie *InputError
	if !errors.As(err, &ie) || ie.File != bad || ie.Line != 1 {
		t.Errorf("bad last file: %v", err)
	}
	if _, err := CheckInputs(context.Background(), []string{good, filepath.Join(dir, "missing.jsonl")}, nil); err == nil || !strings.Contains(err.Error(), "missing.jsonl") {
		t.Errorf("missing file: %v", err)
	}
}
