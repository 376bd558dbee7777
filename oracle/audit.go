package oracle

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds of one audit line: whatever a client sends, a line stays small.
const (
	maxAuditIDs   = 1000 // ids listed; Size keeps the full count
	maxAuditBody  = 256  // bytes of a refused request's body kept
	maxAuditText  = 512  // outcome messages
	maxAuditName  = 160  // run names, clients, endpoints, locations
	maxNoiseHosts = 1024 // clients tracked per minute; the rest share one count
	noiseWindow   = time.Minute
)

type auditLine struct {
	Time     time.Time `json:"time"`
	Run      string    `json:"run,omitempty"`
	Client   string    `json:"client"`
	Endpoint string    `json:"endpoint"`
	IDs      []int     `json:"ids,omitempty"`
	Size     int       `json:"size,omitempty"`
	Outcome  string    `json:"outcome"`
	Flag     string    `json:"flag,omitempty"`
	Reviewer string    `json:"reviewer,omitempty"`
	Label    *int      `json:"label,omitempty"`
	// Body is the start of a refused request's body (at most maxAuditBody
	// bytes, invalid UTF-8 replaced) and BodyBytes its length, so that a
	// refusal can be understood without a huge body filling the log.
	Body      string `json:"body,omitempty"`
	BodyBytes int64  `json:"body_bytes,omitempty"`
	// Truncated: IDs or Body were cut (Size and BodyBytes are the totals).
	Truncated bool `json:"truncated,omitempty"`

	// noise marks a request that never reached a run (authentication
	// failed, no such run or endpoint) or a redirect: logged one by one up
	// to Config.NoisePerMinute per client and minute, then summarised.
	noise bool
	code  string // refusal code of a noise line, for the summary
}

// bound cuts every field a client controls to its limit.
func (l *auditLine) bound() {
	l.Run = clipValid(l.Run, maxAuditName)
	l.Client = clipValid(l.Client, maxAuditName)
	l.Endpoint = clipValid(l.Endpoint, maxAuditName)
	l.Outcome = clipValid(l.Outcome, maxAuditText)
	l.Reviewer = clipValid(l.Reviewer, 64)
	if len(l.IDs) > maxAuditIDs {
		if l.Size < len(l.IDs) {
			l.Size = len(l.IDs)
		}
		l.IDs = l.IDs[:maxAuditIDs]
		l.Truncated = true
	}
}

// clipValid cuts s to at most n bytes on a rune boundary and replaces
// invalid UTF-8, marking a cut with "…".
func clipValid(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// audit1 appends one line, first writing the summaries of a finished noise
// window. A line is one Write call on an O_APPEND file, so concurrent
// requests never interleave within a line.
func (s *Server) audit1(l auditLine) {
	now := s.cfg.Now().UTC()
	if l.Time.IsZero() {
		l.Time = now
	}
	l.bound()
	s.auditMu.Lock()
	defer s.auditMu.Unlock()
	s.flushNoiseLocked(now, false)
	if l.noise {
		if !s.countNoiseLocked(l) {
			return
		}
	}
	s.writeLineLocked(l)
}

func (s *Server) writeLineLocked(l auditLine) {
	b, err := json.Marshal(l)
	if err != nil {
		return
	}
	_, _ = s.audit.Write(append(b, '\n'))
}

// noiseLog counts noise per client host within the current window.
type noiseLog struct {
	start      time.Time
	logged     map[string]int
	suppressed map[string]map[string]int // host → code → count
}

// clientHost is the part of a remote address that names a client: the host
// without the port, which changes with every connection.
func clientHost(remote string) string {
	if h, _, err := net.SplitHostPort(remote); err == nil {
		return h
	}
	return remote
}

// countNoiseLocked reports whether a noise line is still to be written in
// full, or counts it for the window's summary.
func (s *Server) countNoiseLocked(l auditLine) bool {
	n := &s.noise
	if n.logged == nil {
		n.start = l.Time
		n.logged = map[string]int{}
		n.suppressed = map[string]map[string]int{}
	}
	host := clientHost(l.Client)
	if _, ok := n.logged[host]; !ok && len(n.logged) >= maxNoiseHosts {
		host = "other clients"
	}
	if n.logged[host] < s.cfg.NoisePerMinute {
		n.logged[host]++
		return true
	}
	if n.suppressed[host] == nil {
		n.suppressed[host] = map[string]int{}
	}
	code := l.code
	if code == "" {
		code = "other"
	}
	n.suppressed[host][code]++
	return false
}

// flushNoiseLocked writes one summary line per client whose noise was
// suppressed in a window that has ended (or now, with force) and starts a
// new window.
func (s *Server) flushNoiseLocked(now time.Time, force bool) {
	n := &s.noise
	if n.logged == nil || (!force && now.Sub(n.start) < noiseWindow) {
		return
	}
	hosts := make([]string, 0, len(n.suppressed))
	for h := range n.suppressed {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		codes := n.suppressed[h]
		keys := make([]string, 0, len(codes))
		total := 0
		for c, k := range codes {
			keys = append(keys, c)
			total += k
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, c := range keys {
			parts[i] = fmt.Sprintf("%s %d", c, codes[c])
		}
		s.writeLineLocked(auditLine{Time: now, Client: h, Endpoint: "noise_summary", Size: total,
			Outcome: fmt.Sprintf("suppressed %d more unauthenticated or misdirected requests since %s (%s); the first %d were logged in full",
				total, n.start.Format(time.RFC3339), strings.Join(parts, ", "), s.cfg.NoisePerMinute)})
	}
	*n = noiseLog{}
}

// bodyRecorder keeps the first maxAuditBody bytes of a request body and
// counts all bytes read, for the audit line of a refused request.
type bodyRecorder struct {
	r    io.ReadCloser
	head []byte
	n    int64
}

func (b *bodyRecorder) Read(p []byte) (int, error) {
	k, err := b.r.Read(p)
	if room := maxAuditBody - len(b.head); room > 0 {
		b.head = append(b.head, p[:min(k, room)]...)
	}
	b.n += int64(k)
	return k, err
}

func (b *bodyRecorder) Close() error { return b.r.Close() }

// note fills the body fields of a refused request's line. A body never
// read (refused before decoding) is known by its Content-Length only.
func (b *bodyRecorder) note(l *auditLine, contentLength int64) {
	l.BodyBytes = max(b.n, contentLength)
	if len(b.head) > 0 {
		l.Body = clipValid(string(b.head), maxAuditBody)
	}
	if l.BodyBytes > int64(len(b.head)) && len(b.head) > 0 {
		l.Truncated = true
	}
}

// statusRecorder remembers the status a handler wrote, so that redirects
// the router issues on its own (path cleaning) are audited too.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}
