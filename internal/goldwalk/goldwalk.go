// Package goldwalk checks the type-level half of gold isolation: it walks
// every type reachable from some roots (struct fields, what pointers, slices,
// maps and channels lead to, function and interface method signatures) and
// reports any type from package eval, the only holder of hidden gold. The
// method View and the oversight loop both run it in their tests.
//
//	r := goldwalk.Walk(method.View{})
//	// r.EvalPaths: paths that reach an eval type (want none)
//	// r.IntSlices: []int fields of project structs (label-like data)
package goldwalk

import (
	"reflect"
	"strings"
)

const module = "github.com/superalign/superalign/"

// Result is what a walk found.
type Result struct {
	// Seen holds every type visited.
	Seen map[reflect.Type]bool
	// EvalPaths are the paths (Root.Field[]...) to types from package eval.
	EvalPaths []string
	// IntSlices are the paths of []int fields of this project's structs:
	// class-label vectors look like that, so callers list the allowed ones.
	IntSlices []string
	// Paths holds, per type, every path by which the walk reached it, so
	// callers can classify every way to, say, a feature matrix. Types of
	// this project (and pointers, slices, maps of them) are walked again
	// on every path that reaches them (cycles excepted); other types once,
	// so a type inside a library type is listed under its first path only.
	Paths map[reflect.Type][]string
}

// Walk walks the types of roots (values, not types).
func Walk(roots ...any) Result {
	r := Result{Seen: map[reflect.Type]bool{}, Paths: map[reflect.Type][]string{}}
	onPath := map[reflect.Type]bool{} // project types on the current path
	var walk func(tp reflect.Type, path string, projectField bool)
	walk = func(tp reflect.Type, path string, projectField bool) {
		if fromEval(tp) {
			// Reported on every path that reaches it, not only the first;
			// there is nothing to learn inside.
			r.EvalPaths = append(r.EvalPaths, path+" ("+tp.String()+")")
			return
		}
		if projectField && tp.Kind() == reflect.Slice && tp.Elem().Kind() == reflect.Int {
			r.IntSlices = append(r.IntSlices, path)
		}
		r.Paths[tp] = append(r.Paths[tp], path)
		if ownType(tp) {
			if onPath[tp] {
				return
			}
			onPath[tp] = true
			defer delete(onPath, tp)
		} else if r.Seen[tp] {
			return
		}
		r.Seen[tp] = true
		switch tp.Kind() {
		case reflect.Struct:
			own := strings.HasPrefix(tp.PkgPath(), module)
			for i := 0; i < tp.NumField(); i++ {
				walk(tp.Field(i).Type, path+"."+tp.Field(i).Name, own)
			}
		case reflect.Slice, reflect.Array, reflect.Pointer, reflect.Map, reflect.Chan:
			if tp.Kind() == reflect.Map {
				walk(tp.Key(), path+"[key]", false)
			}
			walk(tp.Elem(), path+"[]", false)
		case reflect.Func:
			for j := 0; j < tp.NumIn(); j++ {
				walk(tp.In(j), path+"(in)", false)
			}
			for j := 0; j < tp.NumOut(); j++ {
				walk(tp.Out(j), path+"(out)", false)
			}
		case reflect.Interface:
			for i := 0; i < tp.NumMethod(); i++ {
				walk(tp.Method(i).Type, path+"."+tp.Method(i).Name, false)
			}
		}
	}
	for _, v := range roots {
		tp := reflect.TypeOf(v)
		walk(tp, tp.Name(), false)
	}
	return r
}

// ownType reports whether tp is a named type of this project, or leads to
// one through pointers, slices, arrays, channels and map values.
func ownType(tp reflect.Type) bool {
	for tp.Name() == "" {
		switch tp.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Chan, reflect.Map:
			tp = tp.Elem()
		default:
			return false
		}
	}
	return strings.HasPrefix(tp.PkgPath(), module)
}

// fromEval reports whether tp is, or points to or holds elements of, a type
// of package eval.
func fromEval(tp reflect.Type) bool {
	for {
		if strings.HasSuffix(tp.PkgPath(), "/eval") {
			return true
		}
		switch tp.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Chan:
			tp = tp.Elem()
		default:
			return false
		}
	}
}
