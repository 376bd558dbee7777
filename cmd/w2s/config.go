package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// applyConfigFile sets fs's flags from a YAML file whose keys are the flag
// names (budgets: [0, 1, 2] is --budgets 0,1,2), for the commands whose
// settings are flags only. A flag given on the command line wins over the
// file; a key that names no flag is an error, so a typo is not ignored.
func applyConfigFile(fs *flag.FlagSet, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading config: %w", err)
	}
	var keys map[string]any
	if err := yaml.Unmarshal(b, &keys); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names) // errors name the same key every time
	for _, k := range names {
		if k == "config" || fs.Lookup(k) == nil {
			return fmt.Errorf("%s: unknown key %q (the keys are %s's flags)", path, k, fs.Name())
		}
		if given[k] {
			continue
		}
		v, err := flagValue(keys[k])
		if err != nil {
			return fmt.Errorf("%s: %s: %w", path, k, err)
		}
		if err := fs.Set(k, v); err != nil {
			return fmt.Errorf("%s: %s: %w", path, k, err)
		}
	}
	return nil
}

// flagValue writes a YAML value as the flag text it stands for: a list is
// comma-separated.
func flagValue(v any) (string, error) {
	switch x := v.(type) {
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			s, err := flagValue(e)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), nil
	case map[string]any:
		return "", fmt.Errorf("a mapping is not a flag value")
	case nil:
		return "", fmt.Errorf("no value")
	default:
		return fmt.Sprint(x), nil
	}
}
