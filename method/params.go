package method

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Params are a method's hyper-parameters as written in a method spec:
// NAME:key=value[,key=value...]. Constructors read them with the typed
// getters, then call Unused to reject unknown keys.
type Params struct {
	values map[string]string
	used   map[string]bool
}

// ParseSpec splits "NAME[:k=v,...]" into the name and its parameters.
func ParseSpec(spec string) (string, Params, error) {
	p := Params{values: map[string]string{}, used: map[string]bool{}}
	name, rest, hasParams := strings.Cut(strings.TrimSpace(spec), ":")
	if name == "" {
		return "", p, fmt.Errorf("empty method name in %q", spec)
	}
	if !hasParams {
		return name, p, nil
	}
	for _, kv := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(kv, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return "", p, fmt.Errorf("method %q: parameter %q is not key=value", spec, kv)
		}
		if _, dup := p.values[k]; dup {
			return "", p, fmt.Errorf("method %q: parameter %q given twice", spec, k)
		}
		p.values[k] = v
	}
	return name, p, nil
}

// String gives the parameters in canonical form (sorted keys), "" if none.
func (p Params) String() string {
	keys := make([]string, 0, len(p.values))
	for k := range p.values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + p.values[k]
	}
	return strings.Join(parts, ",")
}

// Spec joins a method name and its parameters: "name" or "name:k=v,...".
func Spec(name string, p Params) string {
	if s := p.String(); s != "" {
		return name + ":" + s
	}
	return name
}

// Float returns parameter key as a float64, or def when absent.
func (p Params) Float(key string, def float64) (float64, error) {
	v, ok := p.values[key]
	if !ok {
		return def, nil
	}
	p.used[key] = true
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, fmt.Errorf("parameter %s=%q: not a number", key, v)
	}
	return f, nil
}

// Int returns parameter key as an int, or def when absent.
func (p Params) Int(key string, def int) (int, error) {
	v, ok := p.values[key]
	if !ok {
		return def, nil
	}
	p.used[key] = true
	i, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("parameter %s=%q: not an integer", key, v)
	}
	return i, nil
}

// Str returns parameter key, or def when absent.
func (p Params) Str(key, def string) string {
	v, ok := p.values[key]
	if !ok {
		return def
	}
	p.used[key] = true
	return v
}

// take removes a boolean parameter from p, for the general options New
// handles before a method's constructor sees the rest: false when absent.
func (p Params) take(key string) (bool, error) {
	v, ok := p.values[key]
	if !ok {
		return false, nil
	}
	delete(p.values, key)
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("parameter %s=%q: want true or false", key, v)
	}
	return b, nil
}

// Unused returns an error naming any parameter no getter asked for.
func (p Params) Unused() error {
	var extra []string
	for k := range p.values {
		if !p.used[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return fmt.Errorf("unknown parameter(s) %s", strings.Join(extra, ", "))
	}
	return nil
}
