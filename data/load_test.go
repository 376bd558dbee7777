package data

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLoadFileErrors checks every validation case: the error must be an
// *InputError with the right line, and its text must read FILE:LINE: REASON.
func TestLoadFileErrors(t *testing.T) {
	tests := []struct {
		name, file, content string
		line                int
		reason              string
	}{
		{"jsonl missing text", "a.jsonl", `{"label":1}` + "\n", 1, "missing input column"},
		{"jsonl missing text later", "a.jsonl", `{"text":"a","label":1}` + "\n" + `{"label":0}` + "\n", 2, `missing column "text"`},
		{"jsonl missing label", "a.jsonl", `{"text":"a","label":1}` + "\n\n" + `{"text":"b"}` + "\n", 3, `missing column "label"`},
		{"jsonl float label", "a.jsonl", `{"text":"a","label":1.5}`, 1, "label 1.5 is a number with a fraction"},
		{"jsonl bool label", "a.jsonl", `{"text":"a","label":true}`, 1, "unsupported type bool"},
		{"jsonl object label", "a.jsonl", `{"text":"a","label":{"x":1}}`, 1, "unsupported type object"},
		{"jsonl array label", "a.jsonl", `{"text":"a","label":[1]}`, 1, "unsupported type array"},
		{"jsonl null label", "a.jsonl", `{"text":"a","label":null}`, 1, "label is null"},
		{"jsonl mixed label types", "a.jsonl", `{"text":"a","label":1}` + "\n" + `{"text":"b","label":"x"}`, 2, "use one label type"},
		{"jsonl single class", "a.jsonl", `{"text":"a","label":"x"}` + "\n" + `{"text":"b","label":"x"}`, 1, "only one class"},
		{"jsonl empty text", "a.jsonl", `{"text":"a","label":0}` + "\n" + `{"text":"  ","label":1}`, 2, "empty text"},
		{"jsonl NaN feature", "a.jsonl", `{"features":[1,2],"label":0}` + "\n" + `{"features":[NaN,2],"label":1}`, 2, "non-finite"},
		{"jsonl Inf feature", "a.jsonl", `{"features":[1,-Infinity],"label":0}`, 1, "non-finite"},
		{"jsonl overflow feature", "a.jsonl", `{"features":[1e39,1],"label":0}`, 1, "overflows float32"},
		{"jsonl ragged features", "a.jsonl", `{"features":[1,2],"label":0}` + "\n" + `{"features":[1,2,3],"label":1}`, 2, "ragged features: 3 values, the first row (line 1) has 2"},
		{"jsonl string feature", "a.jsonl", `{"features":[1,"x"],"label":0}`, 1, "feature 1 is string"},
		{"jsonl empty file", "a.jsonl", "", 1, "empty file"},
		{"jsonl blank lines only", "a.jsonl", "\n\n", 2, "empty file"},
		{"jsonl bad syntax", "a.jsonl", `{"text":"a","label":0}` + "\n" + `{"text":"b" "label":1}`, 2, "invalid JSON"},
		{"jsonl not an object", "a.ndjson", `[1,2]`, 1, "want an object"},
		{"csv missing label", "a.csv", "text,y\nhello,1\n", 1, `missing column "label"`},
		{"csv missing input", "a.csv", "x,label\nhello,1\n", 1, "missing input column"},
		{"csv float label", "a.csv", "text,label\nhi,0\nho,2.5\n", 3, "label 2.5 is a number with a fraction"},
		{"csv empty label", "a.csv", "text,label\nhi,0\nho,\n", 3, "label is null"},
		{"csv single class", "a.csv", "text,label\nhi,1\nho,1\n", 2, "only one class"},
		{"csv empty text", "a.csv", "text,label\nhi,0\n,1\n", 3, "empty text"},
		{"csv NaN feature", "a.csv", "features,label\n\"[1,2]\",0\n\"[NaN,2]\",1\n", 3, "feature 0 is NaN"},
		{"csv Inf feature", "a.csv", "features,label\n\"[1,+Inf]\",0\n", 2, "feature 1 is +Inf"},
		{"csv ragged features", "a.csv", "features,label\n\"[1,2]\",0\n\"[1]\",1\n", 3, "ragged features"},
		{"csv features not array", "a.csv", "features,label\n1;2,0\n", 2, "JSON array"},
		{"csv empty file", "a.csv", "", 1, "empty file"},
		{"csv header only", "a.csv", "text,label\n", 2, "no data rows"},
		{"csv bad syntax", "a.csv", "text,label\nhi,0\n\"unterminated,1\n", 3, "invalid CSV"},
		{"csv wrong field count", "a.csv", "text,label\nhi,0\nho,1,extra\n", 3, "invalid CSV"},
		{"csv multi-line quoted field keeps line", "a.csv", "text,label\n\"two\nlines\",0\n,1\n", 4, "empty text"},
		// Duplicates are errors, never "the last one wins".
		{"jsonl duplicate label key", "a.jsonl", `{"text":"a","label":1}` + "\n" + `{"text":"b","label":0,"label":1}`, 2, `duplicate key "label"`},
		{"jsonl duplicate text key", "a.jsonl", `{"text":"a","text":"b","label":1}`, 1, `duplicate key "text"`},
		{"jsonl duplicate key by escape", "a.jsonl", `{"text":"a","label":1,"lab\u0065l":0}`, 1, `duplicate key "label"`},
		{"csv duplicate label column", "a.csv", "text,label,label\nhi,0,1\n", 1, `columns 2 and 3 of the header are both named "label"`},
		{"csv duplicate text column", "a.csv", "text,text,label\nhi,ho,1\n", 1, `columns 1 and 2 of the header are both named "text"`},
		{"csv duplicate after trimming", "a.csv", "text, label,label \nhi,0,1\n", 1, `both named "label"`},
		// A name that differs only in case would be ignored: an error instead.
		{"csv case-variant label column", "a.csv", "text,label,Label\nhi,0,1\n", 1, `header column 3: column "Label" is read only when named exactly "label"`},
		{"csv case-variant text column", "a.csv", "Text,label\nhi,0\n", 1, `column "Text" is read only when named exactly "text"`},
		{"jsonl case-variant label key", "a.jsonl", `{"text":"a","label":1}` + "\n" + `{"text":"b","label":0,"LABEL":1}`, 2, `column "LABEL" is read only when named exactly "label"`},
		{"jsonl spaced key", "a.jsonl", `{"text":"a"," label":1}`, 1, `column " label" is read only when named exactly "label"`},
		{"csv two inputs", "a.csv", "text,features,label\nhi,\"[1]\",1\n", 1, `input columns "text" and "features" both present`},
		{"jsonl two inputs later", "a.jsonl", `{"text":"a","label":1}` + "\n" + `{"text":"b","features":[1],"label":0}`, 2, "both present"},
		// Invalid UTF-8 is an error with its line, not silently replaced.
		{"jsonl invalid UTF-8", "a.jsonl", `{"text":"a","label":1}` + "\n" + "{\"text\":\"caf\xe9\",\"label\":0}", 2, "invalid UTF-8 at byte 13"},
		{"csv invalid UTF-8", "a.csv", "text,label\nhi,0\ncaf\xe9,1\n", 3, `column "text": invalid UTF-8`},
		{"csv invalid UTF-8 label", "a.csv", "text,label\nhi,0\nho,\xff\n", 3, `column "label": invalid UTF-8`},
		{"csv invalid UTF-8 header", "a.csv", "text,lab\xffel\nhi,0\n", 1, "header column 2: invalid UTF-8"},
		// Numbers: exact, with the right reason.
		{"jsonl huge int label", "a.jsonl", `{"text":"a","label":123456789012345678901234567890}`, 1, "label 123456789012345678901234567890 is an integer outside the int64 range"},
		{"csv huge int label", "a.csv", "text,label\nhi,0\nho,99999999999999999999\n", 3, "outside the int64 range"},
		{"jsonl huge exponent", "a.jsonl", `{"text":"a","label":1e999999999999}`, 1, "outside the int64 range"},
		{"jsonl tiny fraction", "a.jsonl", `{"text":"a","label":1.0000000000000000001}`, 1, "with a fraction"},
		{"jsonl numeric text label", "a.jsonl", `{"text":"a","label":"pos"}` + "\n" + `{"text":"b","label":"1"}`, 2, "text that reads as a number is that number"},
		{"jsonl BOM mid-file", "a.jsonl", `{"text":"a","label":1}` + "\n\ufeff" + `{"text":"b","label":0}`, 2, "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := write(t, tt.file, tt.content)
			_, err := LoadFile(path)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v (%T), want *InputError", err, err)
			}
			if ie.File != path || ie.Line != tt.line || !strings.Contains(ie.Reason, tt.reason) {
				t.Errorf("got %s:%d %q, want line %d reason containing %q", ie.File, ie.Line, ie.Reason, tt.line, tt.reason)
			}
			prefix := path + ":" + itoa(tt.line) + ": "
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("message %q does not start with %q", err.Error(), prefix)
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestOneLabelRule loads the same data written the ways users write it —
// with and without a BOM, with whitespace around string labels, with
// integers as JSON numbers, as text and with leading zeros — from JSONL, CSV
// and Parquet, and expects the same classes, labels and ContentHash.
func TestOneLabelRule(t *testing.T) {
	const bom = "\ufeff"
	groups := []struct {
		name    string
		paths   []string
		classes []string
		labels  []int
	}{
		{"string labels, whitespace trimmed", []string{
			write(t, "s.jsonl", `{"text":"good","label":"pos"}`+"\n"+`{"text":"bad","label":" neg"}`+"\n"+`{"text":"fine","label":"pos "}`+"\n"),
			write(t, "bom.jsonl", bom+`{"text":"good","label":"pos"}`+"\n"+`{"text":"bad","label":"neg"}`+"\n"+`{"text":"fine","label":"pos"}`+"\n"),
			write(t, "s.csv", "text,label\ngood,pos\nbad, neg\nfine,pos \n"),
			write(t, "bom.csv", bom+"text,label\r\ngood,pos\r\nbad,neg\r\nfine,\"pos\t\"\r\n"),
			writeParquet(t, []pqTextStr{{"good", "pos"}, {"bad", "neg "}, {"fine", " pos"}}),
		}, []string{"neg", "pos"}, []int{1, 0, 1}},
		{"integer labels in any spelling", []string{
			write(t, "i.jsonl", `{"text":"good","label":1}`+"\n"+`{"text":"bad","label":0}`+"\n"+`{"text":"fine","label":1.0}`+"\n"),
			write(t, "itext.jsonl", `{"text":"good","label":"01"}`+"\n"+`{"text":"bad","label":" 0"}`+"\n"+`{"text":"fine","label":"1e0"}`+"\n"),
			write(t, "i.csv", "text,label\ngood,01\nbad,0\nfine,+1\n"),
			writeParquet(t, []pqTextStr{{"good", "1"}, {"bad", "-0"}, {"fine", "001"}}),
			writeParquet(t, []pqText{{"good", 1}, {"bad", 0}, {"fine", 1}}),
		}, []string{"0", "1"}, []int{1, 0, 1}},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			var want string
			for _, p := range g.paths {
				d, err := LoadFile(p)
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				if strings.Join(d.Classes, ",") != strings.Join(g.classes, ",") {
					t.Errorf("%s: classes %q, want %q", filepath.Base(p), d.Classes, g.classes)
				}
				for i, e := range d.Examples {
					if e.Label != g.labels[i] {
						t.Errorf("%s: example %d label %d, want %d", filepath.Base(p), i, e.Label, g.labels[i])
					}
				}
				if h := d.ContentHash(); want == "" {
					want = h
				} else if h != want {
					t.Errorf("%s: ContentHash differs from %s's", filepath.Base(p), filepath.Base(g.paths[0]))
				}
			}
		})
	}
}

type pqText struct {
	Text  string `parquet:"text"`
	Label int64  `parquet:"label"`
}

type pqTextStr struct {
	Text  string `parquet:"text"`
	Label string `parquet:"label"`
}

type pqFeat struct {
	Features []float32 `parquet:"features,list"`
	Label    int32     `parquet:"label"`
}

type pqFeatDouble struct {
	Features []float64 `parquet:"features"`
	Label    float64   `parquet:"label"`
}

type pqBool struct {
	Text  string `parquet:"text"`
	Label bool   `parquet:"label"`
}

type pqCaseVariant struct {
	Text   string `parquet:"text"`
	Label  int64  `parquet:"label"`
	Label2 int64  `parquet:"Label"`
}

type pqNoLabel struct {
	Text string `parquet:"text"`
}

func writeParquet[T any](t *testing.T, rows []T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "d.parquet")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[T](f)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRoundTrip loads the same data from JSONL, CSV and Parquet and
// expects identical classes, examples and ContentHash.
func TestRoundTrip(t *testing.T) {
	textJSONL := write(t, "t.jsonl", `{"text":"good film","label":1}
{"text":"bad, \"awful\" film","label":0}
{"text":"fine","label":10}
`)
	textCSV := write(t, "t.csv", "label,text\n1,good film\n0,\"bad, \"\"awful\"\" film\"\n10,fine\n")
	textPQ := writeParquet(t, []pqText{{"good film", 1}, {`bad, "awful" film`, 0}, {"fine", 10}})
	strJSONL := write(t, "s.jsonl", `{"text":"a","label":"pos"}`+"\n"+`{"text":"b","label":"neg"}`+"\n")
	strPQ := writeParquet(t, []pqTextStr{{"a", "pos"}, {"b", "neg"}})
	featJSONL := write(t, "f.jsonl", `{"features":[0.5,-1,3e-3],"label":1}`+"\n"+`{"features":[2,0,1],"label":0}`+"\n")
	featCSV := write(t, "f.csv", "features,label\n\"[0.5, -1, 0.003]\",1\n\"[2,0,1]\",0\n")
	featPQ := writeParquet(t, []pqFeat{{[]float32{0.5, -1, 3e-3}, 1}, {[]float32{2, 0, 1}, 0}})
	featPQ2 := writeParquet(t, []pqFeatDouble{{[]float64{0.5, -1, 3e-3}, 1}, {[]float64{2, 0, 1}, 0}})

	groups := []struct {
		name    string
		paths   []string
		classes []string
		labels  []int
	}{
		{"text int labels", []string{textJSONL, textCSV, textPQ}, []string{"0", "1", "10"}, []int{1, 0, 2}},
		{"text string labels", []string{strJSONL, strPQ}, []string{"neg", "pos"}, []int{1, 0}},
		{"features", []string{featJSONL, featCSV, featPQ, featPQ2}, []string{"0", "1"}, []int{1, 0}},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			var want string
			for _, p := range g.paths {
				d, err := LoadFile(p)
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				if strings.Join(d.Classes, ",") != strings.Join(g.classes, ",") {
					t.Errorf("%s: classes %v, want %v", p, d.Classes, g.classes)
				}
				for i, e := range d.Examples {
					if e.Label != g.labels[i] {
						t.Errorf("%s: example %d label %d, want %d", p, i, e.Label, g.labels[i])
					}
				}
				h := d.ContentHash()
				if want == "" {
					want = h
				} else if h != want {
					t.Errorf("%s: ContentHash %s differs from %s's %s", p, h, g.paths[0], want)
				}
			}
		})
	}
}

func TestParquetErrors(t *testing.T) {
	tests := []struct {
		name   string
		path   string
		line   int
		reason string
	}{
		{"bool label", writeParquet(t, []pqBool{{"a", true}, {"b", false}}), 1, "unsupported type bool"},
		{"float label", writeParquet(t, []pqFeatDouble{{[]float64{1}, 0}, {[]float64{1}, 0.5}}), 2, "with a fraction"},
		{"missing label", writeParquet(t, []pqNoLabel{{"a"}}), 0, `missing column "label"`},
		{"single class", writeParquet(t, []pqText{{"a", 3}, {"b", 3}}), 1, "only one class"},
		{"empty text", writeParquet(t, []pqText{{"a", 0}, {"", 1}}), 2, "empty text"},
		{"NaN feature", writeParquet(t, []pqFeat{{[]float32{1, 2}, 0}, {[]float32{float32(nan()), 2}, 1}}), 2, "feature 0 is NaN"},
		{"ragged", writeParquet(t, []pqFeat{{[]float32{1, 2}, 0}, {[]float32{2}, 1}}), 2, "ragged"},
		{"empty", writeParquet(t, []pqText{}), 0, "empty file"},
		{"not parquet", write(t, "x.parquet", "hello"), 0, "invalid Parquet"},
		{"case-variant label", writeParquet(t, []pqCaseVariant{{"a", 0, 1}, {"b", 1, 0}}), 0, `column "Label" is read only when named exactly "label"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadFile(tt.path)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want *InputError", err)
			}
			if ie.File != tt.path || ie.Line != tt.line || !strings.Contains(ie.Reason, tt.reason) {
				t.Errorf("got %v; want line %d reason containing %q", err, tt.line, tt.reason)
			}
		})
	}
}

func nan() float64 { return math.NaN() }

func TestLoadImagesAndExtension(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.png"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.png"), []byte("y"), 0o644)
	p := filepath.Join(dir, "imgs.jsonl")
	os.WriteFile(p, []byte(`{"image":"a.png","label":"cat"}`+"\n"+`{"image":"b.png","label":"dog"}`+"\n"+`{"image":"c.png","label":"dog"}`+"\n"), 0o644)
	_, err := LoadFile(p)
	var ie *InputError
	if !errors.As(err, &ie) || ie.Line != 3 || !strings.Contains(ie.Reason, "c.png") {
		t.Errorf("missing image: err = %v, want line 3 naming c.png", err)
	}
	os.WriteFile(p, []byte(`{"image":"a.png","label":"cat"}`+"\n"+`{"image":"b.png","label":"dog"}`+"\n"), 0o644)
	d, err := LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if d.Examples[0].Image != filepath.Join(dir, "a.png") || d.Name != "imgs" {
		t.Errorf("image path %q, name %q", d.Examples[0].Image, d.Name)
	}
	if _, err := LoadFile(write(t, "x.txt", "hi")); err == nil || !strings.Contains(err.Error(), "unknown extension") {
		t.Errorf("unknown extension: err = %v", err)
	}
}
