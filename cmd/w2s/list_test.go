package main

import (
	"os"
	"testing"
)

// TestMethodsDocCurrent fails when METHODS.md differs from the registry:
// run `make methods-doc` after adding or changing a method.
func TestMethodsDocCurrent(t *testing.T) {
	b, err := os.ReadFile("../../METHODS.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != methodsMarkdown() {
		t.Error("METHODS.md is stale: run `make methods-doc`")
	}
}

// TestMethodsGodocCurrent fails when method/catalogue.go differs from the
// registry: run `make methods-doc` after adding or changing a method.
func TestMethodsGodocCurrent(t *testing.T) {
	b, err := os.ReadFile("../../method/catalogue.go")
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != methodsGodoc() {
		t.Error("method/catalogue.go is stale: run `make methods-doc`")
	}
}
