package tfjs

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// nsfwjs ships each model file as a browserify UMD bundle ("*.min.js")
// whose single module body is `X.exports=<literal>`: for model.min.js an
// object literal (the model.json, minified: unquoted keys, `!0`/`!1` for
// true/false, numbers such as `.5`), for a weight shard a string holding
// the shard bytes in base64. This file finds that literal and turns it into
// JSON or bytes without running any JavaScript.

// exportsRe finds the module assignment of the browserify bundle.
var exportsRe = regexp.MustCompile(`\{1:\[function\([A-Za-z_$][\w$]*,([A-Za-z_$][\w$]*),[A-Za-z_$][\w$]*\)\{`)

// MinJSExport returns the source text position just after `X.exports=` in a
// browserify UMD bundle, where X is the module's second parameter.
func minJSExport(src []byte) (int, error) {
	loc := exportsRe.FindSubmatchIndex(src)
	if loc == nil {
		return 0, fmt.Errorf("no browserify module 1 (`{1:[function(e,a,n){`) found")
	}
	mod := string(src[loc[2]:loc[3]])
	want := mod + ".exports="
	rest := src[loc[1]:]
	if !bytes.HasPrefix(rest, []byte(want)) {
		return 0, fmt.Errorf("module 1 does not start with %q", want)
	}
	return loc[1] + len(want), nil
}

// MinJSToJSON reads a UMD .min.js file whose export is a JS literal and
// returns the literal as JSON.
func MinJSToJSON(path string) ([]byte, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tfjs: %w", err)
	}
	at, err := minJSExport(src)
	if err != nil {
		return nil, fmt.Errorf("tfjs: %s: %w", path, err)
	}
	p := &jsParser{src: src, pos: at}
	if err := p.value(); err != nil {
		return nil, fmt.Errorf("tfjs: %s: %w", path, err)
	}
	return p.out.Bytes(), nil
}

// MinJSBytes reads a UMD .min.js weight shard whose export is a base64
// string and returns the decoded bytes.
func MinJSBytes(path string) ([]byte, error) {
	j, err := MinJSToJSON(path)
	if err != nil {
		return nil, err
	}
	var s string
	if err := json.Unmarshal(j, &s); err != nil {
		return nil, fmt.Errorf("tfjs: %s: export is not a string: %w", path, err)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("tfjs: %s: base64: %w", path, err)
	}
	return b, nil
}

// jsParser transcribes one JS literal (object, array, string, number,
// !0, !1, null, true, false) at src[pos:] into JSON in out.
type jsParser struct {
	src []byte
	pos int
	out bytes.Buffer
}

func (p *jsParser) errf(format string, a ...any) error {
	line := 1 + bytes.Count(p.src[:min(p.pos, len(p.src))], []byte{'\n'})
	return fmt.Errorf("byte %d (line %d): %s", p.pos, line, fmt.Sprintf(format, a...))
}

func (p *jsParser) skipSpace() {
	for p.pos < len(p.src) && strings.IndexByte(" \t\r\n", p.src[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *jsParser) value() error {
	p.skipSpace()
	if p.pos >= len(p.src) {
		return p.errf("unexpected end of input")
	}
	c := p.src[p.pos]
	switch {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"' || c == '\'':
		s, err := p.str()
		if err != nil {
			return err
		}
		b, _ := json.Marshal(s)
		p.out.Write(b)
		return nil
	case c == '!' && p.pos+1 < len(p.src) && (p.src[p.pos+1] == '0' || p.src[p.pos+1] == '1'):
		if p.src[p.pos+1] == '0' {
			p.out.WriteString("true")
		} else {
			p.out.WriteString("false")
		}
		p.pos += 2
		return nil
	case c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'):
		return p.number()
	}
	for _, w := range []string{"null", "true", "false"} {
		if bytes.HasPrefix(p.src[p.pos:], []byte(w)) {
			p.out.WriteString(w)
			p.pos += len(w)
			return nil
		}
	}
	return p.errf("unexpected %q", c)
}

func (p *jsParser) object() error {
	p.pos++ // {
	p.out.WriteByte('{')
	for first := true; ; first = false {
		p.skipSpace()
		if p.pos < len(p.src) && p.src[p.pos] == '}' {
			p.pos++
			p.out.WriteByte('}')
			return nil
		}
		if !first {
			if p.pos >= len(p.src) || p.src[p.pos] != ',' {
				return p.errf("want ',' or '}' in object")
			}
			p.pos++
			p.skipSpace()
			p.out.WriteByte(',')
		}
		var key string
		if p.pos < len(p.src) && (p.src[p.pos] == '"' || p.src[p.pos] == '\'') {
			s, err := p.str()
			if err != nil {
				return err
			}
			key = s
		} else {
			start := p.pos
			for p.pos < len(p.src) && isIdent(p.src[p.pos]) {
				p.pos++
			}
			if p.pos == start {
				return p.errf("want an object key")
			}
			key = string(p.src[start:p.pos])
		}
		b, _ := json.Marshal(key)
		p.out.Write(b)
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return p.errf("want ':' after key %q", key)
		}
		p.pos++
		p.out.WriteByte(':')
		if err := p.value(); err != nil {
			return err
		}
	}
}

func (p *jsParser) array() error {
	p.pos++ // [
	p.out.WriteByte('[')
	for first := true; ; first = false {
		p.skipSpace()
		if p.pos < len(p.src) && p.src[p.pos] == ']' {
			p.pos++
			p.out.WriteByte(']')
			return nil
		}
		if !first {
			if p.pos >= len(p.src) || p.src[p.pos] != ',' {
				return p.errf("want ',' or ']' in array")
			}
			p.pos++
			p.out.WriteByte(',')
		}
		if err := p.value(); err != nil {
			return err
		}
	}
}

func isIdent(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// number copies a JS numeric literal as a JSON number (".5" -> "0.5").
func (p *jsParser) number() error {
	start := p.pos
	for p.pos < len(p.src) && strings.IndexByte("+-.0123456789eE", p.src[p.pos]) >= 0 {
		p.pos++
	}
	txt := string(p.src[start:p.pos])
	f, err := strconv.ParseFloat(txt, 64)
	if err != nil {
		return p.errf("bad number %q", txt)
	}
	// strconv's shortest round-trip form is valid JSON and exact.
	p.out.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
	return nil
}

// str reads a quoted JS string with the escapes minifiers emit.
func (p *jsParser) str() (string, error) {
	q := p.src[p.pos]
	p.pos++
	start := p.pos
	// Fast path: no escapes (the 5 MB base64 shards).
	if i := bytes.IndexByte(p.src[p.pos:], q); i >= 0 && bytes.IndexByte(p.src[p.pos:p.pos+i], '\\') < 0 {
		p.pos += i + 1
		return string(p.src[start : p.pos-1]), nil
	}
	var sb strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == q:
			p.pos++
			return sb.String(), nil
		case c == '\\':
			if p.pos+1 >= len(p.src) {
				return "", p.errf("unterminated escape")
			}
			e := p.src[p.pos+1]
			p.pos += 2
			switch e {
			case 'n':
				sb.WriteByte('\n')
			case 't':
				sb.WriteByte('\t')
			case 'r':
				sb.WriteByte('\r')
			case 'b':
				sb.WriteByte('\b')
			case 'f':
				sb.WriteByte('\f')
			case 'u':
				if p.pos+4 > len(p.src) {
					return "", p.errf("short \\u escape")
				}
				v, err := strconv.ParseUint(string(p.src[p.pos:p.pos+4]), 16, 16)
				if err != nil {
					return "", p.errf("bad \\u escape")
				}
				sb.WriteRune(rune(v))
				p.pos += 4
			default:
				sb.WriteByte(e)
			}
		default:
			r, n := utf8.DecodeRune(p.src[p.pos:])
			sb.WriteRune(r)
			p.pos += n
		}
	}
	return "", p.errf("unterminated string")
}
