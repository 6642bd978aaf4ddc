package lite_test

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"strings"
)

// site is the test site: the pages below and a few dynamic handlers. Both
// the unit tests and the Chromium comparison use it.
func site() *http.ServeMux {
	mux := http.NewServeMux()
	for path, body := range pages {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			io.WriteString(w, body)
		})
	}
	// /echo shows the request: method, query and form body.
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, "<!doctype html><title>Echo</title><p id=m>%s</p><p id=q>%s</p><p id=b>%s</p><a href=/form>Form</a>",
			html.EscapeString(r.Method), html.EscapeString(r.URL.RawQuery), html.EscapeString(string(body)))
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/redirect2?from=1#top", http.StatusFound)
	})
	mux.HandleFunc("/redirect2", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/echo?"+r.URL.RawQuery, http.StatusMovedPermanently)
	})
	mux.HandleFunc("/post303", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		http.Redirect(w, r, "/echo?posted="+strings.ReplaceAll(string(body), "&", "%26"), http.StatusSeeOther)
	})
	mux.HandleFunc("/nocontent", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/text", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "plain   text\nsecond line")
	})
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "<!doctype html><title>Not found</title><h1>404</h1><p>No such page.</p>")
	})
	mux.HandleFunc("/cookie", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("set") != "" {
			http.SetCookie(w, &http.Cookie{Name: "k", Value: r.URL.Query().Get("set"), Path: "/"})
		}
		c, _ := r.Cookie("k")
		v := "none"
		if c != nil {
			v = c.Value
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "<!doctype html><title>Cookie</title><p>cookie %s</p><a href=/cookie>Again</a>", html.EscapeString(v))
	})
	return mux
}

// scenario is a start page and actions, compared step by step.
type scenario struct {
	name    string
	start   string
	actions []string
	// racyFocus names elements whose focus the comparison ignores:
	// Chromium applies autofocus at its next rendering update, which
	// env/web's settle does not wait for, so under load it may observe
	// the page before.
	racyFocus []string
}

var pages = map[string]string{
	"/markup": `<!DOCTYPE html><HTML><BODY ROLE="Main"><DIV Role="Button" TITLE="Upper">upper case</DIV>
<p>a<!-- comment -->b &amp; c &lt;d&gt; &eacute; &#x1F600; &nbsp;</p>
<a href="/echo">line<br>break</a><a href="/echo"><div>block</div><div>in link</div></a>
<a href="/echo"><button>Button in link</button></a><button><input type="checkbox" aria-label="Inner cb"> in button</button>
<label>Choose <select name="s"><option>x</option><option label="  ">blank label</option><option label="L">labelled</option></select></label>
<select aria-label="Hidden opt"><option hidden>hid</option><option>vis</option></select>
<select aria-label="Div in select"><div>div text</div><option>opt</option></select>
<span id="self" aria-labelledby="self">self labelled</span><button aria-labelledby="self">By self</button>
<p id="dup">first dup</p><p id="dup">second dup</p><button aria-labelledby="dup">By dup</button>
<table><tr><td>cell</td></tr>foster text<tr><th scope=row>row head</th></tr></table>
<li>orphan item</li><thead><tr><td>x</td></tr></thead>
<form><input aria-label="Outer"><form><input aria-label="Inner"></form></form>
<foo-bar>custom</foo-bar><foo>unknown</foo><video controls>video fallback</video><canvas>canvas fallback</canvas>
<iframe title="Fallback">iframe fallback</iframe><object data="/x">object fallback</object>
<ruby>漢<rp>(</rp><rt>kan</rt><rp>)</rp></ruby><marquee>scroll</marquee>
<input type="checkbox" aria-checked="true" aria-label="Aria checked input"><div aria-checked="false" role="checkbox">Unchecked</div>
<h1 aria-level="3">Level attr on h1</h1><div role="heading" aria-level=" 2 ">Spaced level</div>
<div aria-expanded="true" role="button">Exp</div><div role="treeitem" aria-selected="false">Tree</div>
<p>` + "tab\there and\u3000ideographic" + `</p><pre>  pre
   formatted  </pre><xmp><b>xmp</b></xmp><plaintext>plain <b>text</b> rest`,

	"/dir/sub/page": `<!doctype html><html><head><title>Relative</title><base target="_self"></head><body>
<a href="../up">Up</a> <a href="sibling?x=1">Sibling</a> <a href="?only=query">Query</a> <a href="#frag">Frag</a>
<a href="//127.0.0.1:1/other">Scheme relative</a> <a href="/echo?a=1&amp;b=%zz&amp;c=é d|e">Odd query</a>
<a href="/echo/./a/../b">Dots</a> <a href=" /echo?trim=1 ">Spaces</a> <a href="/echo?q=a%20b#f g">Fragment space</a>
<a href="HTTP://127.0.0.1:1/Case">Upper scheme</a> <a href="/echo#">Empty frag</a> <a href="/ech%6F?x=%41">Escapes</a>
<a href="/echo?x=😀">Emoji</a> <a href="/p|q^r[s]">Pipe path</a> <a href="\echo\back">Backslash</a>
<a href="">Empty</a> <a href="/echo" target="_blank">New tab</a></body></html>`,
	"/roles": `<!doctype html><html><head><title>  Roles
	page </title><style>p{color:red}</style><script>var x = 1;</script></head><body>
<nav><a href="/echo">Nav link</a> <a>No href</a> <a href="">Empty href</a></nav>
<header>Head</header><main><h1>Main title</h1><h2>Two</h2><h3>Three</h3><h4>Four</h4><h5>Five</h5><h6>Six</h6>
<section>plain section</section><section aria-label="Labelled section">in region</section>
<aside>aside</aside><article>article text</article>
<ul><li>one</li><li>two <b>bold</b> tail</li></ul><ol><li>first</li></ol>
<dl><dt>term</dt><dd>definition</dd></dl>
<table><caption>Prices</caption><tr><th>Item</th><th>Price</th></tr><tr><td>Mug</td><td>$9</td></tr></table>
<table><tr><td>no caption</td></tr></table>
<div role="tab" aria-selected="true" aria-expanded="false">Tab A</div>
<div role="  tab   panel ">Tab B</div><div role="presentation"><p>in presentation</p></div><div role="none">none text</div>
<span role="button" aria-disabled="true">Fake button</span><div role="checkbox" aria-checked="mixed">Mixed</div>
<div role="switch" aria-checked="true">Switch</div><div role="heading" aria-level="4">Aria heading</div><div role="heading">No level</div>
<h2 role="tab">Heading as tab</h2><div role=" ">blank role</div>
<progress value="3" max="10">30%</progress><dialog open>Open dialog</dialog>
<p>text with <em>emphasis</em> and <a href="/echo?x=1">inline link</a>.</p>
<footer>Foot <small>small</small></footer></main>
<custom-el>custom element text</custom-el>
<svg><text>svg text</text><title>svg title</title></svg>
<math><mi>x</mi></math>
</body></html>`,

	"/inputs": `<!doctype html><title>Inputs</title>
<input aria-label="Default"><input type="text" value="hello" aria-label="Text">
<input type="search" placeholder="Find" value="q"><input type="email" value="  a@b.c  " aria-label="Email">
<input type="password" value="secret" aria-label="Pw"><input type="password" aria-label="Empty pw">
<input type="tel" aria-label="Tel"><input type="url" value=" http://x.y/ " aria-label="Url">
<input type="number" value="1e3" aria-label="N"><input type="number" value="abc" aria-label="Bad n">
<input type="range" aria-label="R"><input type="range" min="0" max="10" value="7" aria-label="R2"><input type="range" min="0" max="10" value="70" aria-label="R3">
<input type="color" aria-label="C"><input type="color" value="#ABCDEF" aria-label="C2">
<input type="date" value="2024-02-30" aria-label="D"><input type="date" value="2024-02-29" aria-label="D2">
<input type="time" value="12:30" aria-label="T"><input type="month" value="2024-13" aria-label="M"><input type="week" value="2024-W05" aria-label="W">
<input type="datetime-local" value="2024-01-02 03:04" aria-label="DT">
<input type="checkbox" checked aria-label="Cb"><input type="radio" aria-label="Rd">
<input type="file" aria-label="F"><input type="submit"><input type="submit" value="Go!"><input type="reset"><input type="button" value="Btn"><input type="button">
<input type="image" alt="Image button"><input type="image" alt="  "><input type="image">
<input type="hidden" value="h"><input type="HIDDEN" value="h2"><input type="bogus" value="b" aria-label="Bogus"><input type="CHECKBOX" aria-label="Upper">
<input readonly value="ro" aria-label="Ro"><input required aria-label="Req"><input disabled aria-label="Dis">
<input value="line&#10;break" aria-label="NL"><input title="Titled"><input title="" placeholder="Ph"><input type="constructor" value="c" aria-label="Proto">
<textarea aria-label="Area">
  some   text
</textarea><textarea placeholder="Empty area"></textarea>
<select aria-label="Pick"><option>One</option><option selected>Two</option><option selected>Three</option></select>
<select aria-label="None selected"><option disabled>Off</option><option value="v2">Second</option></select>
<select multiple aria-label="Multi"><option selected>A</option><option>B</option><option selected>C</option></select>
<select size="3" aria-label="Sized"><option>X</option><option>Y</option></select>
<select aria-label="Groups"><optgroup label="G1"><option>g1a</option><option label="Labelled">g1b</option></optgroup><optgroup label="G2" disabled><option>g2a</option></optgroup></select>
<select aria-label="Empty"></select><select disabled aria-label="Off"><option>z</option></select>
<option>stray option</option>
<div contenteditable="true">edit <b>me</b></div><div contenteditable="false">not editable</div>
<meter value="0.5">half</meter><output>out</output>`,

	"/names": `<!doctype html><title>Names</title>
<span id="l1">First</span><span id="l2">Second <i>part</i></span><span id="l3"></span>
<button aria-labelledby="l1 l2">Content</button><button aria-labelledby="nope l1">B2</button><button aria-labelledby="l3" aria-label="AL">B3</button>
<button aria-labelledby="nope">B4</button><button aria-label="  ">Blank aria</button><button aria-label=" Spaced   label ">x</button>
<label for="f1">For label</label><input id="f1"><label>Wrap <input> after</label>
<label for="f2">One</label><label for="f2">Two</label><input id="f2">
<label for="f3">Wrapping other</label><label>Inner <input id="f3"></label>
<label for="div1">Not labelable</label><div id="div1">div</div><label>Orphan label</label>
<label for="">Empty for</label><label>Label with <a href="/echo">link</a> <input type="checkbox" name="lc"></label>
<img alt="An image"><img alt=""><img><img alt="  "><img title="Img title">
<a href="/echo"><img alt="Pic link"></a><a href="/echo"><img alt=""></a><a href="/echo" title="Titled link"></a>
<a href="/echo">  spaced   link  text </a><a href="/echo">link <span>with</span><b>parts</b></a>
<button>Button <span aria-hidden="true">hidden</span> text</button><button title="Titled button"></button>
<fieldset><legend>Legend <b>text</b></legend><input aria-label="in fieldset"></fieldset><fieldset><p>no legend</p><legend>late legend</legend></fieldset>
<h2>Heading <a href="/echo">with link</a></h2><h3><span>nested</span> heading</h3>
<p>quote " backslash \ tab	tab nbsp&nbsp;&nbsp;end em&emsp;space</p>
<p>control &#1; char and zero width&#8203;space</p>
<a href="/echo" aria-label="Aria link">Content link</a>
<summary>Stray summary</summary><details><summary>Sum <b>mary</b></summary>details body</details>
<div title="Div title">div with title</div>`,

	"/hidden": `<!doctype html><title>Hidden</title>
<p hidden>hidden attr</p><p hidden="until-found">until found</p><p hidden style="display:block">shown anyway</p>
<p aria-hidden="true">aria hidden</p><p aria-hidden="false">aria shown</p>
<p style="display:none">display none</p><p style="DISPLAY : NONE !important">display none upper</p><p style="display:none;display:block">last wins</p>
<div style="visibility:hidden">vis hidden <a href="/echo">hidden link</a><span style="visibility:visible">visible text <a href="/echo">visible link</a></span></div>
<ul style="visibility:hidden"><li>hidden item</li></ul>
<p style="opacity:0">transparent para</p><button style="opacity:0">transparent button</button><div style="opacity:0">transparent div text</div>
<dialog>closed dialog</dialog><div popover>popover</div><template><p>template</p></template>
<noscript><p>noscript</p></noscript><script>var y = "script text";</script><style>.x{}</style>
<datalist id="dl"><option>dl option</option></datalist>
<audio>audio</audio><audio controls>audio controls</audio>
<input type="hidden" name="h" value="1">
<p>visible <span hidden>not this</span> end</p>
<div aria-hidden="true"><button>hidden button</button></div>
<p style="visibility:collapse">collapsed</p><br><hr><wbr>`,

	"/form": `<!doctype html><title>Form</title>
<form action="/echo" method="get" id="f">
<input name="q" aria-label="Query" value="mug">
<input type="checkbox" name="gift" aria-label="Gift"><input type="checkbox" name="wrap" value="yes" checked aria-label="Wrap">
<fieldset><legend>Color</legend><label><input type="radio" name="color" value="red"> Red</label><label><input type="radio" name="color" value="blue" checked> Blue</label></fieldset>
<select name="size" aria-label="Size"><option value="s">Small</option><option>Large</option></select>
<select name="multi" multiple aria-label="Multi"><option>a</option><option>b</option></select>
<textarea name="note" aria-label="Note"></textarea>
<input type="number" name="n" value="1" aria-label="Count">
<input type="hidden" name="token" value="t 1">
<input name="dis" disabled value="x" aria-label="Disabled field">
<fieldset disabled><input name="fsdis" value="y" aria-label="In disabled fieldset"></fieldset>
<input name="" value="noname" aria-label="No name">
<button type="submit" name="go" value="1">Search</button>
<button type="button">Plain</button><button type="reset">Reset</button>
<button type="submit" formaction="/post303" formmethod="post" name="alt" value="2">Post it</button>
</form>
<form action="/echo" method="post"><input name="p" aria-label="Post field"><input type="submit" value="Send"></form>
<form action="/echo"><input name="only" aria-label="Only field"></form>
<form action="/echo"><input name="one" aria-label="One"><input name="two" aria-label="Two"></form>
<form action="/echo"><input name="x" aria-label="X"><button disabled>Disabled submit</button></form>
<form action="/echo"><input name="req" required aria-label="Required"><input type="email" name="em" aria-label="Mail"><button>Check</button></form>
<form action="/echo" novalidate><input name="req2" required aria-label="Required2"><button>No validate</button></form>
<form action="/echo" method="post" enctype="text/plain"><input name="tp" value="a b" aria-label="Plain"><button>Text plain</button></form>
<form id="outside"></form><input form="outside" name="outer" value="o" aria-label="Outer"><button form="outside">Outer submit</button>
<input name="noform" aria-label="No form">
<a href="/echo?from=link">Link</a> <a href="#sec">Fragment</a> <a href="/form">Same page</a> <a href="/echo" target="_blank">New tab</a>
<a href="javascript:void(0)">JS link</a> <a href="mailto:a@b.c">Mail</a> <a href="/nocontent">No content</a> <a href="/redirect">Redirect</a>
<a href="/text">Text</a> <a href="/missing">Missing</a> <a href="/echo" download>Download</a>
<label><img alt="Toggle pic"> <input type="checkbox" name="lab"> by label</label>
<h2 id="sec">Section</h2><p tabindex="0">Focusable para</p><p tabindex="-1">Minus para</p>
<details><summary>More</summary><a href="/echo?in=details">In details</a></details>`,

	"/frames": `<!doctype html><title>Frames</title><p>before</p>
<iframe srcdoc="<p>inner <b>doc</b></p><a href='/echo'>frame link</a>" title="Srcdoc frame"></iframe>
<iframe src="/echo?frame=1" title="Same origin"></iframe>
<iframe title="Blank"></iframe><iframe src="http://127.0.0.1:1/" title="Elsewhere"></iframe>
<p>after</p>`,

	"/long": `<!doctype html><title>Long</title><p>` + strings.Repeat("word ", 150) + `</p>
<a href="/echo">` + strings.Repeat("name ", 80) + `</a>
<p>` + strings.Repeat("ab", 249) + "x😀tail" + `</p>
<input aria-label="Long value" value="` + strings.Repeat("v", 210) + `">
<select aria-label="Long options"><option>` + strings.Repeat("o", 220) + `</option></select>`,

	"/autofocus": `<!doctype html><title>Autofocus</title><a href="/autofocus#named">To named</a> <a href="/autofocus#field">To field</a>
<a href="/echo#x">Echo frag</a><p>text</p><input aria-label="First"><input autofocus aria-label="Auto"><input autofocus aria-label="Second auto">
<a name="named">Named anchor</a><input id="field" aria-label="Field"><p id="para">Para</p><a href="#para">To para</a>`,

	"/tabs": `<!doctype html><title>Tabs</title>
<a href="/echo">First</a><input type="radio" name="r" value="1" aria-label="R1"><input type="radio" name="r" value="2" aria-label="R2">
<input type="radio" name="s" value="1" aria-label="S1"><input type="radio" name="s" value="2" checked aria-label="S2">
<button disabled>Off</button><span tabindex="0">Span stop</span><input type="hidden"><p hidden><a href="/echo">hidden</a></p>
<select aria-label="Sel"><option>a</option></select><textarea aria-label="TA"></textarea><a>no href</a><a href="/echo">Last</a>`,

	// /real is real-site markup that lite reads as Chromium does without
	// scripts: inline text as one line, a select named by its label's words,
	// checkboxes drawn by their labels, closed details, clickables by
	// handler attributes, tabindex and pointer cursor, dates and colours.
	"/real": `<!doctype html><title>Real</title>
<p>The <b>quick</b> brown <em>fox</em> <span>jumps</span>.<br>New line</p>
<label>Country <select name="c"><option>France</option><option>Japan</option></select></label>
<div><input type="checkbox" id="remember" style="display:none"><label for="remember">Remember me</label></div>
<label><input type="radio" name="plan" value="a" hidden> Plan A</label>
<details><summary>More info</summary><p>Secret details text</p></details>
<div onclick="go()">Say hi</div><span tabindex="0">Focus me</span><div style="cursor: pointer">Pointer <b>root</b></div>
<a>Not a link</a><div onclick="x()"><button>Inner button</button></div>
<form action="/echo"><input type="date" name="d" aria-label="Day"><input type="color" name="c" aria-label="Colour">
<input type="range" name="v" min="0" max="10" aria-label="Volume"><input type="number" name="n" aria-label="Count">
<input name="q" required aria-label="Query"><input type="email" name="m" value="nope" aria-label="Mail"><button>Send</button></form>`,
}

// autofocused are the /autofocus page's autofocus fields.
var autofocused = []string{`"Auto"`, `"Second auto"`}

var scenarios = []scenario{
	{name: "markup", start: "/markup", actions: []string{`click("3")`}},
	{name: "real", start: "/real", actions: []string{`click("3")`, `click("5")`, `fill("10", "2026-12-04")`, `fill("10", "12/04/2026")`,
		`fill("11", "#FF8800")`, `fill("11", "red")`, `fill("12", "7")`, `fill("12", "70")`, `fill("13", "many")`, `click("16")`, `double_click("3")`}},
	{name: "not-found", start: "/no/such/page"},
	{name: "autofocus", start: "/autofocus", actions: []string{
		`click("1")`, `click("2")`, `fill("6", "x")`, `click("9")`, `go_back()`, `go_back()`, `go_forward()`, `click("3")`, `go_back()`,
	}, racyFocus: autofocused},
	{name: "autofocus-fragment", start: "/autofocus#field", racyFocus: autofocused},
	{name: "autofocus-back", start: "/autofocus", actions: []string{`click("3")`, `go_back()`}, racyFocus: autofocused},
	{name: "urls", start: "/dir/sub/page", actions: []string{
		`click("1")`, `go_back()`, `click("2")`, `go_back()`, `click("3")`, `go_back()`, `click("4")`, `go_back()`,
		`click("6")`, `go_back()`, `click("7")`, `go_back()`, `click("8")`, `go_back()`, `click("9")`, `go_back()`,
		`click("11")`, `go_back()`, `click("12")`, `go_back()`, `click("13")`, `go_back()`, `click("14")`, `go_back()`,
		`click("15")`, `go_back()`, `click("16")`, `click("17")`,
	}},
	{name: "roles", start: "/roles", actions: []string{`click("35")`, `click("32")`, `click("2")`}},
	{name: "inputs", start: "/inputs", actions: []string{
		`fill("1", "typed")`, `fill("4", "  x@y.z ")`, `fill("9", "12abc")`, `fill("9", "-3.5e2")`, `fill("10", "")`,
		`fill("6", "pw")`, `fill("38", "a\nb")`, `fill("42", "multi\nline  text")`, `fill("16", "2024-05-06")`, `fill("18", "10:15")`,
		`fill("19", "2024-03")`, `fill("20", "2024-W07")`, `fill("21", "2024-01-02T05:06")`, `fill("8", "ftp://a b")`,
		`click("22")`, `click("23")`, `click("22")`, `fill("22", "x")`, `fill("33", "x")`, `fill("35", "x")`, `fill("37", "x")`, `fill("41", "x")`,
		`select_option("44", "three")`, `select_option("44", "Nope")`, `select_option("48", "v2")`, `select_option("48", "Off")`,
		`select_option("51", "b")`, `select_option("45", "One")`, `click("45")`, `click("52")`, `select_option("63", "z")`, `select_option("62", "x")`,
		`select_option("58", "g2a")`, `select_option("58", "labelled")`, `click("66")`, `fill("66", "edited text")`, `click("26")`, `click("11")`,
	}},
	{name: "names", start: "/names", actions: []string{`click("15")`, `click("43")`, `click("42")`, `click("11")`, `click("14")`}},
	{name: "hidden", start: "/hidden", actions: []string{`click("6")`, `click("5")`}},
	{name: "long", start: "/long"},
	{name: "frames", start: "/frames"},
	{name: "submit-get", start: "/form", actions: []string{
		`fill("2", "blue mug")`, `click("3")`, `click("7")`, `select_option("9", "Large")`, `select_option("12", "b")`,
		`fill("15", "line1\nline2")`, `fill("16", "3")`, `click("21")`, `go_back()`, `go_forward()`, `go_back()`,
	}},
	{name: "submit-post-303", start: "/form", actions: []string{`fill("2", "a&b=c é~*'!")`, `click("24")`, `go_back()`}},
	{name: "reset-and-plain", start: "/form", actions: []string{`fill("2", "changed")`, `click("3")`, `click("7")`, `click("22")`, `click("23")`}},
	{name: "post", start: "/form", actions: []string{`fill("26", "posted value")`, `press("Enter")`, `go_back()`}},
	{name: "implicit", start: "/form", actions: []string{
		`fill("29", "solo")`, `press("Enter")`, `go_back()`, `fill("31", "a")`, `press("Enter")`, `fill("34", "x")`, `press("Enter")`,
		`fill("2", "enter")`, `press("Enter")`,
	}},
	{name: "validation", start: "/form", actions: []string{
		`click("39")`, `fill("38", "bad mail")`, `fill("37", "x")`, `click("39")`, `fill("38", "a@b.c")`, `press("Enter")`, `go_back()`,
		`click("42")`, `go_back()`,
	}},
	{name: "text-plain-and-form-attr", start: "/form", actions: []string{`click("45")`, `go_back()`, `click("48")`}},
	{name: "links", start: "/form", actions: []string{
		`click("50")`, `go_back()`, `click("51")`, `click("52")`, `go_back()`, `go_back()`, `go_forward()`, `click("53")`, `click("54")`,
		`click("55")`, `click("56")`, `click("60")`,
	}},
	{name: "redirect-text-missing", start: "/form", actions: []string{`click("57")`, `go_back()`, `click("58")`, `go_back()`, `click("59")`}},
	{name: "label-and-focus", start: "/form", actions: []string{
		`click("61")`, `click("61")`, `click("64")`, `click("65")`, `click("63")`, `click("67")`, `click("66")`, `click("66")`,
		`fill("2", "x")`, `click("63")`, `hover("2")`, `scroll("down", "2")`, `scroll("up", "999")`, `click("17")`, `click("19")`,
		`fill("19", "x")`, `click("66")`, `click("67")`,
	}},
	{name: "keys", start: "/form", actions: []string{
		`fill("2", "ab")`, `press("c")`, `press("Backspace")`, `press("Backspace")`, `press("Shift+X")`, `press("Control+a")`, `press(" ")`,
		`press("Tab")`, `press(" ")`, `press("Tab")`, `press("Tab")`, `press("Space")`, `press("Escape")`, `press("Tab")`, `press("Tab")`,
		`click("50")`,
	}},
	{name: "keys2", start: "/form", actions: []string{`click("15")`, `press("Enter")`, `press("x")`, `click("21")`, `press("Enter")`}},
	{name: "tab-order", start: "/tabs", actions: []string{
		`press("Tab")`, `press("Tab")`, `press("Tab")`, `press("Tab")`, `press("Tab")`, `press("Tab")`, `press("Tab")`, `press("Tab")`,
		`press("Shift+Tab")`, `press("Shift+Tab")`, `press("Shift+Tab")`, `click("3")`, `press("Tab")`, `press("Enter")`, `press("Shift+Tab")`,
		`press("Shift+Tab")`, `press("Shift+Tab")`,
	}},
	{name: "goto-and-history", start: "/form", actions: []string{
		`go_forward()`, `goto("/echo")`, `goto("ftp://x/")`, `goto("about:blank")`, `go_back()`, `go_back()`, `go_back()`, `go_back()`,
		`go_forward()`, `click("1")`, `stop("done")`,
	}},
	{name: "cookies", start: "/cookie?set=v1", actions: []string{`click("2")`, `goto("about:blank")`, `go_back()`}},
	{name: "errors", start: "/form", actions: []string{
		`click()`, `click("x")`, `click(" 2")`, `click("02")`, `fill("50", "x")`, `fill("9", "x")`, `select_option("2", "x")`,
		`press("Hyper+x")`, `press("")`, `scroll("sideways")`, `press("+")`,
	}},
}
