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
