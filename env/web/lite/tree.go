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
	"menuitemradio": true, "switch": true, "treeitem": true, "option": true,
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
			parts[i] = textOf(l, limit)
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
	visibility     string // "": inherit; "hidden"; "visible"
	opacityZero    bool
	overflowHidden bool
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
		switch prop {
		case "display":
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
}

func (w *walker) newLine(depth int) {
	if w.lines > 0 {
		w.b.WriteByte('\n')
	}
	w.lines++
	for range depth {
		w.b.WriteString("  ")
	}
}

func (w *walker) emitText(s string, depth int) {
	if t := clean(s); t != "" {
		w.newLine(depth)
		w.b.WriteString("StaticText ")
		writeQ(&w.b, t, 500)
	}
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
// computed visibility (hidden or not).
func (w *walker) walk(d *document, parent *html.Node, depth int, quiet, vis bool) {
	for n := parent.FirstChild; n != nil; n = n.NextSibling {
		if n.Type == html.TextNode {
			if !quiet && hasNonBlank(n.Data) {
				w.emitText(n.Data, depth)
			}
			continue
		}
		if n.Type != html.ElementNode || skipped(n) {
			continue
		}
		st := styleOf(n)
		if hiddenSubtree(n, st) {
			continue
		}
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
			continue
		}
		role := d.roleOf(n)
		hidden := visHidden(vis, st)
		if tag == atom.Optgroup {
			w.walk(d, n, depth, quiet, hidden)
			continue
		}
		if hidden {
			// A child may still be visible (visibility can be overridden);
			// the element's own text is hidden (quiet).
			w.walk(d, n, depth, true, hidden)
			continue
		}
		if role == "" {
			// invisibleSelf needs layout; of it lite knows only opacity.
			if !(st.overflowHidden && st.opacityZero) {
				w.walk(d, n, depth, quiet, hidden)
			}
			continue
		}
		if st.opacityZero && !interactiveRoles[role] {
			continue
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
				continue
			}
			if fr.doc.body != nil {
				w.walk(fr.doc, fr.doc.body, depth+1, false, bodyVisHidden(fr.doc))
			}
			continue
		}
		if role == "label" && tag == atom.Label && d.labelControl(n) != nil {
			// The control carries the label as its name: show only the control.
			w.walk(d, n, depth, true, hidden)
			continue
		}
		id := w.p.idOf(d, n)
		name, fromContent := d.nameOf(n, role)
		w.newLine(depth)
		w.b.WriteByte('[')
		w.b.WriteString(strconv.Itoa(id))
		w.b.WriteString("] ")
		w.b.WriteString(role)
		if name != "" {
			w.b.WriteByte(' ')
			writeQ(&w.b, name, 300)
		}
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
		case tag == atom.Input || tag == atom.Textarea:
			typ := elType(n)
			ct := d.state(n)
			switch {
			case typ == "checkbox" || typ == "radio":
				if ct.checked {
					w.b.WriteString(" checked")
				}
			case typ == "password":
				if d.value(n) != "" {
					w.b.WriteString(` value="••••"`)
				}
			case !isButtonLikeInput(typ):
				w.b.WriteString(" value=")
				writeQ(&w.b, d.value(n), 200)
			}
			if hasAttr(n, "readonly") {
				w.b.WriteString(" readonly")
			}
			if hasAttr(n, "required") {
				w.b.WriteString(" required")
			}
		case tag == atom.Select:
			var sel []string
			for _, o := range selectOptions(n) {
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
		if ac := attrVal(n, "aria-checked"); ac != "" && tag != atom.Input {
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
		disabled := disabledAttr(n) || attrVal(n, "aria-disabled") == "true"
		if disabled {
			w.b.WriteString(" disabled")
		}
		if tag != atom.Body && w.p.focus.n == n {
			w.b.WriteString(" focused")
		}
		if !disabled {
			sid := strconv.Itoa(id)
			if tag == atom.Select {
				for _, o := range selectOptions(n) {
					if !hasAttr(o, "disabled") {
						w.choices = append(w.choices, env.A("select_option", sid, clean(optionLabel(o))))
					}
				}
			} else if clickRoles[role] {
				w.choices = append(w.choices, env.A("click", sid))
			}
		}
		childQuiet := quiet || fromContent && name != ""
		switch tag {
		case atom.Select:
			w.walk(d, n, depth+1, true, hidden)
		case atom.Textarea:
		default:
			w.walk(d, n, depth+1, childQuiet, hidden)
		}
	}
}
