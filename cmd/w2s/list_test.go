package main

import (
	"os"
	"testing"
)

// TestMethodsDocsCurrent fails when METHODS.md or method/catalogue.go
// differs from the registry: run `make methods-doc` after adding or
// changing a method.
func TestMethodsDocsCurrent(t *testing.T) {
	for path, render := range map[string]func() string{
		"../../METHODS.md":          methodsMarkdown,
		"../../method/catalogue.go": methodsGodoc,
	} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != render() {
			t.Errorf("%s is stale: run `make methods-doc`", path)
		}
	}
}
