package main

import (
	"reflect"
	"testing"
)

func TestSplitMethods(t *testing.T) {
	for in, want := range map[string][]string{
		"naive":                                  {"naive"},
		"naive, naive-hard":                      {"naive", "naive-hard"},
		"naive,logconf:coef=0.5,schedule=linear": {"naive", "logconf:coef=0.5,schedule=linear"},
		"logconf:coef=0.5,window:radius=0.1,kl":  {"logconf:coef=0.5", "window:radius=0.1", "kl"},
	} {
		if got := splitMethods(in); !reflect.DeepEqual(got, want) {
			t.Errorf("splitMethods(%q) = %q, want %q", in, got, want)
		}
	}
}
