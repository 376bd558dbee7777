package data

import (
	"bytes"
	"encoding/base64"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"regexp"
	"strings"
	"unicode/utf8"
)

// maxMailChars caps each e-mail text. Encoders cost grows with length (a
// transformer quadratically), a few mails are tens of kB of HTML, and the
// signal that separates spam from ham sits in the opening lines.
const maxMailChars = 2000

// mailText returns the readable body of one RFC-822 message: every header
// line is dropped (the SpamAssassin corpus headers carry spam-filter
// verdicts such as X-Spam-Status that would leak the label), MIME text
// parts are decoded (quoted-printable, base64, Latin-1), HTML is reduced to
// its text, whitespace is collapsed and the result is capped.
func mailText(raw []byte) string {
	t := partText(raw, 0)
	t = dropQuotedHeaders(t)
	// Mailing-list ham (spamassassin-talk) also names the filter's fields
	// in prose ("the X-Spam-Status line"); those tokens occur only in ham
	// and would act as a label shortcut, so they go too.
	t = filterField.ReplaceAllString(t, " ")
	t = strings.Join(strings.Fields(t), " ")
	return capRunes(t, maxMailChars)
}

// splitHeader cuts a message (or MIME part) at its first blank line.
func splitHeader(raw []byte) (header map[string]string, body []byte) {
	raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	head, body, found := bytes.Cut(raw, []byte("\n\n"))
	if !found {
		// Only headers, or a part with an empty header block.
		if bytes.HasPrefix(raw, []byte("\n")) {
			return map[string]string{}, raw[1:]
		}
		head, body = raw, nil
	}
	header = map[string]string{}
	var key string
	for _, line := range strings.Split(string(head), "\n") {
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && key != "" {
			header[key] += " " + strings.TrimSpace(line) // folded continuation
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue // the mbox "From " line
		}
		key = strings.ToLower(strings.TrimSpace(k))
		header[key] = strings.TrimSpace(v)
	}
	return header, body
}

// partText extracts text from a message or part, recursing into
// multiparts and attached messages. depth guards against hostile nesting.
func partText(raw []byte, depth int) string {
	h, body := splitHeader(raw)
	return bodyText(h["content-type"], h["content-transfer-encoding"], body, depth)
}

func bodyText(ctype, cte string, body []byte, depth int) string {
	mt, params, err := mime.ParseMediaType(ctype)
	if ctype == "" || err != nil {
		mt = "text/plain"
	}
	switch {
	case strings.HasPrefix(mt, "multipart/") && params["boundary"] != "" && depth < 8:
		var plain, htmls []string
		parts := 0
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				break // io.EOF or a malformed tail: keep what was read
			}
			parts++
			b, _ := io.ReadAll(p)
			pt := p.Header.Get("Content-Type")
			t := bodyText(pt, p.Header.Get("Content-Transfer-Encoding"), b, depth+1)
			if strings.TrimSpace(t) == "" {
				continue
			}
			if strings.HasPrefix(strings.ToLower(pt), "text/html") {
				htmls = append(htmls, t)
			} else {
				plain = append(plain, t)
			}
		}
		if parts == 0 {
			// Some spam declares a boundary its body never uses; read the
			// body as text rather than lose it.
			return bodyText("text/plain", cte, body, depth+1)
		}
		// multipart/alternative repeats the text as HTML: prefer plain.
		if mt == "multipart/alternative" && len(plain) > 0 {
			return strings.Join(plain, "\n")
		}
		return strings.Join(append(plain, htmls...), "\n")
	case mt == "message/rfc822" && depth < 8:
		return partText(decodeTransfer(cte, body), depth+1)
	case strings.HasPrefix(mt, "text/") || strings.HasPrefix(mt, "multipart/"):
		t := toUTF8(decodeTransfer(cte, body))
		if mt == "text/html" || looksHTML.MatchString(t) {
			t = stripHTML(t)
		}
		return t
	}
	return "" // images, attachments: no text signal worth decoding
}

// decodeTransfer undoes a Content-Transfer-Encoding; undecodable input is
// returned as far as it decoded (base64) or as is (quoted-printable).
func decodeTransfer(cte string, body []byte) []byte {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		b, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		if err != nil && len(b) == 0 {
			return body
		}
		return b
	case "base64":
		clean := make([]byte, 0, len(body))
		for _, c := range body {
			if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' {
				clean = append(clean, c)
			}
		}
		if len(clean)%4 == 1 { // a lone trailing sextet encodes nothing
			clean = clean[:len(clean)-1]
		}
		out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
		n, _ := base64.RawStdEncoding.Decode(out, clean)
		return out[:n]
	}
	return body
}

// toUTF8 keeps valid UTF-8 and reads anything else as Latin-1, the
// commonest charset of the 2002-era corpus; each byte maps to one rune.
func toUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

var (
	looksHTML  = regexp.MustCompile(`(?i)<(html|body|head|div|p|br|table|td|font|a\s|img)\b`)
	htmlDrop   = regexp.MustCompile(`(?is)<(script|style|head)\b.*?</(script|style|head)\s*>|<!--.*?-->`)
	htmlTag    = regexp.MustCompile(`(?s)<[^>]*>`)
	htmlBlocks = regexp.MustCompile(`(?i)<(br|p|div|tr|li|h[1-6])\b`)
)

// stripHTML reduces HTML to its visible text: scripts, styles and comments
// go, block tags become line breaks, other tags vanish, entities decode.
func stripHTML(s string) string {
	s = htmlDrop.ReplaceAllString(s, " ")
	s = htmlBlocks.ReplaceAllString(s, "\n<$1")
	s = htmlTag.ReplaceAllString(s, " ")
	return html.UnescapeString(s)
}

// capRunes cuts s to at most n characters (runes, so no character is split).
func capRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for k := range s {
		if i == n {
			return s[:k]
		}
		i++
	}
	return s
}

// quotedHeader matches a transport or filter header line inside a body:
// forwarded and quoted mails (mostly in ham, from mailing lists) carry
// Received, X-Spam-* and similar lines that would hint at the label just
// as the message's own header would.
var (
	quotedHeader = regexp.MustCompile(`(?i)^[>|)\s]*(X-[\w-]+|Received|Return-Path|Delivered-To|Message-Id|Envelope-To|Errors-To|Precedence|List-[\w-]+|X-Status|Status|Sender|Mime-Version|Content-[\w-]+|References|In-Reply-To|Resent-[\w-]+|Mailing-List)\s*:`)
	filterField  = regexp.MustCompile(`(?i)\bX-Spam[\w-]*:?`)
)

// dropQuotedHeaders removes such lines and their folded continuations.
func dropQuotedHeaders(s string) string {
	if !quotedHeader.MatchString(s) && !strings.Contains(s, ":") {
		return s
	}
	lines := strings.Split(s, "\n")
	out := lines[:0]
	dropping := false
	for _, l := range lines {
		if quotedHeader.MatchString(l) || (dropping && isFold(l)) {
			dropping = true
			continue
		}
		dropping = false
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// isFold reports whether a (possibly quoted) line continues a folded
// header: after the quote marks, each with its one optional space, it
// starts with blanks and is not empty.
func isFold(l string) bool {
	for len(l) > 0 && strings.IndexByte(">|)", l[0]) >= 0 {
		l = l[1:]
		if strings.HasPrefix(l, " ") && !strings.HasPrefix(l, "  ") {
			l = l[1:]
		}
	}
	return len(l) > 1 && (l[0] == ' ' || l[0] == '\t') && strings.TrimSpace(l) != ""
}
