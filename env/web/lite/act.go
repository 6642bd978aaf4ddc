package lite

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/pilotkit/pilot/env"
	"github.com/pilotkit/pilot/env/web"
)

// do performs a valid action and returns the agent's error text, if any. A
// Go error is the caller's context ending.
func (b *Browser) do(ctx context.Context, a env.Action) (string, error) {
	switch a.Name {
	case "click", "double_click":
		// A double click is a click to a page without scripts.
		return b.click(ctx, a.Arg(0))
	case "drag":
		if _, msg := b.point(a.Arg(0)); msg != "" {
			return msg, nil
		}
		if _, msg := b.point(a.Arg(1)); msg != "" {
			return msg, nil
		}
		return "drag needs a page with layout and scripts: the lite browser has neither; use the Chromium env (--engine chromium)", nil
	case "upload":
		if _, msg := b.point(a.Arg(0)); msg != "" {
			return msg, nil
		}
		return "upload is not supported by the lite browser: use the Chromium env (--engine chromium)", nil
	case "wait":
		// A page without scripts does not change by itself.
		return "", nil
	case "wait_for":
		return b.waitFor(a.Arg(0)), nil
	case "hover":
		_, msg := b.point(a.Arg(0))
		return msg, nil
	case "fill":
		return b.fill(a.Arg(0), a.Arg(1)), nil
	case "select_option":
		return b.selectOption(a.Arg(0), a.Arg(1)), nil
	case "press":
		return b.press(ctx, a.Arg(0))
	case "scroll":
		if id := a.Arg(1); id != "" {
			_, msg := b.lookup(id)
			return msg, nil
		}
		b.shaper.Scrolled(a.Arg(0))
		return "", nil
	case "goto":
		return b.gotoURL(ctx, a.Arg(0))
	case "go_back":
		return b.traverse(ctx, -1)
	case "go_forward":
		return b.traverse(ctx, +1)
	case "noop", "stop":
		return "", nil
	}
	return fmt.Sprintf("action %s is not supported by the lite browser", a.Name), nil
}

// ---- finding elements --------------------------------------------------------

// lookup is pilot.js's lookup: the element with a pilot id, if it is on
// the page and can be used.
func (b *Browser) lookup(id string) (nodeRef, string) {
	p := b.ep.page
	n, err := strconv.Atoi(id)
	ref, ok := p.nodes[n]
	if err != nil || strconv.Itoa(n) != id || !ok || !ref.d.alive || !attached(ref.n, ref.d) {
		return nodeRef{}, "no element with id " + id + " on the page: use an id from the current observation"
	}
	if !visibleForAction(ref.n) {
		return nodeRef{}, "element " + id + " is hidden: it cannot be used now"
	}
	return ref, ""
}

// visibleForAction is pilot.js's visibleForAction, with what lite knows of
// boxes: a closed select's options have none; other elements have one.
func visibleForAction(n *html.Node) bool {
	if isEl(n, atom.Option) {
		if s := ownerSelect(n); s != nil && !isListbox(s) {
			return false
		}
	}
	var chain []*html.Node
	for e := n; e != nil && e.Type == html.ElementNode; e = e.Parent {
		if displayNone(e, styleOf(e)) {
			return false
		}
		chain = append(chain, e)
	}
	hidden := false
	for i := len(chain) - 1; i >= 0; i-- {
		hidden = visHidden(hidden, styleOf(chain[i]))
	}
	return !hidden
}

// describe is pilot.js's describe: "a link", "a div element".
func (d *document) describe(n *html.Node) string {
	if r := d.roleOf(n); r != "" {
		return "a " + r
	}
	return "a " + strings.ToLower(n.Data) + " element"
}

// point is what pilot.js's point checks before a click or a hover.
func (b *Browser) point(id string) (nodeRef, string) {
	ref, msg := b.lookup(id)
	if msg != "" {
		return ref, msg
	}
	if isEl(ref.n, atom.Option) {
		return nodeRef{}, "element " + id + " is an option: use select_option on its select"
	}
	return ref, ""
}

// ---- clicks ------------------------------------------------------------------

// click clicks an element as a mouse does: the press moves the focus, the
// click activates the element (or the nearest ancestor that has an
// activation behaviour: a link, a button, a label…).
func (b *Browser) click(ctx context.Context, id string) (string, error) {
	ref, msg := b.point(id)
	if msg != "" {
		return msg, nil
	}
	if a := closestLink(ref.n); a != nil {
		if u, err := resolveURL(&ref.d.base, attrVal(a, "href")); err == nil {
			if msg := b.checkURL(u); msg != "" {
				return fmt.Sprintf("click %s refused: the link leaves the allowed origin: %s", id, msg), nil
			}
		}
	}
	p := b.ep.page
	n, d := ref.n, ref.d
	ctl := n
	if isEl(n, atom.Label) {
		if c := d.labelControl(n); c != nil {
			ctl = c
		}
	}
	if isFormControl(ctl) && actuallyDisabled(ctl) || attrVal(n, "aria-disabled") == "true" {
		return "element " + id + " is " + strings.Replace(d.describe(ctl), "a ", "a disabled ", 1) + ": it cannot be clicked until it is enabled", nil
	}
	if inClosedDetails(n) {
		// Chromium lays the content of a closed details element out
		// without showing it: the click lands on nothing.
		p.blur(nodeRef{})
		return "", nil
	}
	if isFormControl(n) && actuallyDisabled(n) {
		// A disabled control gets no mouse events; the press still takes
		// the focus away.
		p.blur(ref)
		return "", nil
	}
	if f := focusableAncestor(n); f != nil {
		p.setFocus(nodeRef{f, d})
	} else {
		p.blur(ref)
	}
	return b.activate(ctx, d, n)
}

// inClosedDetails reports whether n is in the content of a closed details
// element (not in its summary).
func inClosedDetails(n *html.Node) bool {
	for e := n; e != nil && e.Parent != nil; e = e.Parent {
		if det := e.Parent; isEl(det, atom.Details) && !hasAttr(det, "open") && !(isEl(e, atom.Summary) && firstChildEl(det, atom.Summary) == e) {
			return true
		}
	}
	return false
}

// closestLink is el.closest('a[href]').
func closestLink(n *html.Node) *html.Node {
	for ; n != nil; n = n.Parent {
		if isEl(n, atom.A) && hasAttr(n, "href") {
			return n
		}
	}
	return nil
}

func isFormControl(n *html.Node) bool {
	switch htmlEl(n) {
	case atom.Button, atom.Input, atom.Select, atom.Textarea:
		return true
	}
	return false
}

// focusable reports whether n can take the focus.
func focusable(n *html.Node) bool {
	switch htmlEl(n) {
	case atom.A, atom.Area:
		if hasAttr(n, "href") {
			return true
		}
	case atom.Button, atom.Select, atom.Textarea:
		return !actuallyDisabled(n)
	case atom.Input:
		return inputType(n) != "hidden" && !actuallyDisabled(n)
	case atom.Summary:
		if isEl(n.Parent, atom.Details) && firstChildEl(n.Parent, atom.Summary) == n {
			return true
		}
	}
	if n.Type == html.ElementNode && isEditingHost(n) {
		return true
	}
	if v, ok := attr(n, "tabindex"); ok {
		if _, ok := parseInt(v); ok {
			return true
		}
	}
	return false
}

// tabbable reports whether Tab stops at n.
func tabbable(n *html.Node) bool {
	if !focusable(n) {
		return false
	}
	if v, ok := attr(n, "tabindex"); ok {
		if t, ok := parseInt(v); ok && t < 0 {
			return false
		}
	}
	return true
}

// rendered reports whether n and its ancestors are displayed and n is
// visible.
func rendered(n *html.Node) bool { return visibleForAction(n) }

func focusableAncestor(n *html.Node) *html.Node {
	for ; n != nil && n.Type == html.ElementNode; n = n.Parent {
		if focusable(n) {
			return n
		}
	}
	return nil
}

// activate runs the activation behaviour of a click on target: that of
// target or of its nearest ancestor that has one.
func (b *Browser) activate(ctx context.Context, d *document, target *html.Node) (string, error) {
	for e := target; e != nil && e.Type == html.ElementNode; e = e.Parent {
		switch htmlEl(e) {
		case atom.A, atom.Area:
			if hasAttr(e, "href") {
				return b.followLink(ctx, d, e)
			}
		case atom.Button:
			if actuallyDisabled(e) {
				return "", nil
			}
			return b.activateControl(ctx, d, e)
		case atom.Input:
			switch inputType(e) {
			case "submit", "image", "reset", "button", "checkbox", "radio":
				if actuallyDisabled(e) {
					return "", nil
				}
				return b.activateControl(ctx, d, e)
			}
		case atom.Label:
			return b.activateLabel(ctx, d, e, target)
		case atom.Summary:
			if det := e.Parent; isEl(det, atom.Details) && firstChildEl(det, atom.Summary) == e {
				if hasAttr(det, "open") {
					removeAttr(det, "open")
				} else {
					setAttr(det, "open", "")
				}
				return "", nil
			}
		}
	}
	return "", nil
}

// activateControl is the activation behaviour of a button or an input.
func (b *Browser) activateControl(ctx context.Context, d *document, n *html.Node) (string, error) {
	typ := ""
	if isEl(n, atom.Button) {
		typ = buttonType(n)
	} else {
		typ = inputType(n)
	}
	switch typ {
	case "submit", "image":
		if f := d.formOwner(n); f != nil {
			return b.submit(ctx, d, f, n)
		}
	case "reset":
		if f := d.formOwner(n); f != nil {
			d.resetForm(f)
		}
	case "checkbox":
		c := d.state(n)
		c.checked = !c.checked
	case "radio":
		if c := d.state(n); !c.checked {
			c.checked = true
			d.uncheckGroup(n)
		}
	}
	return "", nil
}

// activateLabel is a label's activation behaviour (Chromium's): focus its
// control and click it, unless the click was on the control or on other
// interactive content inside the label.
func (b *Browser) activateLabel(ctx context.Context, d *document, label, target *html.Node) (string, error) {
	c := d.labelControl(label)
	if c == nil {
		return "", nil
	}
	for e := target; e != nil; e = e.Parent {
		if e == c {
			return "", nil
		}
	}
	for e := target; e != nil && e != label; e = e.Parent {
		if interactiveContent(e) {
			return "", nil
		}
	}
	if actuallyDisabled(c) {
		return "", nil
	}
	if focusable(c) && rendered(c) {
		b.ep.page.setFocus(nodeRef{c, d})
	}
	return b.activate(ctx, d, c)
}

// interactiveContent is HTML's interactive content.
func interactiveContent(n *html.Node) bool {
	switch htmlEl(n) {
	case atom.A:
		return hasAttr(n, "href")
	case atom.Audio, atom.Video:
		return hasAttr(n, "controls")
	case atom.Button, atom.Details, atom.Embed, atom.Iframe, atom.Label, atom.Select, atom.Textarea:
		return true
	case atom.Img, atom.Object:
		return hasAttr(n, "usemap")
	case atom.Input:
		return inputType(n) != "hidden"
	}
	return false
}

// followLink navigates to a link's URL, in the browsing context its target
// names.
func (b *Browser) followLink(ctx context.Context, d *document, a *html.Node) (string, error) {
	if hasAttr(a, "download") {
		return "", nil // a download: the page stays
	}
	u, err := resolveURL(&d.base, attrVal(a, "href"))
	if err != nil {
		return "", nil
	}
	target, ok := attr(a, "target")
	if !ok {
		target = d.baseTarget
	}
	return b.open(ctx, d, target, request{method: http.MethodGet, url: u, referrer: d.url.String()})
}

// open navigates the browsing context that target names, as seen from d.
// Only http(s) URLs and about:blank load; other schemes do nothing.
func (b *Browser) open(ctx context.Context, d *document, target string, req request) (string, error) {
	if !req.url.isHTTP() && !req.url.isBlank() {
		return "", nil
	}
	fd, top, ok := b.browsingContext(d, target)
	if !ok {
		return "", nil // a new tab, which the agent does not see
	}
	if req.url.isBlank() {
		if !top {
			return "", nil
		}
		b.leave(false)
		ep := b.ep
		id := ep.nextDoc
		ep.nextDoc++
		ep.hist = append(ep.hist[:ep.cur+1], entry{url: blankURL, doc: id})
		ep.cur++
		ep.page = newPage(blankDocument(), id)
		return "", nil
	}
	var lerr *loadError
	var err error
	if top {
		lerr, err = b.navigate(ctx, req, false)
	} else {
		lerr, err = b.navigateFrame(ctx, fd, req)
	}
	if err != nil {
		return "", err
	}
	if lerr != nil {
		return lerr.message(), nil
	}
	return "", nil
}

// browsingContext resolves a target name: the top-level page, a frame's
// document, or (ok false) a new tab.
func (b *Browser) browsingContext(d *document, target string) (fd *document, top, ok bool) {
	switch asciiLower(target) {
	case "", "_self":
		return d, d.parent == nil, true
	case "_parent":
		if d.parent == nil || d.parent.parent == nil {
			return nil, true, true
		}
		return d.parent, false, true
	case "_top":
		return nil, true, true
	case "_blank":
		return nil, false, false
	}
	// The first frame of that name, in tree order.
	var found *document
	var rec func(doc *document)
	rec = func(doc *document) {
		doc.eachElement(func(host *html.Node) {
			fr := doc.frames[host]
			if found != nil || fr == nil || fr.doc == nil {
				return
			}
			if attrVal(host, "name") == target {
				found = fr.doc
				return
			}
			rec(fr.doc)
		})
	}
	rec(b.ep.page.doc)
	if found == nil {
		return nil, false, false
	}
	return found, false, true
}

// ---- forms ---------------------------------------------------------------------

// submit submits form (from submitter, nil for an implicit submission
// without a button), after the browser's constraint validation.
func (b *Browser) submit(ctx context.Context, d *document, form, submitter *html.Node) (string, error) {
	if !hasAttr(form, "novalidate") && !(submitter != nil && hasAttr(submitter, "formnovalidate")) {
		if bad := d.firstInvalid(form); bad != nil {
			// Every invalid control fires 'invalid' and shows its message.
			d.markInvalid(form)
			// Chromium shows a bubble (not in the DOM) and focuses the field.
			b.ep.page.setFocus(nodeRef{bad, d})
			return "", nil
		}
	}
	override := func(formAttr, own string) (string, bool) {
		if submitter != nil {
			if v, ok := attr(submitter, formAttr); ok {
				return v, true
			}
		}
		return attr(form, own)
	}
	action, _ := override("formaction", "action")
	u := d.url
	if action != "" {
		var err error
		if u, err = resolveURL(&d.base, action); err != nil {
			return "", nil
		}
	}
	method, _ := override("formmethod", "method")
	method = asciiLower(method)
	if method == "dialog" {
		return "", nil
	}
	enctype, _ := override("formenctype", "enctype")
	target, ok := override("formtarget", "target")
	if !ok {
		target = d.baseTarget
	}
	entries := d.formData(form, submitter)
	req := request{method: http.MethodGet, referrer: d.url.String()}
	if method == "post" {
		req.method = http.MethodPost
		req.url = u
		switch asciiLower(enctype) {
		case "multipart/form-data":
			req.body, req.ctype = multipartBody(entries)
		case "text/plain":
			var sb strings.Builder
			for _, e := range entries {
				sb.WriteString(crlf(e.name) + "=" + crlf(e.value) + "\r\n")
			}
			req.body, req.ctype = []byte(sb.String()), "text/plain"
		default:
			req.body, req.ctype = []byte(urlencode(entries)), "application/x-www-form-urlencoded"
		}
	} else {
		u.query, u.hasQuery = urlencode(entries), true
		req.url = u
	}
	return b.open(ctx, d, target, req)
}

func multipartBody(entries []formEntry) ([]byte, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.SetBoundary("----PilotLiteFormBoundary7MA4YWxkTrZu0gW")
	esc := strings.NewReplacer("\"", "%22", "\r", "%0D", "\n", "%0A")
	for _, e := range entries {
		h := textproto.MIMEHeader{}
		if e.file {
			h.Set("Content-Disposition", `form-data; name="`+esc.Replace(e.name)+`"; filename=""`)
			h.Set("Content-Type", "application/octet-stream")
			_, _ = w.CreatePart(h)
			continue
		}
		h.Set("Content-Disposition", `form-data; name="`+esc.Replace(e.name)+`"`)
		pw, _ := w.CreatePart(h)
		_, _ = pw.Write([]byte(crlf(e.value)))
	}
	_ = w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

// owned lists the form's submittable elements in tree order.
func (d *document) owned(form *html.Node) []*html.Node {
	var out []*html.Node
	d.eachElement(func(n *html.Node) {
		switch htmlEl(n) {
		case atom.Button, atom.Input, atom.Select, atom.Textarea:
			if d.formOwner(n) == form {
				out = append(out, n)
			}
		}
	})
	return out
}

// formData constructs the entry list of a form submission.
func (d *document) formData(form, submitter *html.Node) []formEntry {
	var out []formEntry
	for _, n := range d.owned(form) {
		if closest(n, atom.Datalist) != nil || actuallyDisabled(n) {
			continue
		}
		tag := htmlEl(n)
		typ := ""
		if tag == atom.Input {
			typ = inputType(n)
		}
		if (tag == atom.Button || isButtonLikeInput(typ)) && n != submitter {
			continue
		}
		if (typ == "checkbox" || typ == "radio") && !d.state(n).checked {
			continue
		}
		name := attrVal(n, "name")
		if typ == "image" {
			if name != "" {
				name += "."
			}
			out = append(out, formEntry{name: name + "x", value: "0"}, formEntry{name: name + "y", value: "0"})
			continue
		}
		if name == "" {
			continue
		}
		switch {
		case tag == atom.Select:
			for _, o := range selectOptions(n) {
				if d.state(o).selected && !actuallyDisabled(o) {
					out = append(out, formEntry{name: name, value: optionValue(o)})
				}
			}
		case typ == "checkbox" || typ == "radio":
			v, ok := attr(n, "value")
			if !ok {
				v = "on"
			}
			out = append(out, formEntry{name: name, value: v})
		case typ == "file":
			out = append(out, formEntry{name: name, file: true})
		case typ == "hidden" && asciiLower(name) == "_charset_":
			out = append(out, formEntry{name: name, value: "UTF-8"})
		case tag == atom.Button:
			out = append(out, formEntry{name: name, value: attrVal(n, "value")})
		case tag == atom.Textarea:
			out = append(out, formEntry{name: name, value: d.value(n)})
		case typ == "hidden" || isButtonLikeInput(typ):
			out = append(out, formEntry{name: name, value: attrVal(n, "value")})
		default:
			out = append(out, formEntry{name: name, value: d.value(n)})
		}
		if dn := attrVal(n, "dirname"); dn != "" && (tag == atom.Textarea || typ == "text" || typ == "search") {
			out = append(out, formEntry{name: dn, value: "ltr"})
		}
	}
	return out
}

// value is a text control's value (a number field shows "" while its text
// is not a number).
func (d *document) value(n *html.Node) string {
	c := d.state(n)
	if isEl(n, atom.Input) && inputType(n) == "number" && !validFloat(c.value) {
		return ""
	}
	return c.value
}

// resetForm puts the form's controls back to their defaults.
func (d *document) resetForm(form *html.Node) {
	for _, n := range d.owned(form) {
		switch htmlEl(n) {
		case atom.Input:
			c := d.state(n)
			typ := inputType(n)
			if typ == "checkbox" || typ == "radio" {
				c.checked = hasAttr(n, "checked")
			} else {
				c.value, c.dirty = sanitizeValue(n, typ, attrVal(n, "value")), false
			}
		case atom.Textarea:
			c := d.state(n)
			c.value, c.dirty = normalizeNewlines(childText(n)), false
		case atom.Select:
			d.resetSelectedness(n, true)
		}
	}
	for _, n := range d.owned(form) {
		if isEl(n, atom.Input) && inputType(n) == "radio" && d.state(n).checked {
			d.uncheckGroup(n)
		}
	}
}

// markInvalid records the form's controls that fail validation now, as
// their 'invalid' events do in pilot.js.
func (d *document) markInvalid(form *html.Node) {
	if d.invalid == nil {
		d.invalid = map[*html.Node]bool{}
	}
	for _, n := range d.owned(form) {
		if typ, ok := candidate(n); ok && !d.valid(n, typ) {
			d.invalid[n] = true
		}
	}
}

// validationMessage is el.validationMessage of a control.
func (d *document) validationMessage(n *html.Node) string {
	typ, ok := candidate(n)
	if !ok {
		return ""
	}
	return d.validity(n, typ)
}

// candidate reports whether n is a candidate for constraint validation, and
// its type for validity.
func candidate(n *html.Node) (string, bool) {
	if closest(n, atom.Datalist) != nil || actuallyDisabled(n) {
		return "", false
	}
	typ := ""
	switch htmlEl(n) {
	case atom.Select:
	case atom.Textarea:
		typ = "textarea"
	case atom.Input:
		typ = inputType(n)
		switch typ {
		case "hidden", "button", "submit", "reset", "image":
			return "", false
		}
	default:
		return "", false
	}
	if isEl(n, atom.Input) || isEl(n, atom.Textarea) {
		if hasAttr(n, "readonly") && typ != "checkbox" && typ != "radio" {
			return "", false
		}
	}
	return typ, true
}

// firstInvalid returns the form's first control that fails constraint
// validation: required, type (email, url), range (number), minlength and
// pattern.
func (d *document) firstInvalid(form *html.Node) *html.Node {
	for _, n := range d.owned(form) {
		if typ, ok := candidate(n); ok && !d.valid(n, typ) {
			return n
		}
	}
	return nil
}

func (d *document) valid(n *html.Node, typ string) bool { return d.validity(n, typ) == "" }

// Chromium's (en-US) validation messages.
const (
	msgFill   = "Please fill out this field."
	msgCheck  = "Please check this box if you want to proceed."
	msgRadio  = "Please select one of these options."
	msgSelect = "Please select an item in the list."
	msgFile   = "Please select a file."
)

// validity returns the browser's validation message for control n (of
// type typ, "textarea" for a textarea), "" when it is valid.
func (d *document) validity(n *html.Node, typ string) string {
	required := hasAttr(n, "required")
	switch {
	case isEl(n, atom.Select):
		if !required {
			return ""
		}
		opts := selectOptions(n)
		for i, o := range opts {
			if !d.state(o).selected {
				continue
			}
			placeholder := i == 0 && !hasAttr(n, "multiple") && displaySize(n) == 1 && optionValue(o) == "" && isEl(o.Parent, atom.Select)
			if !placeholder {
				return ""
			}
		}
		return msgSelect
	case typ == "checkbox":
		if !required || d.state(n).checked {
			return ""
		}
		return msgCheck
	case typ == "radio":
		group := d.radioGroup(n)
		req := false
		for _, r := range group {
			if d.state(r).checked {
				return ""
			}
			req = req || hasAttr(r, "required")
		}
		if req {
			return msgRadio
		}
		return ""
	case typ == "file":
		if required {
			return msgFile
		}
		return ""
	case typ == "range" || typ == "color":
		return ""
	}
	v := d.value(n)
	if required && v == "" {
		return msgFill
	}
	if v == "" {
		return ""
	}
	switch typ {
	case "email":
		for addr := range strings.SplitSeq(v, ",") {
			if hasAttr(n, "multiple") {
				addr = strings.Trim(addr, asciiSpace)
			} else if addr != v {
				return "Please enter an email address."
			}
			if msg := emailMessage(addr); msg != "" {
				return msg
			}
		}
	case "url":
		if u, err := parseURL(v); err != nil || u.scheme == "" {
			return "Please enter a URL."
		}
	case "number":
		f, _ := strconv.ParseFloat(v, 64)
		if lo, ok := parseFloatAttr(n, "min"); ok && f < lo {
			return "Value must be greater than or equal to " + attrVal(n, "min") + "."
		}
		if hi, ok := parseFloatAttr(n, "max"); ok && f > hi {
			return "Value must be less than or equal to " + attrVal(n, "max") + "."
		}
	}
	if ml, ok := attr(n, "minlength"); ok && d.state(n).dirty {
		if m, ok := parseNonNegInt(ml); ok && utf16Len(v) < m {
			return fmt.Sprintf("Please lengthen this text to %d characters or more (you are currently using %d %s).", m, utf16Len(v), plural(utf16Len(v), "character"))
		}
	}
	if pat, ok := attr(n, "pattern"); ok && typ != "textarea" {
		if re, err := regexp.Compile("^(?:" + pat + ")$"); err == nil && !re.MatchString(v) {
			if t := attrVal(n, "title"); t != "" {
				return "Please match the requested format. " + t
			}
			return "Please match the requested format."
		}
	}
	return ""
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// emailMessage is Chromium's message for an address that is not one, ""
// for one that is.
func emailMessage(addr string) string {
	at := strings.IndexByte(addr, '@')
	switch {
	case at < 0:
		return "Please include an '@' in the email address. '" + addr + "' is missing an '@'."
	case at == 0:
		return "Please enter a part followed by '@'. '" + addr + "' is incomplete."
	case at == len(addr)-1:
		return "Please enter a part following '@'. '" + addr + "' is incomplete."
	case strings.ContainsAny(addr, " \t") || strings.Count(addr, "@") != 1:
		return "Please enter an email address."
	}
	return ""
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// limitUTF16 cuts s to at most max UTF-16 code units.
func limitUTF16(s string, max int) string {
	n := 0
	for i, r := range s {
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if n+w > max {
			return s[:i]
		}
		n += w
	}
	return s
}

// implicitSubmit is what Enter in a text field does: click the form's
// default button, or submit a form that has no button and at most one
// text field.
func (b *Browser) implicitSubmit(ctx context.Context, d *document, field *html.Node) (string, error) {
	form := d.formOwner(field)
	if form == nil {
		return "", nil
	}
	owned := d.owned(form)
	for _, n := range owned {
		if isSubmitButton(n) {
			if actuallyDisabled(n) {
				return "", nil
			}
			return b.activate(ctx, d, n)
		}
	}
	blocking := 0
	for _, n := range owned {
		if isEl(n, atom.Input) {
			switch inputType(n) {
			case "text", "search", "url", "tel", "email", "password", "date", "month", "week", "time", "datetime-local", "number":
				blocking++
			}
		}
	}
	if blocking > 1 {
		return "", nil
	}
	return b.submit(ctx, d, form, nil)
}

// ---- text --------------------------------------------------------------------

// typedTypes are the input types that pilot.js's prepareFill types into
// (by the type attribute, in lower case); pickedFormats those it sets, with
// the format each takes (pilot.js's FORMATS).
var (
	typedTypes = map[string]bool{
		"text": true, "search": true, "email": true, "password": true, "tel": true, "url": true, "number": true, "": true,
	}
	pickedFormats = map[string]string{
		"date":           "a date as YYYY-MM-DD (e.g. 2026-12-04)",
		"time":           "a time as HH:MM or HH:MM:SS, 24-hour (e.g. 14:30)",
		"datetime-local": "a date and time as YYYY-MM-DDTHH:MM (e.g. 2026-12-04T14:30)",
		"month":          "a month as YYYY-MM (e.g. 2026-12)",
		"week":           "a week as YYYY-Www (e.g. 2026-W49)",
		"color":          "a colour as #rrggbb (e.g. #ff8800)",
		"range":          "a number",
	}
)

// fill is pilot.js's prepareFill followed by typing text over the field
// (or setting a date, time, colour or range input's value) and afterFill.
func (b *Browser) fill(id, text string) string {
	ref, msg := b.lookup(id)
	if msg != "" {
		return msg
	}
	n, d := ref.n, ref.d
	if isEl(n, atom.Label) {
		if c := d.labelControl(n); c != nil {
			n = c
			ref = nodeRef{c, d}
		}
	}
	isInput := isEl(n, atom.Input)
	typed := isInput && typedTypes[strings.ToLower(attrVal(n, "type"))] || isEl(n, atom.Textarea) || contentEditable(n)
	format := ""
	if isInput {
		format = pickedFormats[inputType(n)]
	}
	if !typed && format == "" {
		hint := "fill works on text fields and on date, time, colour and range inputs"
		switch {
		case isInput && (inputType(n) == "checkbox" || inputType(n) == "radio"):
			hint = "use click to check it"
		case isInput && inputType(n) == "file":
			hint = "use upload to choose a file"
		case isEl(n, atom.Select):
			hint = "use select_option"
		}
		return "element " + id + " is " + d.describe(n) + ", not a text field: " + hint
	}
	if disabledAttr(n) {
		return "element " + id + " is disabled"
	}
	if (isInput || isEl(n, atom.Textarea)) && hasAttr(n, "readonly") {
		return "element " + id + " is read-only"
	}
	// The text reaches Chromium as JSON: bytes that are not UTF-8 arrive
	// as U+FFFD.
	text = string(validUTF8([]byte(text)))
	if format != "" {
		typ := inputType(n)
		if !actuallyDisabled(n) {
			b.ep.page.setFocus(ref)
		}
		v := sanitizeValue(n, typ, text)
		ok := v != "" || text == ""
		switch typ {
		case "color":
			ok = v == strings.ToLower(strings.Trim(text, asciiSpace))
		case "range":
			f, err := strconv.ParseFloat(strings.Trim(text, asciiSpace), 64)
			g, err2 := strconv.ParseFloat(v, 64)
			ok = text != "" && err == nil && err2 == nil && f == g
		}
		if !ok {
			want := format
			if typ == "range" {
				lo, hi := attrVal(n, "min"), attrVal(n, "max")
				if lo == "" {
					lo = "0"
				}
				if hi == "" {
					hi = "100"
				}
				want = "a number from " + lo + " to " + hi
				if st := attrVal(n, "step"); st != "" && st != "any" && st != "1" {
					want += " in steps of " + st
				}
			}
			return "element " + id + " is a " + typ + " input: it takes " + want + ", not " + q(text, 0)
		}
		c := d.state(n)
		c.value, c.dirty = v, true
		return ""
	}
	if actuallyDisabled(n) {
		return "" // disabled by its fieldset: it takes no focus and no text
	}
	b.ep.page.setFocus(ref)
	d.setText(n, "", text)
	if isInput && inputType(n) == "number" && text != "" && d.value(n) == "" {
		return "element " + id + " is a number input: it takes a number such as 42 or 3.5, not " + q(text, 0)
	}
	return ""
}

// setText replaces a text field's content with old+text, as typing does:
// a single-line field turns line breaks into spaces, a number field drops
// what is not part of a number, maxlength cuts.
func (d *document) setText(n *html.Node, old, text string) {
	switch htmlEl(n) {
	case atom.Input:
		typ := inputType(n)
		if typ == "number" {
			text = strings.Map(func(r rune) rune {
				if '0' <= r && r <= '9' || strings.ContainsRune("+-.eE", r) {
					return r
				}
				return -1
			}, text)
		} else {
			text = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(text)
		}
		v := old + text
		if ml, ok := attr(n, "maxlength"); ok {
			if m, ok := parseNonNegInt(ml); ok {
				v = limitUTF16(v, m)
			}
		}
		if typ != "number" {
			v = sanitizeValue(n, typ, v)
		}
		c := d.state(n)
		c.value, c.dirty = v, true
	case atom.Textarea:
		v := old + normalizeNewlines(text)
		if ml, ok := attr(n, "maxlength"); ok {
			if m, ok := parseNonNegInt(ml); ok {
				v = limitUTF16(v, m)
			}
		}
		c := d.state(n)
		c.value, c.dirty = v, true
	default: // contenteditable
		for c := n.FirstChild; c != nil; {
			next := c.NextSibling
			n.RemoveChild(c)
			c = next
		}
		if v := old + text; v != "" {
			n.AppendChild(&html.Node{Type: html.TextNode, Data: v})
		}
	}
}

// textValue is the text a field holds, for typing at its end.
func (d *document) textValue(n *html.Node) string {
	if isEl(n, atom.Input) || isEl(n, atom.Textarea) {
		return d.state(n).value
	}
	var b strings.Builder
	var rec func(*html.Node)
	rec = func(p *html.Node) {
		for c := p.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.TextNode {
				b.WriteString(c.Data)
			} else {
				rec(c)
			}
		}
	}
	rec(n)
	return b.String()
}

// isTextField reports whether typing goes into n.
func isTextField(n *html.Node) bool {
	switch htmlEl(n) {
	case atom.Input:
		switch inputType(n) {
		case "checkbox", "radio", "submit", "image", "reset", "button", "range", "color", "file", "hidden":
			return false
		}
		return true
	case atom.Textarea:
		return true
	}
	return contentEditable(n)
}

// selectOption is pilot.js's selectOption.
func (b *Browser) selectOption(id, want string) string {
	ref, msg := b.lookup(id)
	if msg != "" {
		return msg
	}
	d := ref.d
	el := ref.n
	if isEl(el, atom.Option) && el.Parent != nil {
		el = closest(el, atom.Select)
	}
	if el == nil || !isEl(el, atom.Select) {
		return "element " + id + " is " + d.describe(ref.n) + ", not a select: use click for other elements"
	}
	if disabledAttr(el) {
		return "element " + id + " is disabled"
	}
	norm := func(s string) string { return strings.ToLower(clean(s)) }
	w := norm(want)
	opts := selectOptions(el)
	var hit *html.Node
	for _, o := range opts {
		if norm(optionLabel(o)) == w {
			hit = o
			break
		}
	}
	if hit == nil {
		for _, o := range opts {
			if norm(optionValue(o)) == w {
				hit = o
				break
			}
		}
	}
	if hit == nil {
		names := make([]string, len(opts))
		for i, o := range opts {
			names[i] = q(optionLabel(o), 0)
		}
		return "select " + id + " has no option " + jsonString(want) + ": its options are " + strings.Join(names, ", ")
	}
	if hasAttr(hit, "disabled") {
		return "option " + jsonString(want) + " of select " + id + " is disabled"
	}
	b.ep.page.setFocus(nodeRef{el, d})
	if !hasAttr(el, "multiple") {
		for _, o := range opts {
			d.state(o).selected = false
		}
	}
	d.state(hit).selected = true
	return ""
}

// jsonString is JSON.stringify(s), without cleaning s.
func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	writeJSONBody(&b, s)
	b.WriteByte('"')
	return b.String()
}

// ---- keys --------------------------------------------------------------------

// Modifier keys of press: CDP's bits, as web.ParseKey returns them.
const (
	modAlt   = int(chromedp.ModifierAlt)
	modCtrl  = int(chromedp.ModifierCtrl)
	modMeta  = int(chromedp.ModifierMeta)
	modShift = int(chromedp.ModifierShift)
)

// parseKey reads "Enter", "a", "Control+Shift+ArrowDown" as env/web does.
func parseKey(spec string) (rune, int, string) {
	key, mods, msg := web.ParseKey(spec)
	return key, int(mods), msg
}

// press sends a key to the focused element: Enter (submit, activate),
// Space (activate), Tab and Shift+Tab (move the focus), Backspace and
// characters (edit a text field). Other keys do nothing in lite.
func (b *Browser) press(ctx context.Context, spec string) (string, error) {
	key, mods, msg := parseKey(spec)
	if msg != "" {
		return msg, nil
	}
	p := b.ep.page
	if key == '\t' {
		if mods&(modCtrl|modAlt|modMeta) == 0 {
			b.tab(mods&modShift == 0)
		}
		return "", nil
	}
	f := p.focused()
	if f.n == nil {
		return "", nil
	}
	n, d := f.n, f.d
	editable := isTextField(n) && !hasAttr(n, "readonly") && !actuallyDisabled(n)
	if (key == 'a' || key == 'A') && mods&(modCtrl|modMeta) != 0 && mods&modAlt == 0 {
		p.selAll = editable
		return "", nil
	}
	// old is the text that typing keeps: none when all of it is selected.
	old := ""
	if editable && !p.selAll {
		old = d.textValue(n)
	}
	switch key {
	case '\r', '\n':
		switch htmlEl(n) {
		case atom.Input:
			switch inputType(n) {
			case "submit", "image", "reset", "button":
				return b.activate(ctx, d, n)
			case "checkbox", "radio", "range", "color", "file", "hidden":
				return "", nil
			}
			return b.implicitSubmit(ctx, d, n)
		case atom.A, atom.Area:
			if hasAttr(n, "href") {
				return b.followLink(ctx, d, n)
			}
			return "", nil
		case atom.Button, atom.Summary:
			return b.activate(ctx, d, n)
		}
		if editable {
			d.setText(n, old, "\n")
			p.selAll = false
		}
		return "", nil
	case ' ':
		switch htmlEl(n) {
		case atom.Button, atom.Summary:
			return b.activate(ctx, d, n)
		case atom.Input:
			switch inputType(n) {
			case "submit", "image", "reset", "button", "checkbox", "radio":
				return b.activate(ctx, d, n)
			}
		}
	case '\b':
		if editable {
			v := []rune(old)
			if len(v) > 0 && !p.selAll {
				v = v[:len(v)-1]
			}
			d.setText(n, "", string(v))
			p.selAll = false
		}
		return "", nil
	}
	if !editable || mods&(modCtrl|modAlt|modMeta) != 0 {
		return "", nil
	}
	text := ""
	if k, ok := kb.Keys[key]; ok {
		if k.Print {
			text = k.Text
		}
	} else if unicode.IsPrint(key) {
		text = string(key)
	}
	if text != "" {
		d.setText(n, old, text)
		p.selAll = false
	}
	return "", nil
}

// tab moves the focus to the next (or previous) element in sequential
// focus order: tree order (positive tabindex values are not ordered
// first in lite), one stop per radio group.
func (b *Browser) tab(forward bool) {
	p := b.ep.page
	var all []nodeRef
	var stops []bool
	var rec func(d *document, parent *html.Node, vis bool)
	rec = func(d *document, parent *html.Node, vis bool) {
		for c := parent.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode || isEl(c, atom.Template) || isEl(c, atom.Head) {
				continue
			}
			st := styleOf(c)
			if displayNone(c, st) {
				continue
			}
			h := visHidden(vis, st)
			all = append(all, nodeRef{c, d})
			stops = append(stops, !h && tabbable(c) && visibleForAction(c))
			if fr := d.frames[c]; fr != nil && fr.doc != nil && fr.doc.body != nil {
				rec(fr.doc, fr.doc.body, bodyVisHidden(fr.doc))
			}
			rec(d, c, h)
		}
	}
	if p.doc.body != nil {
		rec(p.doc, p.doc.body, bodyVisHidden(p.doc))
	}
	// One stop per radio group: the checked radio, else the first (going
	// forward) or the last (going back).
	for i, r := range all {
		if !stops[i] || !isEl(r.n, atom.Input) || inputType(r.n) != "radio" || attrVal(r.n, "name") == "" {
			continue
		}
		group := r.d.radioGroup(r.n)
		if len(group) == 0 {
			continue
		}
		var pick *html.Node
		for _, g := range group {
			if r.d.state(g).checked {
				pick = g
			}
		}
		if pick == nil {
			pick = group[0]
			if !forward {
				pick = group[len(group)-1]
			}
		}
		stops[i] = pick == r.n
	}
	from := p.focused()
	if from.n == nil {
		from = p.start
	}
	start := -1
	for i, r := range all {
		if r.n == from.n {
			start = i
			break
		}
	}
	focus := func(r nodeRef) {
		p.setFocus(r)
		// Chromium selects an input's text when Tab focuses it.
		p.selAll = isEl(r.n, atom.Input) && isTextField(r.n)
	}
	if forward {
		for i := start + 1; i < len(all); i++ {
			if stops[i] {
				focus(all[i])
				return
			}
		}
	} else {
		if start < 0 {
			start = len(all)
		}
		for i := start - 1; i >= 0; i-- {
			if stops[i] {
				focus(all[i])
				return
			}
		}
	}
	// Past the last stop the focus leaves the page.
	p.blur(nodeRef{})
}

// ---- goto --------------------------------------------------------------------

// gotoURL opens an absolute URL, within the allowed origin.
func (b *Browser) gotoURL(ctx context.Context, raw string) (string, error) {
	u, err := parseURL(strings.TrimSpace(raw))
	if err != nil || u.scheme == "" || (u.isHTTP() && u.host == "") {
		return fmt.Sprintf("goto %q: not an absolute URL: write it with http:// or https://", raw), nil
	}
	switch {
	case u.isHTTP():
	case u.scheme == "about" || u.scheme == "file" || u.scheme == "data":
		if !u.isBlank() {
			return fmt.Sprintf("goto %q: the lite browser opens only http(s) URLs and about:blank", raw), nil
		}
	default:
		return fmt.Sprintf("goto %q: the scheme %s is not supported (use http or https)", raw, u.scheme), nil
	}
	if msg := b.checkURL(u); msg != "" {
		return "goto refused: " + msg, nil
	}
	if u.isBlank() {
		return b.open(ctx, b.ep.page.doc, "", request{method: http.MethodGet, url: u})
	}
	lerr, err := b.navigate(ctx, request{method: http.MethodGet, url: u}, false)
	if err != nil {
		return "", err
	}
	if lerr != nil {
		if lerr.refused {
			return lerr.message(), nil
		}
		return fmt.Sprintf("goto %s: the page did not load: %s", u, lerr.text), nil
	}
	return "", nil
}

// waitFor is wait_for in a page without scripts: the text is there now,
// or it never comes.
func (b *Browser) waitFor(text string) string {
	want := strings.ToLower(clean(text))
	if want == "" {
		return "wait_for: give the text to wait for"
	}
	// The page's own text, not b.observation: that would count as a step
	// of the observation's shaper (--obs diff).
	tree, _ := b.ep.page.observe()
	if strings.Contains(strings.ToLower(clean(b.ep.page.doc.title+" "+tree)), want) {
		return ""
	}
	return "wait_for " + q(text, 0) + ": the text is not on the page, and a page in the lite browser does not change by itself (it runs no scripts)"
}
