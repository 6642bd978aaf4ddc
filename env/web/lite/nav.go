package lite

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/pilotkit/pilot/env/web"
)

// Limits on frames: how deep they nest and how many a page loads.
const (
	maxFrameDepth = 3
	maxFrames     = 32
)

// episode is one task in the browser: its history, cookies and page.
type episode struct {
	jar     *cookies
	hist    []entry
	cur     int
	page    *page
	nextDoc int                    // the next document id
	saved   map[int][]savedControl // form state of documents left, by document id
	done    bool
	answer  string     // the task's expected answer, if any
	reward  web.Scorer // the task's evaluator (ResetWith), nil for none
	steps   int        // steps taken, for the scorer's Turn
}

// entry is one session history entry. Entries of one document (a fragment
// navigation) share its id.
type entry struct {
	url webURL
	doc int
}

// page is the top-level document with pilot's element ids and the focus.
type page struct {
	doc    *document
	docID  int
	ids    map[*html.Node]int
	nodes  map[int]nodeRef
	nextID int
	focus  nodeRef
	// start is where sequential focus navigation (Tab) starts when
	// nothing is focused: the last element clicked.
	start nodeRef
	// selAll is set when the focused text field's whole text is selected
	// (Control+a, or Tab into a text input): typing replaces it. Otherwise
	// the caret is at the end of the text.
	selAll bool
}

// nodeRef is an element and its document.
type nodeRef struct {
	n *html.Node
	d *document
}

func newPage(d *document, id int) *page {
	return &page{doc: d, docID: id, ids: map[*html.Node]int{}, nodes: map[int]nodeRef{}}
}

// idOf returns the element's pilot id, giving it the next one the first
// time: ids count from 1 in walk order and stay with their element.
func (p *page) idOf(d *document, n *html.Node) int {
	if id, ok := p.ids[n]; ok {
		return id
	}
	p.nextID++
	p.ids[n] = p.nextID
	p.nodes[p.nextID] = nodeRef{n, d}
	return p.nextID
}

func (p *page) setFocus(r nodeRef) {
	p.focus = r
	p.selAll = false
	if r.n != nil {
		p.start = r
	}
}

// blur leaves nothing focused; Tab navigation starts after start.
func (p *page) blur(start nodeRef) {
	p.focus, p.start, p.selAll = nodeRef{}, start, false
}

// focused returns the focused element, if it is still on the page.
func (p *page) focused() nodeRef {
	if p.focus.n == nil || !p.focus.d.alive || !attached(p.focus.n, p.focus.d) {
		return nodeRef{}
	}
	return p.focus
}

// attached reports whether n is still in d's tree.
func attached(n *html.Node, d *document) bool {
	for ; n != nil; n = n.Parent {
		if n == d.root {
			return true
		}
	}
	return false
}

// observe walks the page as pilot.js's observe() does.
func (p *page) observe() (string, *walker) {
	w := &walker{p: p}
	if f := p.focused(); f.n == nil {
		p.focus = nodeRef{}
	}
	if p.doc.body != nil {
		w.walk(p.doc, p.doc.body, 0, false, bodyVisHidden(p.doc), "")
		w.flush()
	}
	return w.b.String(), w
}

// ---- navigation ------------------------------------------------------------

// navigate loads req in the top-level browsing context: a new history entry,
// or a replacement of the current one when replace is set or the URL is
// the current one (as Chromium does). A page that answers 204 or a
// download leaves the page as it is.
func (b *Browser) navigate(ctx context.Context, req request, replace bool) (*loadError, error) {
	ep := b.ep
	cur := ep.page.doc.url
	if req.method == http.MethodGet && req.url.hasFrag && req.url.withoutFragment() == cur.withoutFragment() && cur.isHTTP() {
		// A fragment navigation: same document, new entry.
		if req.url != cur {
			ep.page.doc.url = req.url
			ep.hist = append(ep.hist[:ep.cur+1], entry{url: req.url, doc: ep.page.docID})
			ep.cur++
		}
		ep.page.scrollToFragment()
		return nil, nil
	}
	d, lerr, err := b.load(ctx, req)
	if err != nil || lerr != nil || d == nil {
		return lerr, err
	}
	if req.method == http.MethodGet && req.url == cur {
		replace = true
	}
	b.leave(replace)
	id := ep.nextDoc
	ep.nextDoc++
	if replace {
		ep.hist[ep.cur] = entry{url: d.url, doc: id}
	} else {
		ep.hist = append(ep.hist[:ep.cur+1], entry{url: d.url, doc: id})
		ep.cur++
	}
	ep.page = newPage(d, id)
	b.autofocus()
	ep.page.scrollToFragment()
	return nil, nil
}

// traverse moves delta entries in the history: the same document for a
// fragment entry, else the entry's URL loaded again (GET, whatever method
// made it) with the form state the page had when it was left.
func (b *Browser) traverse(ctx context.Context, delta int) (string, error) {
	ep := b.ep
	i := ep.cur + delta
	if i < 0 || i >= len(ep.hist) {
		if delta < 0 {
			return "go_back: there is no earlier page in this tab's history", nil
		}
		return "go_forward: there is no later page in this tab's history", nil
	}
	e := ep.hist[i]
	if msg := b.checkURL(e.url); msg != "" {
		return "history move refused: " + msg, nil
	}
	if e.doc == ep.page.docID {
		ep.page.doc.url = e.url
		ep.cur = i
		return "", nil
	}
	var d *document
	if e.url.isBlank() {
		d = blankDocument()
	} else {
		var lerr *loadError
		var err error
		d, lerr, err = b.load(ctx, request{method: http.MethodGet, url: e.url})
		if err != nil {
			return "", err
		}
		if lerr != nil {
			return lerr.message(), nil
		}
		if d == nil {
			return "the page did not load: the server sent no page (status 204 or a download)", nil
		}
	}
	b.leave(false)
	ep.cur = i
	ep.hist[i].url = d.url
	ep.page = newPage(d, e.doc)
	if saved, ok := ep.saved[e.doc]; ok {
		restoreControls(d, saved)
		delete(ep.saved, e.doc)
	}
	b.autofocus()
	ep.page.scrollToFragment()
	return "", nil
}

// leave saves the form state of the page being left (for a later visit
// through the history), unless its entry is being replaced.
func (b *Browser) leave(replaced bool) {
	ep := b.ep
	if replaced {
		delete(ep.saved, ep.page.docID)
		return
	}
	if s := saveControls(ep.page.doc); len(s) > 0 {
		ep.saved[ep.page.docID] = s
	}
}

// load fetches req and parses the response, with its frames, for the
// top-level page. It returns no document (and no error) for a response that
// a browser does not show.
func (b *Browser) load(ctx context.Context, req request) (*document, *loadError, error) {
	d, lerr, err := b.loadFrameContent(ctx, req)
	if err != nil || lerr != nil || d == nil {
		return nil, lerr, err
	}
	budget := maxFrames
	if err := b.loadFrames(ctx, d, 0, &budget); err != nil {
		return nil, nil, err
	}
	return d, nil, nil
}

// loadFrames loads the contents of d's iframes: srcdoc, about:blank and
// same-origin pages (a cross-origin frame is not shown, as in pilot.js).
func (b *Browser) loadFrames(ctx context.Context, d *document, depth int, budget *int) error {
	var frames []*html.Node
	d.eachElement(func(n *html.Node) {
		if isEl(n, atom.Iframe) {
			frames = append(frames, n)
		}
	})
	if len(frames) == 0 {
		return nil
	}
	d.frames = map[*html.Node]*frame{}
	for _, n := range frames {
		fr := &frame{}
		d.frames[n] = fr
		if depth >= maxFrameDepth || *budget <= 0 {
			continue
		}
		*budget--
		fd, err := b.frameDocument(ctx, d, n)
		if err != nil {
			return err
		}
		if fd == nil {
			continue
		}
		fd.parent, fd.host = d, n
		fr.doc = fd
		if err := b.loadFrames(ctx, fd, depth+1, budget); err != nil {
			return err
		}
	}
	return nil
}

// frameDocument returns the document an iframe shows, or nil when it is
// cross-origin or does not load.
func (b *Browser) frameDocument(ctx context.Context, d *document, n *html.Node) (*document, error) {
	if srcdoc, ok := attr(n, "srcdoc"); ok {
		fd := parseHTML(webURL{scheme: "about", path: "srcdoc"}, []byte(srcdoc))
		fd.base, fd.origin = d.base, d.origin
		return fd, nil
	}
	src := attrVal(n, "src")
	if src == "" {
		fd := blankDocument()
		fd.origin = d.origin
		return fd, nil
	}
	u, err := resolveURL(&d.base, src)
	if err != nil {
		return nil, nil
	}
	if u.isBlank() {
		fd := blankDocument()
		fd.origin = d.origin
		return fd, nil
	}
	if !u.isHTTP() || u.origin() != d.origin || b.checkURL(u) != "" {
		return nil, nil
	}
	fd, lerr, err := b.loadFrameContent(ctx, request{method: http.MethodGet, url: u, referrer: d.url.String()})
	if err != nil || lerr != nil || fd == nil || fd.origin != d.origin {
		return nil, err
	}
	return fd, nil
}

// loadFrameContent fetches a page (of a frame, or the top-level one)
// without the pages of its frames.
func (b *Browser) loadFrameContent(ctx context.Context, req request) (*document, *loadError, error) {
	resp, lerr, err := b.fetch(ctx, b.ep.jar, req)
	if err != nil || lerr != nil {
		return nil, lerr, err
	}
	var d *document
	switch kindOf(resp) {
	case kindHTML:
		d = parseHTML(resp.url, resp.body)
	case kindText:
		d = parseText(resp.url, resp.body)
	default:
		return nil, nil, nil
	}
	d.origin = resp.url.origin()
	d.status = resp.status
	return d, nil, nil
}

// navigateFrame loads req in the frame that shows fd. Frame navigations
// make no history entry in lite (Chromium makes one).
func (b *Browser) navigateFrame(ctx context.Context, fd *document, req request) (*loadError, error) {
	parent, host := fd.parent, fd.host
	fr := parent.frames[host]
	if fr == nil || fr.doc != fd {
		return nil, nil
	}
	if req.method == http.MethodGet && req.url.hasFrag && req.url.withoutFragment() == fd.url.withoutFragment() {
		fd.url = req.url
		return nil, nil
	}
	nd, lerr, err := b.loadFrameContent(ctx, req)
	if err != nil || lerr != nil || nd == nil {
		return lerr, err
	}
	fd.alive = false
	if nd.origin != parent.origin {
		fr.doc = nil
		return nil, nil
	}
	nd.parent, nd.host = parent, host
	fr.doc = nd
	budget := maxFrames
	return nil, b.loadFrames(ctx, nd, 1, &budget)
}

// scrollToFragment does what Chromium does with the focus when it
// scrolls to the fragment's element: it focuses the element if it can take
// the focus, else clears the focus and starts Tab navigation there.
func (p *page) scrollToFragment() {
	u := p.doc.url
	if !u.hasFrag || u.frag == "" {
		return
	}
	id := u.frag
	if dec, err := url.PathUnescape(id); err == nil {
		id = dec
	}
	target := p.doc.byID[id]
	if target == nil {
		p.doc.eachElement(func(n *html.Node) {
			if target == nil && isEl(n, atom.A) && attrVal(n, "name") == id {
				target = n
			}
		})
	}
	if target == nil {
		return
	}
	if focusable(target) {
		p.setFocus(nodeRef{target, p.doc})
		return
	}
	p.blur(nodeRef{target, p.doc})
}

// autofocus focuses the first element with an autofocus attribute.
func (b *Browser) autofocus() {
	p := b.ep.page
	var found *html.Node
	p.doc.eachElement(func(n *html.Node) {
		if found == nil && hasAttr(n, "autofocus") && focusable(n) && rendered(n) {
			found = n
		}
	})
	if found != nil {
		p.setFocus(nodeRef{found, p.doc})
	}
}

// ---- form state across history ----------------------------------------------

// savedControl is a control's state when its page was left, keyed by its
// form, name and type, as Chromium's form state restoration keys it.
type savedControl struct {
	key      string
	value    string
	dirty    bool
	checked  bool
	selected []bool
}

// restorable lists the controls whose state a history visit restores.
func restorable(d *document, f func(n *html.Node, key string)) {
	formKeys := map[*html.Node]string{}
	seen := map[string]int{}
	d.eachElement(func(n *html.Node) {
		if isEl(n, atom.Form) {
			a := attrVal(n, "action")
			formKeys[n] = a + "\x00" + strconv.Itoa(seen[a])
			seen[a]++
		}
	})
	d.eachElement(func(n *html.Node) {
		var typ string
		switch htmlEl(n) {
		case atom.Input:
			typ = inputType(n)
			switch typ {
			case "hidden", "password", "file", "submit", "image", "reset", "button":
				return
			}
		case atom.Textarea:
			typ = "textarea"
		case atom.Select:
			typ = "select"
		default:
			return
		}
		owner := d.formOwner(n)
		if asciiLower(attrVal(n, "autocomplete")) == "off" || owner != nil && asciiLower(attrVal(owner, "autocomplete")) == "off" {
			return
		}
		f(n, formKeys[owner]+"\x00"+attrVal(n, "name")+"\x00"+typ)
	})
}

func saveControls(d *document) []savedControl {
	var out []savedControl
	restorable(d, func(n *html.Node, key string) {
		s := savedControl{key: key}
		if isEl(n, atom.Select) {
			for _, o := range selectOptions(n) {
				s.selected = append(s.selected, d.state(o).selected)
			}
		} else {
			c := d.state(n)
			s.value, s.dirty, s.checked = c.value, c.dirty, c.checked
		}
		out = append(out, s)
	})
	return out
}

func restoreControls(d *document, saved []savedControl) {
	queues := map[string][]savedControl{}
	for _, s := range saved {
		queues[s.key] = append(queues[s.key], s)
	}
	restorable(d, func(n *html.Node, key string) {
		qu := queues[key]
		if len(qu) == 0 {
			return
		}
		s := qu[0]
		queues[key] = qu[1:]
		switch htmlEl(n) {
		case atom.Select:
			opts := selectOptions(n)
			if len(opts) != len(s.selected) {
				return
			}
			for i, o := range opts {
				d.state(o).selected = s.selected[i]
			}
		case atom.Input:
			c := d.state(n)
			switch inputType(n) {
			case "checkbox":
				c.checked = s.checked
			case "radio":
				c.checked = s.checked
				if s.checked {
					d.uncheckGroup(n)
				}
			default:
				if s.dirty {
					c.value, c.dirty = s.value, true
				}
			}
		default:
			if s.dirty {
				c := d.state(n)
				c.value, c.dirty = s.value, true
			}
		}
	})
}
