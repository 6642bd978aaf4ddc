package lite

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"

	"golang.org/x/net/html"

	"github.com/pilotkit/pilot/env"
)

// A Browser snapshots its episode in memory: the pages (their trees and
// the state of their controls), the history, the saved form state, the
// focus and the cookies. It fetches nothing to restore, so a restore
// brings back exactly what was seen, whatever the site would answer now;
// a site's own state (the shop's cart) is the site's to save.
var _ env.Snapshotter = (*Browser)(nil)

// state is a Browser's saved episode.
type state struct {
	b     *Browser
	epoch int
	ep    *episode // a copy of its own, cloned again at each restore
	obs   env.Observation
}

func (s *state) Observation() env.Observation { return s.obs }

// Snapshot saves the episode: a copy of its pages, history, focus and
// cookies. It costs a copy of the page's tree (tens of microseconds for a
// page of the shop).
func (b *Browser) Snapshot(ctx context.Context) (env.State, error) {
	switch {
	case b.closed:
		return nil, fmt.Errorf("lite: snapshot: %w", env.ErrClosed)
	case b.ep == nil:
		return nil, fmt.Errorf("lite: snapshot: %w", env.ErrNotReset)
	}
	return &state{b: b, epoch: b.epoch, ep: b.ep.clone(), obs: b.last}, nil
}

// Restore brings back an episode that Snapshot saved since the last Reset.
func (b *Browser) Restore(ctx context.Context, st env.State) error {
	s, ok := st.(*state)
	switch {
	case b.closed:
		return fmt.Errorf("lite: restore: %w", env.ErrClosed)
	case !ok || s == nil || s.b != b:
		return fmt.Errorf("lite: restore: %w", env.ErrForeignState)
	case s.epoch != b.epoch || b.ep == nil:
		return fmt.Errorf("lite: restore: %w", env.ErrStaleState)
	}
	b.shaper.Reset()
	b.ep, b.last = s.ep.clone(), s.obs
	return nil
}

// clone copies the episode deeply enough that neither copy's actions
// change the other: the documents are copied node by node.
func (ep *episode) clone() *episode {
	size := 0
	countDoc(ep.page.doc, &size)
	c := &cloner{nodes: make(map[*html.Node]*html.Node, size), docs: map[*document]*document{}, slab: make([]html.Node, size)}
	n := *ep
	n.jar = ep.jar.clone()
	n.hist = slices.Clone(ep.hist)
	n.saved = maps.Clone(ep.saved) // the slices are replaced, never changed
	n.page = c.page(ep.page)
	return &n
}

type cloner struct {
	nodes map[*html.Node]*html.Node
	docs  map[*document]*document
	slab  []html.Node // where the copies go, allocated at once
}

// countDoc adds the nodes of d and of its frames' documents to n.
func countDoc(d *document, n *int) {
	var count func(*html.Node)
	count = func(x *html.Node) {
		*n++
		for c := x.FirstChild; c != nil; c = c.NextSibling {
			count(c)
		}
	}
	if d.root != nil {
		count(d.root)
	}
	for _, f := range d.frames {
		if f.doc != nil {
			countDoc(f.doc, n)
		}
	}
}

// node returns the copy of n; n itself when it is not in a copied
// document (a frame's document that was replaced: it no longer changes).
func (c *cloner) node(n *html.Node) *html.Node {
	if n == nil {
		return nil
	}
	if m, ok := c.nodes[n]; ok {
		return m
	}
	return n
}

func (c *cloner) doc(d *document) *document {
	if d == nil {
		return nil
	}
	if m, ok := c.docs[d]; ok {
		return m
	}
	return d
}

func (c *cloner) page(p *page) *page {
	n := *p
	n.doc = c.document(p.doc, nil)
	n.ids = make(map[*html.Node]int, len(p.ids))
	for k, v := range p.ids {
		n.ids[c.node(k)] = v
	}
	n.nodes = make(map[int]nodeRef, len(p.nodes))
	for k, v := range p.nodes {
		n.nodes[k] = c.ref(v)
	}
	n.focus, n.start = c.ref(p.focus), c.ref(p.start)
	return &n
}

func (c *cloner) ref(r nodeRef) nodeRef { return nodeRef{n: c.node(r.n), d: c.doc(r.d)} }

// document copies d, its tree and its frames' documents.
func (c *cloner) document(d *document, parent *document) *document {
	n := *d
	c.docs[d] = &n
	n.root = c.tree(d.root, nil)
	n.body = c.node(d.body)
	n.parent = parent
	if parent != nil {
		n.host = c.node(d.host)
	}
	n.byID = make(map[string]*html.Node, len(d.byID))
	for k, v := range d.byID {
		n.byID[k] = c.node(v)
	}
	n.labels = make(map[*html.Node][]*html.Node, len(d.labels))
	for k, v := range d.labels {
		ls := make([]*html.Node, len(v))
		for i, l := range v {
			ls[i] = c.node(l)
		}
		n.labels[c.node(k)] = ls
	}
	n.ctl = make(map[*html.Node]*control, len(d.ctl))
	for k, v := range d.ctl {
		ct := *v
		n.ctl[c.node(k)] = &ct
	}
	if d.frames != nil {
		n.frames = make(map[*html.Node]*frame, len(d.frames))
		for k, v := range d.frames {
			f := &frame{}
			if v.doc != nil {
				f.doc = c.document(v.doc, &n)
			}
			n.frames[c.node(k)] = f
		}
	}
	return &n
}

// tree copies the tree under n.
func (c *cloner) tree(n, parent *html.Node) *html.Node {
	if n == nil {
		return nil
	}
	var m *html.Node
	if len(c.slab) > 0 {
		m, c.slab = &c.slab[0], c.slab[1:]
	} else {
		m = new(html.Node)
	}
	*m = html.Node{Type: n.Type, DataAtom: n.DataAtom, Data: n.Data, Namespace: n.Namespace, Parent: parent}
	if len(n.Attr) > 0 {
		m.Attr = slices.Clone(n.Attr)
	}
	c.nodes[n] = m
	var prev *html.Node
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		cm := c.tree(ch, m)
		if prev == nil {
			m.FirstChild = cm
		} else {
			prev.NextSibling, cm.PrevSibling = cm, prev
		}
		prev = cm
	}
	m.LastChild = prev
	return m
}

// cookies is an episode's cookie jar that can be copied: it keeps what it
// was given, to give it to a new jar. A site that sets no cookies (the
// shop) costs nothing.
type cookies struct {
	jar *cookiejar.Jar
	set []cookieSet
}

type cookieSet struct {
	u  *url.URL
	cs []*http.Cookie
}

func newCookies() *cookies {
	j, _ := cookiejar.New(nil) // never fails without options
	return &cookies{jar: j}
}

func (c *cookies) Cookies(u *url.URL) []*http.Cookie { return c.jar.Cookies(u) }

func (c *cookies) SetCookies(u *url.URL, cs []*http.Cookie) {
	c.jar.SetCookies(u, cs)
	c.set = append(c.set, cookieSet{u: u, cs: cs})
}

func (c *cookies) clone() *cookies {
	n := newCookies()
	for _, s := range c.set {
		n.SetCookies(s.u, s.cs)
	}
	return n
}
