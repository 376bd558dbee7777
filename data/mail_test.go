package data

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMailText(t *testing.T) {
	tests := []struct {
		name, raw, want string
	}{
		{"headers stripped", "From someone  Thu Aug 22 2002\nReceived: from x\n\tby y\nX-Spam-Status: Yes, hits=9\nSubject: hi\n\nHello   there,\n\nfriend.\n", "Hello there, friend."},
		{"crlf", "Subject: a\r\nX-Spam-Flag: YES\r\n\r\nBody\r\nline\r\n", "Body line"},
		{"quoted-printable", "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nCaf=E9 soft=\nbreak =3D ok\n", "Café softbreak = ok"},
		{"base64", "Content-Transfer-Encoding: base64\n\nSGVsbG8gYmFzZTY0IHdvcmxk\n", "Hello base64 world"},
		{"html", "Content-Type: text/html\n\n<html><head><style>p{x}</style></head><body><p>Buy&nbsp;now</p><br>cheap &amp; fast<!-- hidden --></body></html>", "Buy now cheap & fast"},
		{"multipart alternative prefers plain", "Content-Type: multipart/alternative; boundary=\"BB\"\n\n--BB\nContent-Type: text/plain\n\nplain text\n--BB\nContent-Type: text/html\n\n<b>html text</b>\n--BB--\n", "plain text"},
		{"multipart mixed skips attachments", "Content-Type: multipart/mixed; boundary=BB\n\npreamble\n--BB\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\nsee =\nattached\n--BB\nContent-Type: image/gif\nContent-Transfer-Encoding: base64\n\nR0lGODlh\n--BB--\n", "see attached"},
		{"forwarded message headers stripped", "Content-Type: message/rfc822\n\nReceived: from a\nX-Spam-Level: ***\n\ninner body\n", "inner body"},
		{"quoted transport headers in body dropped", "Subject: fwd\n\nlook:\n> Received: from mx.example (mx [1.2.3.4])\n>\tby host; Mon\n> Subject: kept\nend\n", "look: > Subject: kept end"},
		{"only headers", "Subject: nothing\nX-Spam-Status: No\n", ""},
		{"latin1 without declaration", "Subject: x\n\ncaf\xe9\n", "café"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mailText([]byte(tt.raw)); got != tt.want {
				t.Errorf("mailText = %q, want %q", got, tt.want)
			}
		})
	}
	long := "Subject: x\n\n" + strings.Repeat("é", 3000)
	if got := mailText([]byte(long)); utf8.RuneCountInString(got) != maxMailChars || !utf8.ValidString(got) {
		t.Errorf("cap: %d runes, valid %v", utf8.RuneCountInString(got), utf8.ValidString(got))
	}
}
