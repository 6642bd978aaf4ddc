package lite

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// document is one parsed page (or frame) and the live state of its form
// controls: what pilot.js reads from Chromium's DOM.
type document struct {
	url        webURL // changes on a same-document (fragment) navigation
	root       *html.Node
	body       *html.Node // document.body; nil when there is none
	title      string     // document.title
	base       webURL     // the base URL of links and forms
	baseTarget string

	byID   map[string]*html.Node       // getElementById: the first element with the id
	labels map[*html.Node][]*html.Node // a labelable element → its labels, in tree order
	ctl    map[*html.Node]*control     // form controls and options

	origin string                // scheme://host[:port]; a frame's srcdoc or about:blank has its parent's
	frames map[*html.Node]*frame // iframe element → what it shows
	parent *document             // the embedding document of a frame
	host   *html.Node            // the iframe element that shows a frame
	alive  bool                  // false once a frame's document is replaced
	status int                   // the HTTP status of the response (0: none)

	invalid map[*html.Node]bool // controls a submission found invalid (the 'invalid' event)
}

// control is the state of a form control (or an option) that the page
// changes without changing the tree: what Chromium keeps outside the DOM.
type control struct {
	value    string // the value of a text control
	dirty    bool   // the value was set since the page loaded
	checked  bool   // checkbox, radio
	selected bool   // option: its selectedness
}

// state returns the state of a control or option, made from its
// attributes if the page has none yet for it.
func (d *document) state(n *html.Node) *control {
	if c := d.ctl[n]; c != nil {
		return c
	}
	c := &control{}
	switch htmlEl(n) {
	case atom.Input:
		typ := inputType(n)
		if typ == "checkbox" || typ == "radio" {
			c.checked = hasAttr(n, "checked")
		} else {
			c.value = sanitizeValue(n, typ, attrVal(n, "value"))
		}
	case atom.Textarea:
		c.value = normalizeNewlines(childText(n))
	case atom.Option:
		c.selected = hasAttr(n, "selected")
	}
	d.ctl[n] = c
	return c
}

// frame is the content of an iframe element.
type frame struct {
	doc *document // nil: cross-origin or not loaded
}

// isEl reports whether n is the HTML element a.
func isEl(n *html.Node, a atom.Atom) bool {
	return n != nil && n.Type == html.ElementNode && n.Namespace == "" && n.DataAtom == a
}

// htmlEl returns n's tag atom when n is an HTML element, else 0.
func htmlEl(n *html.Node) atom.Atom {
	if n.Type != html.ElementNode || n.Namespace != "" {
		return 0
	}
	return n.DataAtom
}

// attr returns the value of n's attribute key (the first, as the parser
// keeps it) and whether it is there.
func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func attrVal(n *html.Node, key string) string {
	v, _ := attr(n, key)
	return v
}

func hasAttr(n *html.Node, key string) bool {
	_, ok := attr(n, key)
	return ok
}

func setAttr(n *html.Node, key, val string) {
	for i, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			n.Attr[i].Val = val
			return
		}
	}
	n.Attr = append(n.Attr, html.Attribute{Key: key, Val: val})
}

func removeAttr(n *html.Node, key string) {
	for i, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			n.Attr = append(n.Attr[:i], n.Attr[i+1:]...)
			return
		}
	}
}

// skipped reports whether pilot.js's SKIP set holds n's tagName: SCRIPT,
// STYLE, NOSCRIPT, TEMPLATE, HEAD, META, LINK, TITLE, BR, HR and svg.
func skipped(n *html.Node) bool {
	if n.Namespace != "" {
		return n.Data == "svg"
	}
	switch n.DataAtom {
	case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Head, atom.Meta, atom.Link, atom.Title, atom.Br, atom.Hr:
		return true
	}
	return false
}

// knownInputTypes are the values of input's type attribute; others mean
// text.
var knownInputTypes = map[string]bool{
	"hidden": true, "text": true, "search": true, "tel": true, "url": true, "email": true, "password": true,
	"date": true, "month": true, "week": true, "time": true, "datetime-local": true, "number": true,
	"range": true, "color": true, "checkbox": true, "radio": true, "file": true, "submit": true,
	"image": true, "reset": true, "button": true,
}

// inputType is an input's type IDL attribute: the type attribute in lower
// case when it names a type, else "text".
func inputType(n *html.Node) string {
	t := asciiLower(attrVal(n, "type"))
	if knownInputTypes[t] {
		return t
	}
	return "text"
}

// elType is el.type as pilot.js reads it for INPUT and TEXTAREA.
func elType(n *html.Node) string {
	if isEl(n, atom.Textarea) {
		return "textarea"
	}
	return inputType(n)
}

// buttonType is a button element's type: submit, reset or button.
func buttonType(n *html.Node) string {
	switch t := asciiLower(attrVal(n, "type")); t {
	case "reset", "button":
		return t
	}
	return "submit"
}

func isButtonLikeInput(typ string) bool {
	return typ == "button" || typ == "submit" || typ == "reset" || typ == "image"
}

// isSubmitButton reports whether n submits its form when activated.
func isSubmitButton(n *html.Node) bool {
	switch htmlEl(n) {
	case atom.Button:
		return buttonType(n) == "submit"
	case atom.Input:
		t := inputType(n)
		return t == "submit" || t == "image"
	}
	return false
}

// labelable reports whether n can be the control of a label.
func labelable(n *html.Node) bool {
	switch htmlEl(n) {
	case atom.Button, atom.Meter, atom.Output, atom.Progress, atom.Select, atom.Textarea:
		return true
	case atom.Input:
		return inputType(n) != "hidden"
	}
	return false
}

// hasDisabledIDL reports whether n's interface has a disabled attribute
// (which reflects the content attribute).
func hasDisabledIDL(n *html.Node) bool {
	switch htmlEl(n) {
	case atom.Button, atom.Input, atom.Select, atom.Textarea, atom.Optgroup, atom.Option, atom.Fieldset, atom.Link:
		return true
	}
	return false
}

// disabledAttr is el.disabled: the element's own disabled attribute.
func disabledAttr(n *html.Node) bool {
	return hasDisabledIDL(n) && hasAttr(n, "disabled")
}

// actuallyDisabled reports whether a form control is disabled: by its own
// attribute or by a disabled fieldset around it (outside its first legend).
func actuallyDisabled(n *html.Node) bool {
	switch htmlEl(n) {
	case atom.Button, atom.Input, atom.Select, atom.Textarea:
	case atom.Option:
		if hasAttr(n, "disabled") {
			return true
		}
		return isEl(n.Parent, atom.Optgroup) && hasAttr(n.Parent, "disabled")
	default:
		return false
	}
	if hasAttr(n, "disabled") {
		return true
	}
	child := n
	for p := n.Parent; p != nil; child, p = p, p.Parent {
		if isEl(p, atom.Fieldset) && hasAttr(p, "disabled") {
			if isEl(child, atom.Legend) && firstChildEl(p, atom.Legend) == child {
				continue
			}
			return true
		}
	}
	return false
}

// firstChildEl returns n's first child that is the HTML element a.
func firstChildEl(n *html.Node, a atom.Atom) *html.Node {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if isEl(c, a) {
			return c
		}
	}
	return nil
}

// closest returns the nearest inclusive ancestor of n that is the HTML
// element a.
func closest(n *html.Node, a atom.Atom) *html.Node {
	for ; n != nil; n = n.Parent {
		if isEl(n, a) {
			return n
		}
	}
	return nil
}

func childElementCount(n *html.Node) int {
	k := 0
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode {
			k++
		}
	}
	return k
}

// ---- parsing ---------------------------------------------------------------

// parseHTML parses a page. Bytes that are not UTF-8 become U+FFFD, as
// Chromium's decoder makes them.
func parseHTML(u webURL, body []byte) *document {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	root, err := html.Parse(bytes.NewReader(validUTF8(body)))
	if err != nil || root == nil {
		// html.Parse fails only when its reader does, which a bytes.Reader
		// does not; keep an empty page for safety.
		root, _ = html.Parse(strings.NewReader(""))
	}
	return newDocument(u, root)
}

// parseText builds the page Chromium shows for a text response: the text
// in a <pre>.
func parseText(u webURL, body []byte) *document {
	root, _ := html.Parse(strings.NewReader("<pre></pre>"))
	d := newDocument(u, root)
	if pre := findFirst(root, atom.Pre); pre != nil {
		pre.AppendChild(&html.Node{Type: html.TextNode, Data: strings.ReplaceAll(strings.ReplaceAll(string(validUTF8(body)), "\r\n", "\n"), "\r", "\n")})
	}
	return d
}

// blankDocument is about:blank.
func blankDocument() *document {
	root, _ := html.Parse(strings.NewReader(""))
	return newDocument(blankURL, root)
}

func validUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			out = append(out, "\ufffd"...)
			b = b[1:]
			continue
		}
		out = append(out, b[:size]...)
		b = b[size:]
	}
	return out
}

func findFirst(n *html.Node, a atom.Atom) *html.Node {
	if isEl(n, a) {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if isEl(c, atom.Template) {
			continue
		}
		if f := findFirst(c, a); f != nil {
			return f
		}
	}
	return nil
}

// newDocument indexes a parsed tree and sets up its controls' state.
func newDocument(u webURL, root *html.Node) *document {
	d := &document{
		url: u, root: root, base: u, alive: true,
		byID:   map[string]*html.Node{},
		labels: map[*html.Node][]*html.Node{},
		ctl:    map[*html.Node]*control{},
	}
	var labels, selects, radios []*html.Node
	titleSeen, baseSeen, targetSeen := false, false, false
	// The tree in document order, without template contents (which are
	// not part of the DOM tree in a browser).
	var visit func(n *html.Node)
	visit = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			if id, ok := attr(c, "id"); ok && id != "" {
				if _, dup := d.byID[id]; !dup {
					d.byID[id] = c
				}
			}
			switch htmlEl(c) {
			case atom.Title:
				if !titleSeen {
					titleSeen = true
					d.title = stripCollapseASCII(childText(c))
				}
			case atom.Base:
				if href, ok := attr(c, "href"); ok && !baseSeen {
					baseSeen = true
					if b, err := resolveURL(&u, href); err == nil && b.isHTTP() {
						d.base = b
					}
				}
				if t, ok := attr(c, "target"); ok && !targetSeen {
					targetSeen = true
					d.baseTarget = t
				}
			case atom.Label:
				labels = append(labels, c)
			case atom.Select:
				selects = append(selects, c)
			case atom.Input:
				typ := inputType(c)
				ct := &control{}
				switch typ {
				case "checkbox", "radio":
					ct.checked = hasAttr(c, "checked")
					if typ == "radio" && ct.checked {
						radios = append(radios, c)
					}
				default:
					ct.value = sanitizeValue(c, typ, attrVal(c, "value"))
				}
				d.ctl[c] = ct
			case atom.Textarea:
				d.ctl[c] = &control{value: normalizeNewlines(childText(c))}
			case atom.Option:
				d.ctl[c] = &control{selected: hasAttr(c, "selected")}
			case atom.Template:
				continue
			}
			visit(c)
		}
	}
	visit(root)
	if h := firstChildEl(root, atom.Html); h != nil {
		for c := h.FirstChild; c != nil; c = c.NextSibling {
			if isEl(c, atom.Body) || isEl(c, atom.Frameset) {
				d.body = c
				break
			}
		}
	}
	for _, l := range labels {
		if c := d.labelControl(l); c != nil {
			d.labels[c] = append(d.labels[c], l)
		}
	}
	// A radio checked by the parser unchecks the others of its group: the
	// last checked one stays.
	for i := len(radios) - 1; i >= 0; i-- {
		if d.state(radios[i]).checked {
			d.uncheckGroup(radios[i])
		}
	}
	for _, s := range selects {
		d.resetSelectedness(s, true)
	}
	return d
}

// resetSelectedness applies the selectedness rules of a select: one
// selected option at most (the last marked one) when it is not multiple,
// and the first enabled option when none is and it shows one row.
func (d *document) resetSelectedness(s *html.Node, fromAttrs bool) {
	opts := selectOptions(s)
	if fromAttrs {
		for _, o := range opts {
			d.state(o).selected = hasAttr(o, "selected")
		}
	}
	if hasAttr(s, "multiple") {
		return
	}
	last := -1
	for i, o := range opts {
		if d.state(o).selected {
			if last >= 0 {
				d.state(opts[last]).selected = false
			}
			last = i
		}
	}
	if last >= 0 || displaySize(s) != 1 {
		return
	}
	for _, o := range opts {
		if !actuallyDisabled(o) {
			d.state(o).selected = true
			return
		}
	}
}

// displaySize is a select's number of visible rows.
func displaySize(s *html.Node) int {
	if v, ok := attr(s, "size"); ok {
		if n, ok := parseNonNegInt(v); ok && n > 0 {
			return n
		}
	}
	if hasAttr(s, "multiple") {
		return 4
	}
	return 1
}

// sizeIDL is select.size: the size attribute as a non-negative integer,
// 0 when absent or invalid.
func sizeIDL(s *html.Node) int {
	if v, ok := attr(s, "size"); ok {
		if n, ok := parseNonNegInt(v); ok {
			return n
		}
	}
	return 0
}

// isListbox reports whether pilot.js calls a select a listbox.
func isListbox(s *html.Node) bool { return hasAttr(s, "multiple") || sizeIDL(s) > 1 }

// selectOptions is a select's list of options: its option children and the
// option children of its optgroup children.
func selectOptions(s *html.Node) []*html.Node {
	var out []*html.Node
	for c := s.FirstChild; c != nil; c = c.NextSibling {
		switch htmlEl(c) {
		case atom.Option:
			out = append(out, c)
		case atom.Optgroup:
			for o := c.FirstChild; o != nil; o = o.NextSibling {
				if isEl(o, atom.Option) {
					out = append(out, o)
				}
			}
		}
	}
	return out
}

// ownerSelect returns the select whose list of options holds o.
func ownerSelect(o *html.Node) *html.Node {
	p := o.Parent
	if isEl(p, atom.Optgroup) {
		p = p.Parent
	}
	if isEl(p, atom.Select) {
		return p
	}
	return nil
}

// optionText is option.text: its descendants' text (without scripts),
// with ASCII whitespace stripped and collapsed.
func optionText(o *html.Node) string {
	var b strings.Builder
	var rec func(n *html.Node)
	rec = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			switch {
			case c.Type == html.TextNode:
				b.WriteString(c.Data)
			case c.Type == html.ElementNode && c.Data != "script" && !isEl(c, atom.Template):
				rec(c)
			}
		}
	}
	rec(o)
	return stripCollapseASCII(b.String())
}

// optionLabel is `option.label || option.text`.
func optionLabel(o *html.Node) string {
	if l := attrVal(o, "label"); l != "" {
		return l
	}
	return optionText(o)
}

// optionValue is option.value.
func optionValue(o *html.Node) string {
	if v, ok := attr(o, "value"); ok {
		return v
	}
	return optionText(o)
}

// labelControl is label.control: the element its for attribute names, when
// labelable, else (without for) its first labelable descendant.
func (d *document) labelControl(l *html.Node) *html.Node {
	if f, ok := attr(l, "for"); ok {
		if c := d.byID[f]; c != nil && f != "" && labelable(c) {
			return c
		}
		return nil
	}
	var found *html.Node
	var rec func(n *html.Node) bool
	rec = func(n *html.Node) bool {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode || isEl(c, atom.Template) {
				continue
			}
			if labelable(c) {
				found = c
				return true
			}
			if rec(c) {
				return true
			}
		}
		return false
	}
	rec(l)
	return found
}

// formOwner is a form control's form: the one its form attribute names,
// else its nearest form ancestor.
func (d *document) formOwner(n *html.Node) *html.Node {
	if id, ok := attr(n, "form"); ok {
		if f := d.byID[id]; isEl(f, atom.Form) && id != "" {
			return f
		}
		return nil
	}
	for p := n.Parent; p != nil; p = p.Parent {
		if isEl(p, atom.Form) {
			return p
		}
	}
	return nil
}

// radioGroup returns the radios of n's group, n included, in tree order.
func (d *document) radioGroup(n *html.Node) []*html.Node {
	name := attrVal(n, "name")
	if name == "" {
		return []*html.Node{n}
	}
	owner := d.formOwner(n)
	var out []*html.Node
	d.eachElement(func(c *html.Node) {
		if isEl(c, atom.Input) && inputType(c) == "radio" && attrVal(c, "name") == name && d.formOwner(c) == owner {
			out = append(out, c)
		}
	})
	return out
}

// uncheckGroup unchecks the radios of n's group other than n.
func (d *document) uncheckGroup(n *html.Node) {
	for _, r := range d.radioGroup(n) {
		if r != n {
			d.state(r).checked = false
		}
	}
}

// eachElement calls f on the document's elements in tree order, without
// template contents.
func (d *document) eachElement(f func(*html.Node)) {
	var rec func(n *html.Node)
	rec = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			f(c)
			if !isEl(c, atom.Template) {
				rec(c)
			}
		}
	}
	rec(d.root)
}

// childText is the text of n's text children.
func childText(n *html.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

// ---- values ----------------------------------------------------------------

// sanitizeValue applies an input type's value sanitization algorithm.
func sanitizeValue(n *html.Node, typ, v string) string {
	switch typ {
	case "text", "search", "tel", "password":
		return stripNewlines(v)
	case "url", "email":
		return strings.Trim(stripNewlines(v), asciiSpace)
	case "number":
		if validFloat(v) {
			return v
		}
		return ""
	case "range":
		return sanitizeRange(n, v)
	case "color":
		if len(v) == 7 && v[0] == '#' && isHex(v[1:]) {
			return asciiLower(v)
		}
		return "#000000"
	case "date", "month", "week", "time", "datetime-local":
		return sanitizeDate(typ, v)
	case "file":
		return ""
	}
	return v
}

const asciiSpace = "\t\n\f\r "

func stripNewlines(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r", "", "\n", "").Replace(s)
}

func normalizeNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validFloat reports whether s is a valid floating-point number in HTML's
// grammar: -?(d+|d*.d+)([eE][+-]?d+)?
func validFloat(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	start := i
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	intDigits := i - start
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		if i == fs {
			return false
		}
	} else if intDigits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		es := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		if i == es {
			return false
		}
	}
	if i != len(s) {
		return false
	}
	f, err := strconv.ParseFloat(s, 64)
	return err == nil && f-f == 0
}

func parseFloatAttr(n *html.Node, key string) (float64, bool) {
	v, ok := attr(n, key)
	if !ok || !validFloat(v) {
		return 0, false
	}
	f, _ := strconv.ParseFloat(v, 64)
	return f, true
}

func sanitizeRange(n *html.Node, v string) string {
	lo, hi := 0.0, 100.0
	if f, ok := parseFloatAttr(n, "min"); ok {
		lo = f
	}
	if f, ok := parseFloatAttr(n, "max"); ok {
		hi = f
	}
	if hi < lo {
		hi = lo
	}
	x := lo + (hi-lo)/2
	if validFloat(v) {
		x, _ = strconv.ParseFloat(v, 64)
	}
	x = min(max(x, lo), hi)
	step := 1.0
	if s, ok := attr(n, "step"); ok && asciiLower(s) == "any" {
		step = 0
	} else if f, ok := parseFloatAttr(n, "step"); ok && f > 0 {
		step = f
	}
	if step > 0 {
		// The nearest step from min, ties up, and not past max.
		x = lo + math.Floor((x-lo)/step+0.5)*step
		if x > hi {
			x = lo + math.Floor((hi-lo)/step)*step
		}
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}

func sanitizeDate(typ, v string) string {
	ok := false
	switch typ {
	case "date":
		ok = validDate(v)
	case "month":
		ok = len(v) >= 7 && v[len(v)-3] == '-' && isDigits(v[:len(v)-3]) && len(v)-3 >= 4 && monthOK(v[len(v)-2:])
	case "week":
		i := strings.Index(v, "-W")
		ok = i >= 4 && isDigits(v[:i]) && len(v) == i+4 && isDigits(v[i+2:]) && v[i+2:] >= "01" && v[i+2:] <= "53"
	case "time":
		ok = validTime(v)
	case "datetime-local":
		i := strings.IndexAny(v, "T ")
		if i > 0 && validDate(v[:i]) && validTime(v[i+1:]) {
			return v[:i] + "T" + v[i+1:]
		}
	}
	if ok {
		return v
	}
	return ""
}

func monthOK(m string) bool { return isDigits(m) && m >= "01" && m <= "12" }

func validDate(v string) bool {
	parts := strings.Split(v, "-")
	if len(parts) != 3 || len(parts[0]) < 4 || !isDigits(parts[0]) || len(parts[1]) != 2 || !monthOK(parts[1]) || len(parts[2]) != 2 || !isDigits(parts[2]) {
		return false
	}
	y, _ := strconv.Atoi(parts[0])
	m, _ := strconv.Atoi(parts[1])
	day, _ := strconv.Atoi(parts[2])
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m]
	if m == 2 && (y%4 == 0 && y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return y > 0 && day >= 1 && day <= days
}

func validTime(v string) bool {
	if len(v) < 5 || v[2] != ':' || !isDigits(v[:2]) || !isDigits(v[3:5]) || v[:2] > "23" || v[3:5] > "59" {
		return false
	}
	rest := v[5:]
	if rest == "" {
		return true
	}
	if rest[0] != ':' || len(rest) < 3 || !isDigits(rest[1:3]) || rest[1:3] > "59" {
		return false
	}
	rest = rest[3:]
	if rest == "" {
		return true
	}
	return rest[0] == '.' && len(rest) >= 2 && len(rest) <= 4 && isDigits(rest[1:])
}

// parseNonNegInt follows HTML's rules for parsing non-negative integers.
func parseNonNegInt(s string) (int, bool) {
	n, ok := parseInt(s)
	return n, ok && n >= 0
}

// parseInt follows HTML's rules for parsing integers.
func parseInt(s string) (int, bool) {
	s = strings.TrimLeft(s, asciiSpace)
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, false
	}
	n, err := strconv.Atoi(s[:i])
	if err != nil {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return strings.Map(func(r rune) rune {
				if 'A' <= r && r <= 'Z' {
					return r + 'a' - 'A'
				}
				return r
			}, s)
		}
	}
	return s
}

// stripCollapseASCII strips and collapses ASCII whitespace, as
// document.title and option.text do.
func stripCollapseASCII(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(asciiSpace, r) }), " ")
}
