package data

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/superalign/superalign/internal/testenv"
)

type pqValue struct {
	Text  string  `parquet:"text"`
	Label string  `parquet:"label"`
	Value *string `parquet:"value,optional"`
}

type pqValueInt struct {
	Text  string `parquet:"text"`
	Label int64  `parquet:"label"`
	Value int64  `parquet:"value"`
}

// TestValueChannel loads the same value channel from JSONL, CSV and
// Parquet: blank, null or absent is no constraint, a class name is the
// class the output must be; the content hash ignores values (features and
// teachers are shared) while ValueHash tells them apart.
func TestValueChannel(t *testing.T) {
	ham := "ham"
	files := map[string]string{
		"jsonl": write(t, "v.jsonl", `{"text":"win money","label":"spam"}`+"\n"+
			`{"text":"your order receipt","label":"ham","value":"ham"}`+"\n"+
			`{"text":"lunch?","label":"ham","value":null}`+"\n"+
			`{"text":"cheap pills","label":"spam","value":""}`+"\n"),
		"csv":     write(t, "v.csv", "text,label,value\nwin money,spam,\nyour order receipt,ham, ham \nlunch?,ham,\ncheap pills,spam,\n"),
		"parquet": writeParquet(t, []pqValue{{"win money", "spam", nil}, {"your order receipt", "ham", &ham}, {"lunch?", "ham", nil}, {"cheap pills", "spam", nil}}),
	}
	plain := write(t, "p.jsonl", `{"text":"win money","label":"spam"}`+"\n"+`{"text":"your order receipt","label":"ham"}`+"\n"+
		`{"text":"lunch?","label":"ham"}`+"\n"+`{"text":"cheap pills","label":"spam"}`+"\n")
	p, err := LoadFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	if p.HasValue() || p.ValueHash() != "" {
		t.Fatal("a file without a value column has a value channel")
	}
	for format, path := range files {
		d, err := LoadFile(path)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if !d.HasValue() {
			t.Fatalf("%s: no value channel", format)
		}
		if got := d.Values([]int{0, 1, 2, 3}); !slices.Equal(got, []int{-1, 0, -1, -1}) {
			t.Errorf("%s: values %v, want [-1 0 -1 -1] (class 0 = ham)", format, got)
		}
		if d.ContentHash() != p.ContentHash() {
			t.Errorf("%s: the value channel changed the content hash", format)
		}
		if d.ValueHash() == "" {
			t.Errorf("%s: no value hash", format)
		}
	}
	ints, err := LoadFile(writeParquet(t, []pqValueInt{{"a", 0, 1}, {"b", 1, 1}}))
	if err != nil {
		t.Fatal(err)
	}
	if got := ints.Values([]int{0, 1}); !slices.Equal(got, []int{1, 1}) {
		t.Errorf("int values %v, want [1 1]", got)
	}
}

// TestValueErrors: a value that names no class, has the other label type,
// or is not a label at all stops the load with FILE:LINE: reason.
func TestValueErrors(t *testing.T) {
	for _, tt := range []struct {
		name, file, content string
		line                int
		reason              string
	}{
		{"jsonl unknown class", "a.jsonl", `{"text":"a","label":"ham"}` + "\n" + `{"text":"b","label":"spam","value":"hma"}`, 2, `value "hma" is not a class of the labels (ham, spam)`},
		{"jsonl type mismatch", "a.jsonl", `{"text":"a","label":"ham","value":1}` + "\n" + `{"text":"b","label":"spam"}`, 1, "value 1 is an int but the labels are a string"},
		{"jsonl fraction", "a.jsonl", `{"text":"a","label":0,"value":0.5}` + "\n" + `{"text":"b","label":1}`, 1, `column "value": label 0.5 is a number with a fraction`},
		{"jsonl bool", "a.jsonl", `{"text":"a","label":0,"value":true}` + "\n" + `{"text":"b","label":1}`, 1, "unsupported type bool"},
		{"csv unknown int class", "a.csv", "text,label,value\na,0,\nb,1,7\n", 3, `value "7" is not a class`},
		{"csv case-variant value column", "a.csv", "text,label,Value\na,0,\nb,1,1\n", 1, `column "Value" is read only when named exactly "value"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := write(t, tt.file, tt.content)
			_, err := LoadFile(path)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v (%T), want *InputError", err, err)
			}
			if ie.Line != tt.line || !strings.Contains(ie.Reason, tt.reason) {
				t.Errorf("got line %d %q, want line %d reason containing %q", ie.Line, ie.Reason, tt.line, tt.reason)
			}
		})
	}
	bad := writeParquet(t, []pqValue{{"a", "ham", nil}, {"b", "spam", ptr("eggs")}})
	_, err := LoadFile(bad)
	var ie *InputError
	if !errors.As(err, &ie) || ie.Line != 2 || !strings.Contains(ie.Reason, `value "eggs" is not a class`) {
		t.Errorf("parquet unknown class: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

// TestLoadSpamValue: spam-value is spam with the hard-ham mails carrying
// the value "ham" (never filter), every other mail none.
func TestLoadSpamValue(t *testing.T) {
	testenv.NeedsAssets(t, "the SpamAssassin corpus")
	ctx := context.Background()
	v, err := Load(ctx, "spam-value", os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Load(ctx, "spam", nil)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := Load(ctx, "spam-subset", nil)
	if err != nil {
		t.Fatal(err)
	}
	if v.ContentHash() != s.ContentHash() || len(v.Examples) != len(sub.Examples) {
		t.Fatal("spam-value's examples are not spam's")
	}
	n := 0
	for i, e := range v.Examples {
		c, ok := e.ValueClass()
		hard := sub.Examples[i].Label == 1
		if ok != hard || (ok && (c != 0 || e.Label != 0)) {
			t.Fatalf("mail %d: value %d, hard ham %v, label %d", i, e.Value, hard, e.Label)
		}
		if ok {
			n++
		}
	}
	if n != 250 {
		t.Errorf("%d value-constrained mails, want the 250 hard-ham mails", n)
	}
}
