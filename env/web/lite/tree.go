package lite

import (
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/pilotkit/pilot/env"
)

// This file is a port of observe() in env/web/pilot.js, for pages without
// scripts and without layout: where pilot.js reads the computed style, lite
// reads the user-agent style sheet's defaults and the style attribute;
// where it reads the layout (zero-size elements, clipped text), lite
// assumes the element is visible.

// reLevel is a heading level pilot.js writes: 1 to 999.
var reLevel = regexp.MustCompile(`^[1-9][0-9]{0,2}$`)

var inputRoles = map[string]string{
	"button": "button", "submit": "button", "reset": "button", "image": "button",
	"checkbox": "checkbox", "radio": "radio", "range": "slider", "number": "spinbutton",
	"search": "searchbox", "email": "textbox", "tel": "textbox", "url": "textbox",
	"text": "textbox", "password": "textbox", "date": "textbox", "datetime-local": "textbox",
	"month": "textbox", "week": "textbox", "time": "textbox", "color": "button", "file": "button",
}

var tagRoles = map[atom.Atom]string{
	atom.Button: "button", atom.Textarea: "textbox", atom.Select: "combobox", atom.Option: "option",
	atom.H1: "heading", atom.H2: "heading", atom.H3: "heading", atom.H4: "heading", atom.H5: "heading", atom.H6: "heading",
	atom.Img: "img", atom.Nav: "navigation", atom.Main: "main", atom.Header: "banner", atom.Footer: "contentinfo",
	atom.Aside: "complementary", atom.Form: "form", atom.Ul: "list", atom.Ol: "list", atom.Li: "listitem",
	atom.Table: "table", atom.Tr: "row", atom.Th: "columnheader", atom.Td: "cell", atom.Dialog: "dialog",
	atom.Summary: "button", atom.Label: "label", atom.Fieldset: "group", atom.Legend: "legend",
	atom.Iframe: "iframe", atom.P: "paragraph", atom.Progress: "progressbar", atom.Dl: "list", atom.Dt: "term", atom.Dd: "definition",
}

var interactiveRoles = map[string]bool{
	"link": true, "button": true, "textbox": true, "searchbox": true, "checkbox": true, "radio": true,
	"combobox": true, "listbox": true, "option": true, "slider": true, "spinbutton": true, "switch": true, "tab": true, "menuitem": true,
	"menuitemcheckbox": true, "menuitemradio": true, "treeitem": true,
}

// nameFromContent are the roles whose name comes from their content: their
// text is not repeated below them.
var nameFromContent = map[string]bool{
	"link": true, "button": true, "tab": true, "menuitem": true, "option": true, "heading": true,
	"treeitem": true, "columnheader": true, "legend": true, "switch": true, "menuitemcheckbox": true, "menuitemradio": true,
}

// clickRoles get a click among the observation's choices.
var clickRoles = map[string]bool{
	"link": true, "button": true, "checkbox": true, "radio": true, "tab": true, "menuitem": true, "menuitemcheckbox": true,
	"menuitemradio": true, "switch": true, "treeitem": true, "option": true, "clickable": true,
}

// roleOf is pilot.js's roleOf.
func (d *document) roleOf(n *html.Node) string {
	if v, ok := attr(n, "role"); ok && v != "" {
		explicit := strings.TrimFunc(v, isJSSpace)
		if i := strings.IndexFunc(explicit, isJSSpace); i >= 0 {
			explicit = explicit[:i]
		}
		if explicit != "" && explicit != "presentation" && explicit != "none" {
			return explicit
		}
		if explicit != "" {
			return ""
		}
	}
	if n.Namespace != "" {
		return ""
	}
	switch n.DataAtom {
	case atom.A, atom.Area:
		if hasAttr(n, "href") {
			return "link"
		}
		return ""
	case atom.Input:
		t, ok := attr(n, "type")
		if !ok || t == "" {
			t = "text"
		}
		if r := inputRoles[strings.ToLower(t)]; r != "" {
			return r
		}
		return "textbox"
	case atom.Select:
		if isListbox(n) {
			return "listbox"
		}
	case atom.Section:
		if hasAttr(n, "aria-label") || hasAttr(n, "aria-labelledby") {
			return "region"
		}
	}
	if isEditingHost(n) {
		return "textbox"
	}
	return tagRoles[n.DataAtom]
}

// contentEditable is el.isContentEditable, from the contenteditable
// attributes of n and its ancestors.
func contentEditable(n *html.Node) bool {
	for ; n != nil && n.Type == html.ElementNode; n = n.Parent {
		if n.Namespace != "" {
			return false
		}
		if v, ok := attr(n, "contenteditable"); ok {
			switch asciiLower(v) {
			case "", "true", "plaintext-only":
				return true
			case "false":
				return false
			}
		}
	}
	return false
}

// isEditingHost is `el.isContentEditable && !el.parentElement?.isContentEditable`.
func isEditingHost(n *html.Node) bool {
	if !hasAttr(n, "contenteditable") || !contentEditable(n) {
		return false
	}
	p := n.Parent
	return p == nil || p.Type != html.ElementNode || !contentEditable(p)
}

// labelText is pilot.js's labelText; limit bounds the text it gathers.
func (d *document) labelText(n *html.Node, limit int) string {
	if lb := attrVal(n, "aria-labelledby"); lb != "" {
		var parts []string
		for _, id := range strings.FieldsFunc(lb, isJSSpace) {
			if el := d.byID[id]; el != nil {
				parts = append(parts, textOf(el, limit))
			}
		}
		if len(parts) > 0 {
			return clean(strings.Join(parts, " "))
		}
	}
	if al := attrVal(n, "aria-label"); hasNonBlank(al) {
		return clean(al)
	}
	if labels := d.labels[n]; len(labels) > 0 && labelable(n) {
		parts := make([]string, len(labels))
		for i, l := range labels {
			parts[i] = textOfSkip(l, limit, true)
		}
		return clean(strings.Join(parts, " "))
	}
	return ""
}

// nameLimit is how much of a name the tree shows.
const nameLimit = 300

// nameOf is pilot.js's nameOf: the accessible name and whether it is the
// element's own text content.
func (d *document) nameOf(n *html.Node, role string) (string, bool) {
	if s := d.labelText(n, nameLimit); s != "" {
		return s, false
	}
	tag := htmlEl(n)
	if tag == atom.Img || tag == atom.Area || tag == atom.Input && inputType(n) == "image" {
		if alt := attrVal(n, "alt"); alt != "" {
			return clean(alt), false
		}
	}
	if tag == atom.Input {
		switch inputType(n) {
		case "button", "submit", "reset":
			v := attrVal(n, "value")
			if v == "" {
				switch inputType(n) {
				case "submit":
					v = "Submit"
				case "reset":
					v = "Reset"
				}
			}
			return clean(v), false
		}
	}
	if tag == atom.Fieldset {
		if lg := firstChildEl(n, atom.Legend); lg != nil {
			return textOf(lg, nameLimit), false
		}
	}
	if tag == atom.Table {
		if c := firstChildEl(n, atom.Caption); c != nil {
			return textOf(c, nameLimit), false
		}
	}
	if nameFromContent[role] {
		if s := textOf(n, nameLimit); s != "" {
			return s, true
		}
	}
	t := attrVal(n, "title")
	if t == "" {
		t = attrVal(n, "placeholder")
	}
	return clean(t), false
}

// ---- style -----------------------------------------------------------------

// inlineStyle is what lite reads of an element's style attribute.
type inlineStyle struct {
	display        string // "": not set; "none"; "shown"
	displayDecl    string // the declared display keyword (el.style.display), "" when none
	visibility     string // "": inherit; "hidden"; "visible"
	cursor         string // the declared cursor keyword, "" when none
	opacityZero    bool
	overflowHidden bool
	positioned     bool // position: absolute or fixed
}

func styleOf(n *html.Node) inlineStyle {
	var st inlineStyle
	v, ok := attr(n, "style")
	if !ok || v == "" {
		return st
	}
	for strings.Contains(v, "/*") {
		i := strings.Index(v, "/*")
		j := strings.Index(v[i+2:], "*/")
		if j < 0 {
			v = v[:i]
			break
		}
		v = v[:i] + " " + v[i+2+j+2:]
	}
	for decl := range strings.SplitSeq(v, ";") {
		i := strings.IndexByte(decl, ':')
		if i < 0 {
			continue
		}
		prop := asciiLower(strings.Trim(decl[:i], asciiSpace))
		val := asciiLower(strings.Trim(decl[i+1:], asciiSpace))
		if j := strings.LastIndexByte(val, '!'); j >= 0 && strings.Trim(val[j+1:], asciiSpace) == "important" {
			val = strings.Trim(val[:j], asciiSpace)
		}
		keyword := val != "" && strings.Trim(val, "abcdefghijklmnopqrstuvwxyz-") == ""
		switch prop {
		case "cursor":
			if keyword {
				st.cursor = val
			}
		case "position":
			switch val {
			case "absolute", "fixed":
				st.positioned = true
			case "static", "relative", "sticky", "initial", "unset", "inherit", "revert":
				st.positioned = false
			}
		case "display":
			if keyword || strings.Trim(val, "abcdefghijklmnopqrstuvwxyz- ") == "" && val != "" {
				st.displayDecl = val
			}
			switch {
			case val == "none":
				st.display = "none"
			case val == "inherit" || val == "revert" || val == "revert-layer":
				st.display = ""
			case val != "" && strings.Trim(val, "abcdefghijklmnopqrstuvwxyz- ") == "":
				st.display = "shown"
			}
		case "visibility":
			switch val {
			case "hidden", "collapse":
				st.visibility = "hidden"
			case "visible", "initial":
				st.visibility = "visible"
			case "inherit", "unset":
				st.visibility = ""
			}
		case "opacity":
			num := strings.TrimSuffix(val, "%")
			if f, err := strconv.ParseFloat(num, 64); err == nil {
				st.opacityZero = f <= 0
			}
		case "overflow":
			switch val {
			case "hidden", "hidden hidden":
				st.overflowHidden = true
			case "visible", "auto", "scroll", "clip", "initial", "unset":
				st.overflowHidden = false
			}
		}
	}
	return st
}

// displayNone reports whether n's computed display is none: from its style
// attribute, else from the user-agent style sheet.
func displayNone(n *html.Node, st inlineStyle) bool {
	if n.Namespace != "" {
		return st.display == "none"
	}
	if n.DataAtom == atom.Input && inputType(n) == "hidden" {
		return true // display: none !important
	}
	switch st.display {
	case "none":
		return true
	case "shown":
		return false
	}
	switch n.DataAtom {
	case atom.Area, atom.Base, atom.Basefont, atom.Datalist, atom.Head, atom.Link, atom.Meta, atom.Noembed, atom.Noframes,
		atom.Param, atom.Rp, atom.Script, atom.Style, atom.Template, atom.Title, atom.Source, atom.Track, atom.Noscript:
		return true
	case atom.Dialog:
		if !hasAttr(n, "open") {
			return true
		}
	case atom.Audio:
		if !hasAttr(n, "controls") {
			return true
		}
	}
	if h, ok := attr(n, "hidden"); ok && asciiLower(h) != "until-found" {
		return true
	}
	return hasAttr(n, "popover") && !(n.DataAtom == atom.Dialog && hasAttr(n, "open"))
}

// hiddenSubtree is pilot.js's hiddenSubtree.
func hiddenSubtree(n *html.Node, st inlineStyle) bool {
	if displayNone(n, st) {
		return true
	}
	return attrVal(n, "aria-hidden") == "true"
}

// visHidden is an element's computed visibility (hidden or collapse), given
// its parent's.
func visHidden(parentHidden bool, st inlineStyle) bool {
	switch st.visibility {
	case "hidden":
		return true
	case "visible":
		return false
	}
	return parentHidden
}

// ---- the walk --------------------------------------------------------------

// walker builds the text tree and the choices of one observation.
type walker struct {
	p       *page
	b       strings.Builder
	lines   int
	choices []env.Action
	// buf gathers the text of one line of the page (pilot.js's buf): text
	// nodes and inline elements without a role, until a block or an
	// element line ends it.
	buf      strings.Builder
	bufDepth int
}

// flush writes the gathered text as a StaticText line.
func (w *walker) flush() {
	if w.buf.Len() == 0 {
		return
	}
	t := clean(w.buf.String())
	w.buf.Reset()
	if t != "" {
		w.line(w.bufDepth)
		w.b.WriteString("StaticText ")
		writeQ(&w.b, t, 500)
	}
}

func (w *walker) addText(s string, depth int) {
	if w.buf.Len() > 0 && w.bufDepth != depth {
		w.flush()
	}
	if w.buf.Len() == 0 {
		w.bufDepth = depth
	}
	w.buf.WriteString(s)
}

// newLine starts an element's line, after the text gathered before it.
func (w *walker) newLine(depth int) {
	w.flush()
	w.line(depth)
}

func (w *walker) line(depth int) {
	if w.lines > 0 {
		w.b.WriteByte('\n')
	}
	w.lines++
	for range depth {
		w.b.WriteString("  ")
	}
}

// inlineTags flow in their block's line (pilot.js's INLINE).
var inlineTags = map[atom.Atom]bool{
	atom.A: true, atom.Abbr: true, atom.Acronym: true, atom.B: true, atom.Bdi: true, atom.Bdo: true, atom.Big: true,
	atom.Cite: true, atom.Code: true, atom.Data: true, atom.Del: true, atom.Dfn: true, atom.Em: true, atom.Font: true,
	atom.I: true, atom.Ins: true, atom.Kbd: true, atom.Label: true, atom.Mark: true, atom.Nobr: true, atom.Q: true,
	atom.S: true, atom.Samp: true, atom.Small: true, atom.Span: true, atom.Strike: true, atom.Strong: true,
	atom.Sub: true, atom.Sup: true, atom.Time: true, atom.Tt: true, atom.U: true, atom.Var: true, atom.Wbr: true,
}

// isInline is pilot.js's inline(el): the declared display, else the tag.
func isInline(n *html.Node, st inlineStyle) bool {
	if st.displayDecl != "" {
		return strings.HasPrefix(st.displayDecl, "inline") || st.displayDecl == "contents"
	}
	return n.Namespace == "" && inlineTags[n.DataAtom]
}

// cursorOf is an element's computed cursor, from its style attribute, the
// user-agent style sheet (links) and its parent's.
func cursorOf(n *html.Node, st inlineStyle, parent string) string {
	switch st.cursor {
	case "", "inherit", "unset", "revert", "revert-layer":
	case "initial":
		return "auto"
	default:
		return st.cursor
	}
	if n.Namespace == "" && (n.DataAtom == atom.A || n.DataAtom == atom.Area) && hasAttr(n, "href") {
		return "pointer"
	}
	return parent
}

// hasControl is `el.querySelector(CONTROL_SEL) !== null` of pilot.js.
func hasControl(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode {
			continue
		}
		if c.Namespace == "" {
			switch c.DataAtom {
			case atom.Button, atom.Input, atom.Select, atom.Textarea:
				return true
			case atom.A:
				if hasAttr(c, "href") {
					return true
				}
			}
		}
		for _, k := range []string{"role", "onclick", "tabindex", "contenteditable"} {
			if hasAttr(c, k) {
				return true
			}
		}
		if hasControl(c) {
			return true
		}
	}
	return false
}

// reTabindex is pilot.js's test of a tabindex that makes an element focusable.
var reTabindex = regexp.MustCompile(`^[\t\n\f\r ]*[0-9]+[\t\n\f\r ]*$`)

// clickable is pilot.js's clickable without the listeners (lite runs no
// scripts): an onclick (onmousedown, ondblclick) handler, draggable, a
// tabindex, the root of a pointer cursor.
func (d *document) clickable(n *html.Node, cursor, parentCursor string) bool {
	if n == d.body || n.Parent == nil || n.Parent.Type == html.DocumentNode {
		return false
	}
	if hasAttr(n, "onclick") || hasAttr(n, "onmousedown") || hasAttr(n, "ondblclick") || attrVal(n, "draggable") == "true" {
		return true
	}
	if ti, ok := attr(n, "tabindex"); ok && reTabindex.MatchString(ti) {
		return true
	}
	return cursor == "pointer" && parentCursor != "pointer"
}

// shownControl is pilot.js's shown(c) as far as lite can tell: visible as
// an action needs (visibleForAction), and no zero opacity on it or an
// ancestor.
func shownControl(c *html.Node) bool {
	if !visibleForAction(c) {
		return false
	}
	for n := c; n != nil && n.Type == html.ElementNode; n = n.Parent {
		if styleOf(n).opacityZero {
			return false
		}
	}
	return true
}

// standsFor is pilot.js's standsFor: the hidden checkbox or radio that a
// visible label stands for.
func (d *document) standsFor(label *html.Node) *html.Node {
	c := d.labelControl(label)
	if c == nil || !isEl(c, atom.Input) {
		return nil
	}
	if t := inputType(c); t != "checkbox" && t != "radio" {
		return nil
	}
	if shownControl(c) {
		return nil
	}
	return c
}

func (d *document) hasShownLabel(n *html.Node) bool {
	for _, l := range d.labels[n] {
		if labelable(n) && shownControl(l) {
			return true
		}
	}
	return false
}

// bodyVisHidden is the computed visibility of a document's body.
func bodyVisHidden(d *document) bool {
	hidden := false
	if d.body != nil && d.body.Parent != nil && d.body.Parent.Type == html.ElementNode {
		hidden = visHidden(hidden, styleOf(d.body.Parent))
	}
	if d.body != nil {
		hidden = visHidden(hidden, styleOf(d.body))
	}
	return hidden
}

// walk is pilot.js's walk over parent's children; vis is parent's
// computed visibility (hidden or not), cursor its computed cursor.
func (w *walker) walk(d *document, parent *html.Node, depth int, quiet, vis bool, cursor string) {
	for n := parent.FirstChild; n != nil; n = n.NextSibling {
		w.visit(d, n, depth, quiet, vis, cursor)
	}
}

// visit is pilot.js's visit of one node.
func (w *walker) visit(d *document, n *html.Node, depth int, quiet, vis bool, cursor string) {
	if n.Type == html.TextNode {
		if !quiet && hasNonBlank(n.Data) {
			w.addText(n.Data, depth)
		} else if w.buf.Len() > 0 && !quiet {
			w.buf.WriteByte(' ')
		}
		return
	}
	if n.Type != html.ElementNode {
		return
	}
	if n.Namespace == "" && n.DataAtom == atom.Br {
		w.flush()
		return
	}
	if skipped(n) {
		return
	}
	st := styleOf(n)
	if hiddenSubtree(n, st) {
		return
	}
	cur := cursorOf(n, st, cursor)
	tag := htmlEl(n)
	if tag == atom.Option {
		// Options are listed under their select (a closed select's
		// options have no box, so they come before the visibility test).
		id := w.p.idOf(d, n)
		w.newLine(depth)
		w.b.WriteByte('[')
		w.b.WriteString(strconv.Itoa(id))
		w.b.WriteString("] option ")
		writeQ(&w.b, optionLabel(n), 200)
		if d.state(n).selected {
			w.b.WriteString(" selected")
		}
		if hasAttr(n, "disabled") {
			w.b.WriteString(" disabled")
		}
		return
	}
	role := d.roleOf(n)
	hidden := visHidden(vis, st)
	if tag == atom.Optgroup {
		w.walk(d, n, depth, quiet, hidden, cur)
		return
	}
	if hidden {
		// A child may still be visible (visibility can be overridden);
		// the element's own text is hidden (quiet).
		w.walk(d, n, depth, true, hidden, cur)
		return
	}
	if tag == atom.Details && !hasAttr(n, "open") {
		// A closed details shows its summary only.
		w.flush()
		if s := firstChildEl(n, atom.Summary); s != nil {
			w.visit(d, s, depth, quiet, hidden, cur)
		}
		return
	}
	inline := isInline(n, st)
	if role == "" {
		// invisibleSelf needs layout; of it lite knows only opacity.
		if (st.overflowHidden || st.positioned) && st.opacityZero {
			return
		}
		if d.clickable(n, cur, cursor) && !hasControl(n) && !st.opacityZero {
			role = "clickable"
		} else {
			if !inline {
				w.flush()
			}
			w.walk(d, n, depth, quiet, hidden, cur)
			if !inline {
				w.flush()
			}
			return
		}
	} else if st.opacityZero && !interactiveRoles[role] {
		return
	}
	if tag == atom.Iframe || tag == atom.Frame {
		id := w.p.idOf(d, n)
		name, _ := d.nameOf(n, "iframe")
		w.newLine(depth)
		w.b.WriteByte('[')
		w.b.WriteString(strconv.Itoa(id))
		w.b.WriteString("] iframe")
		if name != "" {
			w.b.WriteByte(' ')
			writeQ(&w.b, name, 0)
		}
		fr := d.frames[n]
		if fr == nil || fr.doc == nil {
			w.b.WriteString(" (cross-origin, not shown)")
			return
		}
		if fr.doc.body != nil {
			w.walk(fr.doc, fr.doc.body, depth+1, false, bodyVisHidden(fr.doc), "")
			w.flush()
		}
		return
	}
	ctl := n // the element whose state the line shows
	if role == "label" && tag == atom.Label && d.labelControl(n) != nil {
		c := d.standsFor(n)
		if c == nil {
			// The control carries the label as its name: show only the control.
			w.walk(d, n, depth, true, hidden, cur)
			return
		}
		ctl = c
		role = d.roleOf(c)
	}
	if tag == atom.Input && (inputType(n) == "checkbox" || inputType(n) == "radio") && !shownControl(n) && d.hasShownLabel(n) {
		return // its label stands for it
	}
	id := w.p.idOf(d, n)
	var name string
	var fromContent bool
	switch {
	case role == "clickable":
		// A clickable thing is named by its text, unless it holds a lot of it.
		if label := d.labelText(n, nameLimit); label != "" {
			name = label
		} else if text := textOf(n, 0); utf16Len(text) <= 120 {
			name, fromContent = text, true
		} else {
			name = clean(attrVal(n, "title"))
		}
	case ctl != n:
		name, fromContent = textOfSkip(n, nameLimit, true), true
	default:
		name, fromContent = d.nameOf(n, role)
	}
	w.newLine(depth)
	w.b.WriteByte('[')
	w.b.WriteString(strconv.Itoa(id))
	w.b.WriteString("] ")
	w.b.WriteString(role)
	if name != "" {
		w.b.WriteByte(' ')
		writeQ(&w.b, name, 300)
	}
	ctag := htmlEl(ctl)
	if role == "heading" {
		lvl := ""
		switch tag {
		case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
			lvl = n.Data[1:]
		default:
			lvl = strings.TrimSpace(attrVal(n, "aria-level"))
		}
		if reLevel.MatchString(lvl) {
			w.b.WriteString(" level=")
			w.b.WriteString(lvl)
		}
	}
	switch {
	case ctag == atom.Input || ctag == atom.Textarea:
		typ := elType(ctl)
		ct := d.state(ctl)
		switch {
		case typ == "checkbox" || typ == "radio":
			if ct.checked {
				w.b.WriteString(" checked")
			}
		case typ == "password":
			if d.value(ctl) != "" {
				w.b.WriteString(` value="••••"`)
			}
		case !isButtonLikeInput(typ):
			w.b.WriteString(" value=")
			writeQ(&w.b, d.value(ctl), 200)
		}
		if hasAttr(ctl, "readonly") {
			w.b.WriteString(" readonly")
		}
		if hasAttr(ctl, "required") {
			w.b.WriteString(" required")
		}
	case ctag == atom.Select:
		var sel []string
		for _, o := range selectOptions(ctl) {
			if d.state(o).selected {
				sel = append(sel, clean(optionLabel(o)))
			}
		}
		w.b.WriteString(" value=")
		writeQ(&w.b, strings.Join(sel, ", "), 0)
	case role == "textbox" && contentEditable(n):
		w.b.WriteString(" value=")
		writeQ(&w.b, textOf(n, 200), 200)
	}
	if ac := attrVal(n, "aria-checked"); ac != "" && ctag != atom.Input {
		switch ac {
		case "true":
			w.b.WriteString(" checked")
		case "mixed":
			w.b.WriteString(" checked=mixed")
		}
	}
	if attrVal(n, "aria-selected") == "true" {
		w.b.WriteString(" selected")
	}
	if ae := attrVal(n, "aria-expanded"); ae == "true" || ae == "false" {
		w.b.WriteString(" expanded=")
		w.b.WriteString(ae)
	}
	disabled := disabledAttr(ctl) || attrVal(n, "aria-disabled") == "true"
	if disabled {
		w.b.WriteString(" disabled")
	}
	if ctag != atom.Body && w.p.focus.n == ctl {
		w.b.WriteString(" focused")
	}
	if d.invalid[ctl] {
		if msg := d.validationMessage(ctl); msg != "" {
			w.b.WriteString(" invalid=")
			writeQ(&w.b, msg, 200)
		}
	}
	if !disabled {
		sid := strconv.Itoa(id)
		if ctag == atom.Select {
			for _, o := range selectOptions(ctl) {
				if !hasAttr(o, "disabled") {
					w.choices = append(w.choices, env.A("select_option", sid, clean(optionLabel(o))))
				}
			}
		} else if clickRoles[role] {
			w.choices = append(w.choices, env.A("click", sid))
		}
	}
	childQuiet := quiet || fromContent && name != ""
	switch {
	case tag == atom.Select && ctl == n:
		w.walk(d, n, depth+1, true, hidden, cur)
		w.flush()
	case ctag == atom.Textarea:
	default:
		w.walk(d, n, depth+1, childQuiet, hidden, cur)
		w.flush()
	}
}
