// Package viewer serves a run directory (evals/runstore) as a local
// trajectory viewer: the episodes, filtered by outcome, and for each the
// steps with the screenshot or camera frame, the observation's text, the
// action, the reward, the model's answer with its usage and attempts, and
// the timings; j/k (or the arrow keys) move between steps. Everything a run
// holds is escaped by html/template: observations and model answers are
// untrusted HTML.
//
//	h, err := viewer.New(ctx, "runs/shop-test-20261203-120000")
//	http.ListenAndServe("127.0.0.1:8090", h)
package viewer

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pilotkit/pilot/agent"
	"github.com/pilotkit/pilot/evals"
	"github.com/pilotkit/pilot/evals/runstore"
	"github.com/pilotkit/pilot/planner"
)

// Viewer is the http.Handler of one run. It reads the run's results once,
// and each episode's trajectory when it is asked for.
type Viewer struct {
	dir     string
	man     evals.Manifest
	results []evals.Result
	byKey   map[string]int
	mux     *http.ServeMux
}

// New reads the run in dir and returns its viewer.
func New(ctx context.Context, dir string) (*Viewer, error) {
	db, err := runstore.Open(dir)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rs, err := db.Results()
	if err != nil {
		return nil, err
	}
	v := &Viewer{dir: dir, man: db.Manifest(), results: rs, byKey: map[string]int{}, mux: http.NewServeMux()}
	for i, r := range rs {
		v.byKey[r.Key()] = i
	}
	v.mux.HandleFunc("GET /{$}", v.list)
	v.mux.HandleFunc("GET /episode/{key}", v.episode)
	v.mux.HandleFunc("GET /files/{key}/images/{name}", v.image)
	return v, nil
}

func (v *Viewer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self'")
	v.mux.ServeHTTP(w, r)
}

type listRow struct {
	Key, Outcome, Kind, Reason string
	Reward                     string
	Steps                      int
}

func (v *Viewer) list(w http.ResponseWriter, r *http.Request) {
	want := r.URL.Query().Get("outcome")
	if want != "" && !slices.Contains([]string{evals.OutcomeSuccess, evals.OutcomeFailure, evals.OutcomeError}, want) {
		http.Error(w, "outcome must be success, failure or error", http.StatusBadRequest)
		return
	}
	counts := map[string]int{}
	var rows []listRow
	for _, res := range v.results {
		counts[res.Outcome]++
		if want != "" && res.Outcome != want {
			continue
		}
		reason := res.Reason
		if res.Error != "" {
			reason = res.Error
		}
		rows = append(rows, listRow{Key: res.Key(), Outcome: res.Outcome, Kind: res.ErrorKind, Reason: clip(reason, 160),
			Reward: fmt.Sprintf("%.3f", res.Reward), Steps: res.Steps})
	}
	rep := evals.Summarize(v.man.Suite, len(v.man.Planned), v.results)
	render(w, listPage, map[string]any{
		"Title": v.man.Suite + " · " + v.man.Policy, "Dir": v.dir, "Rows": rows, "Filter": want, "Counts": counts,
		"Total": len(v.results), "Success": fmt.Sprintf("%.1f%%", 100*rep.SuccessRate), "Scored": rep.Scored,
	})
}

type stepView struct {
	Index                           int
	Action, Thought, Reward, Reason string
	Text, URL, Title, Error         string
	Images                          []string
	Answer, Model, Usage, Attempts  string
	Prompt                          string
	EnvTime, PolicyTime             string
	Done                            bool
	Search                          *searchView
}

// searchView is a searched step's search (planner.Record, or
// planner.CEMRecord).
type searchView struct {
	Summary              string
	Nodes                []nodeView
	Skipped, Reflections []string
}

type nodeView struct {
	Indent, Action, Value, Visits, Reward string
	OnPath, Done                          bool
}

// searchOf reads a step's Meta["search"], nil without one.
func searchOf(meta map[string]any) *searchView {
	raw, ok := meta["search"]
	if !ok {
		return nil
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil
	}
	var head struct {
		Planner string `json:"planner"`
		Planned bool   `json:"planned"`
	}
	if json.Unmarshal(b, &head) != nil || head.Planner == "" {
		return nil
	}
	if head.Planned {
		return &searchView{Summary: head.Planner + ": the searched path goes on (no search at this step)"}
	}
	if head.Planner == "cem" {
		var r planner.CEMRecord
		if json.Unmarshal(b, &r) != nil {
			return nil
		}
		return &searchView{Summary: fmt.Sprintf("cem in the %s: %d sequences over %d iterations, %d env steps, best %.3f, elite means %v%s, %s",
			r.Model, r.Sequences, r.Iterations, r.EnvSteps, r.Best, r.EliteMeans, oracleNote(r.Oracle), r.Wall)}
	}
	var r planner.Record
	if json.Unmarshal(b, &r) != nil {
		return nil
	}
	sv := &searchView{Summary: fmt.Sprintf("%s: %d nodes, %d env steps, %d value calls, %d model calls%s, %s; %s",
		r.Planner, len(r.Nodes), r.EnvSteps, r.ValueCalls, r.ModelCalls, oracleNote(r.Oracle), r.Wall, r.Stopped), Skipped: r.Skipped, Reflections: r.Reflections}
	onPath := map[int]bool{}
	for _, id := range r.Path {
		onPath[id] = true
	}
	for _, n := range r.Nodes {
		act := n.Action
		if n.ID == 0 {
			act = "(the state searched from)"
		}
		nv := nodeView{Indent: strings.Repeat("· ", n.Depth), Action: act, Reward: fmt.Sprintf("%.3g", n.Reward), OnPath: onPath[n.ID], Done: n.Done}
		if n.Valued {
			nv.Value = fmt.Sprintf("%.3f", n.Value)
		}
		if n.Visits > 0 {
			nv.Visits = fmt.Sprint(n.Visits)
		}
		sv.Nodes = append(sv.Nodes, nv)
	}
	return sv
}

func oracleNote(o bool) string {
	if o {
		return ", with an oracle's value"
	}
	return ""
}

func (v *Viewer) episode(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	i, ok := v.byKey[key]
	if !ok {
		http.Error(w, "no episode "+key+" in this run", http.StatusNotFound)
		return
	}
	res := v.results[i]
	f, err := os.Open(filepath.Join(v.dir, evals.EpisodesDir, key, agent.TrajectoryFile))
	if err != nil {
		http.Error(w, "the episode's trajectory: "+err.Error(), http.StatusNotFound)
		return
	}
	traj, err := agent.ReadJSONL(f)
	f.Close()
	if err != nil {
		http.Error(w, "the episode's trajectory does not read: "+err.Error(), http.StatusInternalServerError)
		return
	}
	var steps []stepView
	for _, s := range traj.Steps {
		sv := stepView{Index: s.Index, Action: s.ActionText, Thought: s.Thought, Reward: fmt.Sprintf("%.3f", s.Reward), Reason: s.Reason,
			Text: s.Obs.Text, URL: s.Obs.URL, Title: s.Obs.Title, Error: s.Obs.Error,
			EnvTime: s.EnvTime.String(), PolicyTime: s.PolicyTime.String(), Done: s.Terminated || s.Truncated}
		for _, im := range s.Obs.Images {
			if im.Path != "" {
				sv.Images = append(sv.Images, "/files/"+key+"/"+im.Path)
			}
		}
		if a, ok := s.Meta["answer"].(string); ok {
			sv.Answer = a
		}
		if pr, ok := s.Meta["prompt"].(string); ok {
			sv.Prompt = pr
		}
		if m, ok := s.Meta["model"].(string); ok {
			sv.Model = m
		}
		if s.Usage.Tokens() > 0 || s.Usage.CostUSD > 0 {
			sv.Usage = fmt.Sprintf("%d prompt + %d completion tokens, $%.5f, %s", s.Usage.PromptTokens, s.Usage.CompletionTokens, s.Usage.CostUSD, s.Usage.Latency)
		}
		if at, ok := s.Meta["attempts"]; ok {
			b, _ := json.Marshal(at)
			sv.Attempts = string(b)
		}
		sv.Search = searchOf(s.Meta)
		steps = append(steps, sv)
	}
	prev, next := "", ""
	if i > 0 {
		prev = v.results[i-1].Key()
	}
	if i+1 < len(v.results) {
		next = v.results[i+1].Key()
	}
	render(w, episodePage, map[string]any{
		"Key": key, "Task": traj.Task.Instruction, "Result": res, "Steps": steps, "Reset": traj.Reset.Text,
		"Prev": prev, "Next": next, "Error": traj.Error,
	})
}

// image serves a stored image of an episode.
func (v *Viewer) image(w http.ResponseWriter, r *http.Request) {
	key, name := r.PathValue("key"), r.PathValue("name")
	if _, ok := v.byKey[key]; !ok || name != path.Base(name) || strings.HasPrefix(name, ".") {
		http.NotFound(w, r)
		return
	}
	http.ServeFile(w, r, filepath.Join(v.dir, evals.EpisodesDir, key, "images", name))
}

func render(w http.ResponseWriter, t *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := t.Execute(w, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

const style = `<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f3f3f3}
.success{color:#17702f}.failure{color:#a33}.error{color:#a60}.step{border:1px solid #ddd;margin:1em 0;padding:.5em 1em}
.step.current{border-color:#36c;box-shadow:0 0 0 2px #36c3}pre{white-space:pre-wrap;background:#f7f7f7;padding:.5em;max-height:30em;overflow:auto}
img{max-width:640px;border:1px solid #ccc}nav a{margin-right:1em}tr.path td{background:#eef4ff;font-weight:600}
</style>`

var listPage = template.Must(template.New("list").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>` + style + `</head><body>
<h1>{{.Title}}</h1>
<p>{{.Dir}}: {{.Total}} episodes, success {{.Success}} of {{.Scored}} scored.</p>
<nav>show: <a href="/">all</a> <a href="/?outcome=success">success ({{index .Counts "success"}})</a> <a href="/?outcome=failure">failure ({{index .Counts "failure"}})</a> <a href="/?outcome=error">error ({{index .Counts "error"}})</a></nav>
<table><tr><th>episode</th><th>outcome</th><th>reward</th><th>steps</th><th>reason or error</th></tr>
{{range .Rows}}<tr><td><a href="/episode/{{.Key}}">{{.Key}}</a></td><td class="{{.Outcome}}">{{.Outcome}}{{if .Kind}} ({{.Kind}}){{end}}</td><td>{{.Reward}}</td><td>{{.Steps}}</td><td>{{.Reason}}</td></tr>
{{end}}</table></body></html>`))

var episodePage = template.Must(template.New("episode").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{.Key}}</title>` + style + `</head><body>
<nav><a href="/">all episodes</a>{{if .Prev}}<a href="/episode/{{.Prev}}">previous episode</a>{{end}}{{if .Next}}<a href="/episode/{{.Next}}">next episode</a>{{end}}</nav>
<h1>{{.Key}}: <span class="{{.Result.Outcome}}">{{.Result.Outcome}}</span></h1>
<p>Task: {{.Task}}</p>
<p>reward {{printf "%.3f" .Result.Reward}}, {{.Result.Steps}} steps, attempt {{.Result.Attempt}}{{if .Result.Reason}}, {{.Result.Reason}}{{end}}</p>
{{if .Error}}<p class="error">Error: {{.Error}}</p>{{end}}
<p>Keys: j or → next step, k or ← previous step.</p>
<details><summary>observation after reset</summary><pre>{{.Reset}}</pre></details>
{{range .Steps}}<section class="step" id="step-{{.Index}}"><h2>Step {{.Index}}: {{.Action}}</h2>
<p>reward {{.Reward}}{{if .Done}} · the episode ended{{if .Reason}}: {{.Reason}}{{end}}{{end}} · env {{.EnvTime}} · policy {{.PolicyTime}}</p>
{{if .Thought}}<p>Thought: {{.Thought}}</p>{{end}}
{{if .Model}}<p>Model {{.Model}}{{if .Usage}}: {{.Usage}}{{end}}</p>{{end}}
{{if .Prompt}}<details><summary>the model's prompt</summary><pre>{{.Prompt}}</pre></details>{{end}}
{{if .Answer}}<p>Answer:</p><pre>{{.Answer}}</pre>{{end}}
{{if .Attempts}}<p>Attempts: <code>{{.Attempts}}</code></p>{{end}}
{{with .Search}}<details class="search"><summary>search: {{.Summary}}</summary>{{if .Nodes}}
<table><tr><th>candidate</th><th>value</th><th>visits</th><th>reward</th></tr>{{range .Nodes}}<tr{{if .OnPath}} class="path"{{end}}><td>{{.Indent}}{{.Action}}{{if .Done}} (ended){{end}}</td><td>{{.Value}}</td><td>{{.Visits}}</td><td>{{.Reward}}</td></tr>{{end}}</table>{{end}}
{{range .Skipped}}<p>Not explored: {{.}}</p>{{end}}{{range .Reflections}}<p>Lesson: {{.}}</p>{{end}}</details>{{end}}
{{if .Error}}<p class="error">The action's error: {{.Error}}</p>{{end}}
{{range .Images}}<img src="{{.}}" alt="screenshot">{{end}}
<p>{{.Title}} {{.URL}}</p><details><summary>observation</summary><pre>{{.Text}}</pre></details></section>
{{end}}
<script>
(function(){var s=document.querySelectorAll('.step'),i=-1;
function go(j){if(!s.length)return;i=Math.max(0,Math.min(s.length-1,j));s.forEach(function(e){e.classList.remove('current')});s[i].classList.add('current');s[i].scrollIntoView({block:'start'});history.replaceState(null,'','#'+s[i].id)}
document.addEventListener('keydown',function(e){if(e.key==='j'||e.key==='ArrowRight'){go(i+1);e.preventDefault()}if(e.key==='k'||e.key==='ArrowLeft'){go(i-1);e.preventDefault()}});
})();
</script></body></html>`))
