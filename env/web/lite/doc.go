// Package lite is a browser without JavaScript and without layout for
// plain-HTML sites served by an in-process http.Handler, such as the shop
// (env/shop). It exists to train policies on such sites 100–200 times
// faster than through Chromium (a page load takes about 0.4 ms instead of
// 70 ms): its observations are the text tree that env/web (Chromium with
// pilot.js) produces for the same pages — the same element
// ids, roles, names, states, choices, URL, title and error texts — so that
// a policy trained on lite runs unchanged in the real browser.
//
//	b := lite.New(store, lite.Options{Origin: "http://127.0.0.1:8080"})
//	e := shop.NewEnv(b, store, "http://127.0.0.1:8080") // the shop env, in-process
//
// A Browser parses pages with golang.org/x/net/html and walks them with a
// port of pilot.js's observe(). It follows links (with their targets),
// submits forms (GET and POST, urlencoded, multipart or plain text, after
// constraint validation), follows redirects, keeps cookies per episode and
// a session history that starts at about:blank (as a new Chromium tab
// does), restores form state on go_back and go_forward, and moves the
// focus as Chromium does for clicks, fills, labels, fragments, autofocus
// and Tab. No request leaves the process: the URL's host only names the
// site (and, with Options.Origin, limits where the browser may go).
//
// The tests compare lite with Chromium step by step, on the shop
// (env/shop/lite_test.go) and on pages made to exercise each rule
// (chromium_test.go). What lite does not do, by design:
//
//   - It runs no scripts: a page built by JavaScript is not the page
//     Chromium shows.
//   - It reads no style sheets: only the style attribute (display,
//     visibility, opacity, overflow) and the browser's default styles
//     (hidden, dialog, template, …) hide things. An element that a style
//     sheet rule hides is shown.
//   - It has no layout: no Scroll line and no scroll choices, scroll and
//     hover do nothing, every element is assumed to have a box (Chromium
//     leaves out zero-size elements), and a click lands on its element
//     (not on whatever covers it). An image submit button sends x=0 and y=0.
//   - go_back and go_forward load a page again with GET, also one that a
//     POST made (Chromium shows its "Confirm Form Resubmission" error
//     page); a frame's navigation makes no history entry; there is no
//     back-forward cache.
//   - Keys: Enter, Space, Tab and Shift+Tab, Backspace, Control+A and
//     characters act; arrow keys and the others do nothing (Chromium moves
//     through radios and options with arrows).
//   - A page that does not load (a handler that panics, a body over
//     MaxBodyBytes, a redirect loop) keeps the current page and says why
//     in Observation.Error, where Chromium shows its own error page. A
//     response that is neither HTML nor text (an image, a download) leaves
//     the page as it is.
//   - Error texts are env/web's, but for the environment's name in the
//     answer to an unknown action ("web-lite knows …") and for the
//     allowlist, which is an origin ("… is outside the allowed origin
//     (http://127.0.0.1:8080)") where env/web's is a list of domains.
package lite
