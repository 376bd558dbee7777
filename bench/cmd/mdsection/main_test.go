package main

import "testing"

func TestReplace(t *testing.T) {
	for _, tc := range []struct{ doc, name, body, want string }{
		{"", "a", "x\n", "<!-- begin a -->\nx\n<!-- end a -->\n"},
		{"# T\n", "a", "x", "# T\n\n<!-- begin a -->\nx\n<!-- end a -->\n"},
		{"<!-- begin a -->\nold\n<!-- end a -->\n<!-- begin b -->\nkeep\n<!-- end b -->\n", "a", "new",
			"<!-- begin a -->\nnew\n<!-- end a -->\n<!-- begin b -->\nkeep\n<!-- end b -->\n"},
	} {
		if got := Replace(tc.doc, tc.name, tc.body); got != tc.want {
			t.Errorf("Replace(%q, %q) = %q, want %q", tc.doc, tc.name, got, tc.want)
		}
	}
}
