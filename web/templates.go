package web

// pageTemplates are the desk's pages: one inline style block, no scripts, no
// external assets (the Content-Security-Policy forbids them anyway).
const pageTemplates = `
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.}} · superalign review desk</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2430}
header{background:#1d2430;color:#fff;padding:.7em 1.5em;display:flex;gap:1.5em;align-items:center}
header a{color:#cfe0ff} header form{margin-left:auto}
main{max-width:62em;margin:1.2em auto;padding:0 1em}
.card{background:#fff;border:1px solid #d8dce3;border-radius:8px;padding:1em 1.2em;margin:0 0 1em}
.text{font-size:1.15em;margin:.3em 0 .8em;padding:.6em .8em;background:#f8f8fb;border-left:4px solid #7a8fb8}
.meta{color:#5a6375;font-size:.9em}
.labels{display:flex;gap:2em;margin:.4em 0}
.tag{display:inline-block;padding:.1em .55em;border-radius:4px;background:#e8edf7;font-weight:600}
.critique{margin:.5em 0;color:#7a3b00}
.evidence{margin:.2em 0 .8em 1.2em;font-size:.9em;color:#394150}
button{font:inherit;padding:.35em .8em;border-radius:5px;border:1px solid #8896ad;background:#fff;cursor:pointer}
button.weak{border-color:#2d6cdf} button.student{border-color:#1b8a5a} button.skip{color:#666}
.actions{display:flex;gap:.6em;flex-wrap:wrap;align-items:center}
.flash{padding:.5em 1em;border-radius:6px;margin-bottom:1em}
.ok{background:#e3f5ea} .err{background:#fde6e6}
table{border-collapse:collapse;width:100%} td,th{padding:.3em .6em;border-bottom:1px solid #e2e5ea;text-align:left}
</style></head><body>{{end}}

{{define "login"}}{{template "head" "Log in"}}
<header><strong>superalign review desk</strong><span>run {{.Run}}</span></header>
<main><div class="card">
<h2>Log in</h2>
{{if .Failed}}<p class="flash err" id="failed">Unknown reviewer token.</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<label>Reviewer token <input id="token" name="token" type="password" autocomplete="off" size="40"></label>
<button id="login" type="submit">Log in</button>
</form></div></main></body></html>{{end}}

{{define "nav"}}<header><strong>superalign review desk</strong>
<a href="/">queue</a> <a href="/runs">runs</a>
<span>reviewer <b id="reviewer">{{.Reviewer}}</b></span>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="{{.CSRF}}"><button>Log out</button></form>
</header>{{end}}

{{define "queue"}}{{template "head" "Queue"}}{{template "nav" .}}
<main id="queue">
<p class="meta">Run <b>{{.Run}}</b> · gold budget: {{.Spent}} of {{.Total}} spent (each decided label counts) · {{len .Items}} item(s) awaiting review</p>
{{if .Done}}<p class="flash ok" id="done">Decision on item {{.Done}} recorded.</p>{{end}}
{{if .Error}}<p class="flash err" id="error">{{.Error}}</p>{{end}}
{{range .Items}}{{$it := .}}
<div class="card" id="item-{{.ID}}">
<div class="meta">item {{.ID}} · round {{.Round}}</div>
{{with img .Image}}<img src="{{.}}" alt="item image" style="image-rendering:pixelated;width:112px">{{end}}
{{if .Text}}<div class="text">{{.Text}}</div>{{end}}
<div class="labels"><span>weak label <span class="tag">{{class .Classes .WeakLabel}}</span></span>
<span>student label <span class="tag">{{class .Classes .StudentLabel}}</span></span></div>
{{if .Critique}}<div class="critique">{{.Critique}}</div>{{end}}
{{if .Evidence}}<ul class="evidence">{{range .Evidence}}<li>{{.}}</li>{{end}}</ul>{{end}}
<form method="post" action="/decide" class="actions">
<input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="id" value="{{.ID}}">
<button class="weak" id="weak-{{.ID}}" name="choice" value="weak">Accept weak: {{class .Classes .WeakLabel}}</button>
<button class="student" id="student-{{.ID}}" name="choice" value="student">Accept student: {{class .Classes .StudentLabel}}</button>
<select name="other" id="otherclass-{{.ID}}">{{range $i, $c := .Classes}}<option value="{{$i}}">{{$c}}</option>{{end}}</select>
<button id="other-{{.ID}}" name="choice" value="other">Give this class</button>
<button class="skip" id="skip-{{.ID}}" name="choice" value="skip">Skip</button>
</form></div>
{{else}}<div class="card" id="empty">Nothing awaits review.</div>{{end}}
{{if .Decisions}}<div class="card"><h3>Recent decisions</h3><table id="decisions">
<tr><th>time</th><th>item</th><th>round</th><th>label</th><th>reviewer</th></tr>
{{range .Decisions}}<tr><td>{{when .Time}}</td><td>{{.ID}}</td><td>{{.Round}}</td><td>{{if eq .Label -1}}skipped{{else}}{{.Label}}{{end}}</td><td>{{.Reviewer}}</td></tr>{{end}}
</table></div>{{end}}
</main></body></html>{{end}}

{{define "runs"}}{{template "head" "Runs"}}{{template "nav" .}}
<main><div class="card"><h2>Runs</h2>
{{if not .Dir}}<p>No runs directory given (w2s serve --runs DIR).</p>{{else}}
<table id="runs"><tr><th>run</th><th>updated</th><th></th></tr>
{{range .Runs}}<tr><td>{{.Name}}</td><td>{{when .Modified}}</td><td>
{{if .Report}}<a href="/runs/{{.Name}}/report.html">report</a>{{end}}
{{if .Summary}}<a href="/runs/{{.Name}}/summary.json">summary.json</a>{{end}}</td></tr>
{{else}}<tr><td colspan="3">No run in {{.Dir}} has a report yet.</td></tr>{{end}}
</table>{{end}}</div></main></body></html>{{end}}
`
