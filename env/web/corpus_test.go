package web

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pilotkit/pilot/env/web/tree"
)

// genPage writes a random page of real-site markup: nested blocks and
// inlines, controls of every kind, labels (some for hidden inputs),
// details, shadow roots, frames, handlers, hidden and offscreen nodes.
func genPage(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString("<!doctype html><title>Generated</title><body>")
	var node func(depth int)
	texts := []string{"alpha", "Beta gamma", "delta <b>bold</b> tail", "price $12.50", "  spaced   out  ", "ünïcode ✓"}
	node = func(depth int) {
		n := 1 + r.IntN(4)
		for range n {
			switch k := r.IntN(24); {
			case depth > 4 || k < 4:
				b.WriteString(texts[r.IntN(len(texts))])
			case k == 4:
				fmt.Fprintf(&b, `<a href="#a%d">link %d</a>`, r.IntN(100), r.IntN(100))
			case k == 5:
				fmt.Fprintf(&b, `<button%s>button %d</button>`, []string{"", " disabled", ` onclick="this.textContent='done'"`}[r.IntN(3)], r.IntN(100))
			case k == 6:
				typ := []string{"text", "checkbox", "radio", "date", "number", "email", "color", "range", "file", "search"}[r.IntN(10)]
				fmt.Fprintf(&b, `<input type="%s" aria-label="field %d">`, typ, r.IntN(100))
			case k == 7:
				fmt.Fprintf(&b, `<label>Pick <select><option>one</option><option>two</option></select></label>`)
			case k == 8:
				id := fmt.Sprintf("c%d", r.IntN(1000))
				fmt.Fprintf(&b, `<input type="checkbox" id="%s" style="display:none"><label for="%s">hidden box %s</label>`, id, id, id)
			case k == 9:
				b.WriteString(`<details><summary>more</summary>`)
				node(depth + 1)
				b.WriteString(`</details>`)
			case k == 10:
				fmt.Fprintf(&b, `<span onclick="void 0">clicky %d</span>`, r.IntN(100))
			case k == 11:
				fmt.Fprintf(&b, `<div tabindex="0">focusable %d</div>`, r.IntN(100))
			case k == 12:
				fmt.Fprintf(&b, `<div style="cursor:pointer">pointer %d</div>`, r.IntN(100))
			case k == 13:
				b.WriteString(`<div style="display:none">`)
				node(depth + 1)
				b.WriteString(`</div>`)
			case k == 14:
				b.WriteString(`<div style="position:absolute;left:-9999px">`)
				node(depth + 1)
				b.WriteString(`</div>`)
			case k == 15:
				b.WriteString(`<div aria-hidden="true">`)
				node(depth + 1)
				b.WriteString(`</div>`)
			case k == 16:
				fmt.Fprintf(&b, `<x-host data-n="%d"></x-host>`, r.IntN(100))
			case k == 17:
				b.WriteString(`<iframe srcdoc="<button>in frame</button><a href='#f'>frame link</a>"></iframe>`)
			case k == 18:
				fmt.Fprintf(&b, `<div role="button">role button %d</div>`, r.IntN(100))
			case k == 19:
				b.WriteString(`<div style="visibility:hidden">`)
				node(depth + 1)
				b.WriteString(`</div>`)
			case k == 20:
				b.WriteString(`<ul><li>`)
				node(depth + 1)
				b.WriteString(`</li></ul>`)
			case k == 21:
				b.WriteString(`<p>`)
				node(depth + 1)
				b.WriteString(`</p>`)
			default:
				tag := []string{"div", "span", "section", "em"}[r.IntN(4)]
				fmt.Fprintf(&b, "<%s>", tag)
				node(depth + 1)
				fmt.Fprintf(&b, "</%s>", tag)
			}
		}
	}
	node(0)
	b.WriteString(`<script>customElements.define('x-host', class extends HTMLElement { connectedCallback() {
  const r = this.attachShadow({mode: this.dataset.n % 2 ? 'open' : 'closed'});
  r.innerHTML = '<button>shadow ' + this.dataset.n + '</button><span>shadow text</span>'; } });</script></body>`)
	return b.String()
}

// TestGeneratedPagesKeepTheirWord loads generated pages in Chromium and
// checks that the observation never contradicts itself: every id in it
// names an element the actions find (in shadow roots and frames too),
// and an action on any of them ends with an observation.
func TestGeneratedPagesKeepTheirWord(t *testing.T) {
	t.Parallel()
	const pages = 25
	bodies := make([]string, pages)
	r := rand.New(rand.NewPCG(15, 2026))
	for i := range bodies {
		bodies[i] = genPage(r)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/p", func(w http.ResponseWriter, req *http.Request) {
		var i int
		fmt.Sscan(req.URL.Query().Get("i"), &i)
		fmt.Fprint(w, bodies[i])
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e := pooledEnv(t)
	checked := 0
	for i := range pages {
		obs := reset(t, e, fmt.Sprintf("%s/p?i=%d", srv.URL, i))
		for _, n := range tree.Parse(obs.Text) {
			if n.ID == "" {
				continue
			}
			st := step(t, e, `hover("`+n.ID+`")`)
			checked++
			if strings.Contains(st.Obs.Error, "no element with id") || strings.Contains(st.Obs.Error, "detached") {
				t.Errorf("page %d: %s %q is in the observation, but hover says: %s\n%s", i, n.Role, n.Name, st.Obs.Error, bodies[i])
			}
		}
		// A click on a few of them: always an observation, never a Go error.
		nodes := tree.Parse(obs.Text)
		for k := 0; k < 3 && len(nodes) > 0; k++ {
			n := nodes[r.IntN(len(nodes))]
			if n.ID != "" && n.Role != "link" {
				step(t, e, `click("`+n.ID+`")`)
			}
		}
	}
	if checked < 100 {
		t.Errorf("only %d ids checked on %d pages: the generator makes too few controls", checked, pages)
	}
}
