package shop

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// testStore is one store shared by the package's tests: sessions keep
// episodes apart, which the tests also check.
var testStore = sync.OnceValues(func() (*Store, error) { return NewStore(StoreOptions{Seed: 1}) })

// shopServer serves the shared store over real HTTP.
type shopServer struct {
	t     *testing.T
	store *Store
	srv   *httptest.Server
	c     *http.Client
}

func newShopServer(t *testing.T) *shopServer {
	t.Helper()
	st, err := testStore()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(st)
	t.Cleanup(srv.Close)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &shopServer{t: t, store: st, srv: srv, c: c}
}

// response is what a request got.
type response struct {
	status   int
	body     string
	location string
	ctype    string
}

func (s *shopServer) do(method, path, ctype, body string) response {
	s.t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := s.c.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return response{resp.StatusCode, string(b), resp.Header.Get("Location"), resp.Header.Get("Content-Type")}
}

func (s *shopServer) get(path string) response { return s.do("GET", path, "", "") }

func (s *shopServer) post(path string, form url.Values) response {
	return s.do("POST", path, "application/x-www-form-urlencoded", form.Encode())
}

// start starts an episode of task id and returns its session path /s/{id}.
func (s *shopServer) start(taskID string) (Episode, string) {
	s.t.Helper()
	ep, err := s.store.StartEpisode(taskID, s.srv.URL)
	if err != nil {
		s.t.Fatal(err)
	}
	return ep, "/s/" + ep.ID
}

func (s *shopServer) task(i int) Task {
	s.t.Helper()
	tasks, err := s.store.Tasks().Split("test")
	if err != nil {
		s.t.Fatal(err)
	}
	return tasks[i]
}

// buyForm is the form Buy Now posts for p with the given options.
func buyForm(p *Product, opts map[string]string, qty string) url.Values {
	f := url.Values{"id": {p.ID}, "quantity": {qty}}
	for k, v := range opts {
		f.Set("opt_"+k, v)
	}
	return f
}

func addressForm(a Address) url.Values {
	return url.Values{"name": {a.Name}, "street": {a.Street}, "city": {a.City}, "state": {a.State}, "zip": {a.Zip}}
}

func wantStatus(t *testing.T, what string, r response, status int, snippets ...string) {
	t.Helper()
	body := r.body
	if i := strings.Index(body, "</style>"); i >= 0 {
		body = body[i:] // the page without its style sheet
	}
	if r.status != status {
		t.Errorf("%s: status %d, want %d; body:\n%s", what, r.status, status, clip(body, 3000))
	}
	for _, s := range snippets {
		if !strings.Contains(r.body, s) {
			t.Errorf("%s: the page lacks %q; body:\n%s", what, s, clip(body, 3000))
		}
	}
}

var hrefRE = regexp.MustCompile(`<a href="([^"]*)">([^<]*)</a>`)

// links returns the page's links: text → href, both unescaped.
func links(body string) map[string]string {
	m := map[string]string{}
	for _, l := range hrefRE.FindAllStringSubmatch(body, -1) {
		m[html.UnescapeString(l[2])] = html.UnescapeString(l[1])
	}
	return m
}

// TestPageWalk goes through every page of an episode, as the page contract
// describes them, and buys the task's target.
func TestPageWalk(t *testing.T) {
	s := newShopServer(t)
	task := s.task(0)
	g := task.Goal
	p, _ := s.store.Catalog().Product(g.TargetID)
	ep, sp := s.start(task.ID)
	if ep.StartURL != s.srv.URL+sp+"/" || ep.Status != "active" {
		t.Fatalf("StartEpisode = %+v, want start URL %s and status active", ep, s.srv.URL+sp+"/")
	}
	instr := `<p id="instruction">Instruction: ` + html.EscapeString(task.Instruction) + `</p>`

	// The search page.
	r := s.get(sp + "/")
	wantStatus(t, "search page", r, 200, instr, `<h1>pilot shop</h1>`,
		`<form method="get" action="`+sp+`/search"><input type="search" name="q" aria-label="Search"> <button type="submit">Search</button></form>`)
	if !strings.HasPrefix(r.ctype, "text/html") {
		t.Errorf("search page Content-Type %q, want text/html", r.ctype)
	}
	if i, j := strings.Index(r.body, "<body>"), strings.Index(r.body, `<p id="instruction">`); j < i || strings.TrimSpace(r.body[i+len("<body>"):j]) != "" {
		t.Errorf("the page does not start with the instruction:\n%s", r.body)
	}

	// Results, page 1 and 2.
	q := p.Title
	r = s.get(sp + "/search?q=" + url.QueryEscape(q))
	total, pages := 0, 0
	if m := regexp.MustCompile(`<p>Page 1 of (\d+) \((\d+) products\)</p>`).FindStringSubmatch(r.body); m != nil {
		fmt.Sscan(m[1], &pages)
		fmt.Sscan(m[2], &total)
	}
	wantStatus(t, "results", r, 200, instr, `<h2>Results for "`+html.EscapeString(q)+`"</h2>`, `<a href="`+sp+`/">Back to Search</a>`)
	if pages < 2 || total < 11 {
		t.Fatalf("results: page 1 of %d (%d products), want several pages", pages, total)
	}
	if n := strings.Count(r.body, "<li "); n != ResultsPerPage {
		t.Errorf("results: %d items, want %d", n, ResultsPerPage)
	}
	ls := links(r.body)
	if _, ok := ls["< Prev"]; ok {
		t.Errorf("results page 1 has a Prev link")
	}
	if got, want := ls["Next >"], sp+"/search?q="+url.QueryEscape(q)+"&page=2"; got != want {
		t.Errorf("Next > links to %q, want %q", got, want)
	}
	item := ls[p.Title]
	if want := sp + "/item/" + p.ID + "?q=" + url.QueryEscape(q) + "&page=1"; item != want {
		t.Errorf("the target's link is %q, want %q (the best match of its own title)", item, want)
	}
	row := regexp.MustCompile(`<a href="[^"]*">` + regexp.QuoteMeta(html.EscapeString(p.Title)) + `</a> <span>\$` +
		regexp.QuoteMeta(formatPrice(p.Price)) + `</span> <span>` + regexp.QuoteMeta(formatRating(p.Rating)) +
		` stars \(` + fmt.Sprint(p.ReviewCount) + ` reviews\)</span></li>`)
	if !row.MatchString(r.body) {
		t.Errorf("results: no row %s in\n%s", row, r.body)
	}
	r2 := s.get(ls["Next >"])
	ls2 := links(r2.body)
	wantStatus(t, "results page 2", r2, 200, fmt.Sprintf("<p>Page 2 of %d (%d products)</p>", pages, total))
	if ls2["< Prev"] != sp+"/search?q="+url.QueryEscape(q)+"&page=1" {
		t.Errorf("page 2: < Prev links to %q", ls2["< Prev"])
	}
	last := s.get(fmt.Sprintf("%s/search?q=%s&page=%d", sp, url.QueryEscape(q), pages))
	if _, ok := links(last.body)["Next >"]; ok || last.status != 200 {
		t.Errorf("last page: status %d, has Next %v; want 200 and none", last.status, ok)
	}
	none := s.get(sp + "/search?q=zzzqqq")
	wantStatus(t, "no results", none, 200, `<p>No products match "zzzqqq"</p>`, `<a href="`+sp+`/">Back to Search</a>`)

	// The item page.
	r = s.get(item)
	wantStatus(t, "item", r, 200, instr,
		`<h1>`+html.EscapeString(p.Title)+`</h1>`,
		`<p>Price: $`+formatPrice(p.Price)+`</p>`,
		fmt.Sprintf(`<p>Rating: %s out of 5 stars (%d reviews)</p>`, formatRating(p.Rating), p.ReviewCount),
		fmt.Sprintf(`<p>Ships in %d days</p>`, p.DeliveryDays),
		`<p>Brand: `+p.Brand+`</p>`,
		`<form method="post" action="`+sp+`/buy">`,
		`<input type="hidden" name="id" value="`+p.ID+`">`,
		`<label>Quantity <input type="number" name="quantity" value="1" min="1" max="10"></label>`,
		`<button type="submit">Buy Now</button>`)
	for _, grp := range p.Options {
		if !strings.Contains(r.body, `<fieldset><legend>`+grp.Name+`</legend>`) {
			t.Errorf("item: no fieldset for %s", grp.Name)
		}
		for _, v := range grp.Values {
			want := `<label><input type="radio" name="opt_` + grp.Name + `" value="` + v + `"> ` + v + `</label>`
			if !strings.Contains(r.body, want) {
				t.Errorf("item: no radio %s", want)
			}
		}
	}
	if strings.Contains(r.body, "checked") {
		t.Errorf("item: an option is preselected")
	}
	ls = links(r.body)
	for _, text := range []string{"Description", "Features", "Reviews", "< Back to results", "Back to Search"} {
		if ls[text] == "" {
			t.Errorf("item: no link %q", text)
		}
	}
	if ls["< Back to results"] != sp+"/search?q="+url.QueryEscape(q)+"&page=1" {
		t.Errorf("item: < Back to results links to %q", ls["< Back to results"])
	}
	if bare := s.get(sp + "/item/" + p.ID); strings.Contains(bare.body, "Back to results") || bare.status != 200 {
		t.Errorf("item without q: status %d, has Back to results: want 200 and no link", bare.status)
	}

	// The sub-pages.
	sub := map[string][]string{
		"Description": {`<h2>Description</h2>`, html.EscapeString(p.Description)},
		"Features":    append([]string{`<h2>Features</h2>`, "<li>" + p.Attributes[0] + "</li>"}, "<li>"+html.EscapeString(p.Bullets[0])+"</li>"),
		"Reviews":     {`<h2>Reviews</h2>`, html.EscapeString(p.Reviews[0].Text)},
	}
	for text, want := range sub {
		r := s.get(ls[text])
		wantStatus(t, text, r, 200, append(want, instr)...)
		if back := links(r.body)["< Back to item"]; back != item {
			t.Errorf("%s: < Back to item links to %q, want %q", text, back, item)
		}
	}

	// Buy Now → checkout.
	r = s.post(sp+"/buy", buyForm(p, g.Options, "2"))
	if r.status != http.StatusSeeOther || r.location != sp+"/checkout" {
		t.Fatalf("buy: status %d, Location %q; want 303 to %s/checkout: %s", r.status, r.location, sp, r.body)
	}
	r = s.get(sp + "/checkout")
	wantStatus(t, "checkout", r, 200, instr, `<h2>Checkout</h2>`, html.EscapeString(p.Title), "$"+formatPrice(p.Price),
		"Quantity: 2", `<form method="post" action="`+sp+`/checkout">`,
		`<label for="name">Full name</label>`, `<label for="street">Street address</label>`, `<label for="city">City</label>`,
		`<label for="state">State</label>`, `<label for="zip">ZIP code</label>`, `<button type="submit">Place order</button>`)
	for name, v := range g.Options {
		if !strings.Contains(r.body, name+" "+v) {
			t.Errorf("checkout does not show the option %s %s", name, v)
		}
	}

	// A bad address: 400, values kept, one alert per problem.
	bad := addressForm(g.Address)
	bad.Set("zip", "1234")
	bad.Set("state", "Illinois")
	r = s.post(sp+"/checkout", bad)
	wantStatus(t, "bad address", r, 400, `<p role="alert">ZIP code must be 5 digits</p>`,
		`<p role="alert">State must be a two-letter US state code, such as IL</p>`,
		`value="`+html.EscapeString(g.Address.Street)+`"`, `value="1234"`)
	if ep, _ := s.store.Episode(ep.ID); ep.Status != "active" {
		t.Errorf("after a bad address the episode is %s, want active", ep.Status)
	}

	// Place the order.
	r = s.post(sp+"/checkout", addressForm(g.Address))
	if r.status != http.StatusSeeOther || r.location != sp+"/done" {
		t.Fatalf("place order: status %d, Location %q; want 303 to %s/done: %s", r.status, r.location, sp, r.body)
	}
	r = s.get(sp + "/done")
	wantStatus(t, "done", r, 200, instr, `<h1>Thank you for your order</h1>`, html.EscapeString(p.Title), html.EscapeString(FormatAddress(g.Address)))
	if strings.Contains(strings.ToLower(r.body), "reward") {
		t.Errorf("the done page shows the reward")
	}
	got, _ := s.store.Episode(ep.ID)
	if got.Status != "done" || got.Reward != 1 || got.Purchase.ProductID != p.ID || got.Purchase.Quantity != 2 {
		t.Errorf("episode = %+v, want done with reward 1 for %s × 2", got, p.ID)
	}

	// The episode has ended: posts are refused.
	wantStatus(t, "buy after the order", s.post(sp+"/buy", buyForm(p, nil, "1")), 409, "This episode has ended")
	wantStatus(t, "checkout after the order", s.post(sp+"/checkout", addressForm(g.Address)), 409, "This episode has ended")
	if again, _ := s.store.Episode(ep.ID); again.Reward != 1 || again.Purchase.Quantity != 2 {
		t.Errorf("after refused posts the episode is %+v", again)
	}
}

// TestRewardReflectsPurchase: the reward is computed for what was bought.
func TestRewardReflectsPurchase(t *testing.T) {
	s := newShopServer(t)
	task := s.task(1)
	g := task.Goal
	target, _ := s.store.Catalog().Product(g.TargetID)

	// Another category's product: type factor 0, reward 0.
	var other *Product
	for i, p := range s.store.Catalog().Products() {
		if p.Category != g.Category {
			other = &s.store.Catalog().Products()[i]
			break
		}
	}
	ep, sp := s.start(task.ID)
	s.post(sp+"/buy", buyForm(other, nil, "1"))
	s.post(sp+"/checkout", addressForm(g.Address))
	got, _ := s.store.Episode(ep.ID)
	if got.Reward != 0 || got.Purchase.ProductID != other.ID || got.Breakdown.TypeFactor != 0 {
		t.Errorf("bought %s of %s for a %s task: %+v, want reward 0", other.ID, other.Category, g.Category, got)
	}

	// The target at another address: everything but the address.
	ep, sp = s.start(task.ID)
	s.post(sp+"/buy", buyForm(target, g.Options, "1"))
	addr := g.Address
	addr.Zip = "99999"
	s.post(sp+"/checkout", addressForm(addr))
	got, _ = s.store.Episode(ep.ID)
	want := float64(got.Breakdown.Constraints-1) / float64(got.Breakdown.Constraints)
	if got.Reward != want || got.Breakdown.AddressOK {
		t.Errorf("target at a wrong address: reward %v, breakdown %+v; want %v", got.Reward, got.Breakdown, want)
	}

	// Buy Now twice: the last choice counts.
	ep, sp = s.start(task.ID)
	s.post(sp+"/buy", buyForm(other, nil, "1"))
	s.post(sp+"/buy", buyForm(target, g.Options, "3"))
	s.post(sp+"/checkout", addressForm(g.Address))
	if got, _ = s.store.Episode(ep.ID); got.Reward != 1 || got.Purchase.Quantity != 3 {
		t.Errorf("the second Buy Now did not replace the first: %+v", got)
	}
}

// TestBadInput: every bad request gets a 4xx page with a clear message,
// never a 500.
func TestBadInput(t *testing.T) {
	s := newShopServer(t)
	task := s.task(2)
	p, _ := s.store.Catalog().Product(task.Goal.TargetID)
	form := "application/x-www-form-urlencoded"
	notOffered := url.Values{"id": {p.ID}, "opt_flavour": {"mint"}}
	twoValues := url.Values{"id": {p.ID}}
	badValue := url.Values{"id": {p.ID}}
	if len(p.Options) > 0 {
		g := p.Options[0]
		twoValues["opt_"+g.Name] = []string{g.Values[0], g.Values[1]}
		badValue.Set("opt_"+g.Name, "plaid")
	}
	tests := []struct {
		name         string
		method, path string // path: SID stands for the session
		ctype, body  string
		buyFirst     bool // put an item in checkout first
		status       int
		want         string
	}{
		{"unknown session", "GET", "/s/00000000000000000000000000000000/", "", "", false, 404, "There is no shopping session"},
		{"garbage session", "GET", "/s/%3Cscript%3E/search?q=x", "", "", false, 404, "There is no shopping session"},
		{"unknown page", "GET", "/nope", "", "", false, 404, "There is no page at /nope"},
		{"unknown session page", "GET", "SID/nope", "", "", false, 404, "There is no page"},
		{"wrong method", "PUT", "SID/", "", "", false, 405, "PUT is not allowed here"},
		{"search without q", "GET", "SID/search", "", "", false, 400, "no searchable word"},
		{"search of stop words", "GET", "SID/search?q=the+of", "", "", false, 400, "no searchable word"},
		{"search 10 KB", "GET", "SID/search?q=" + strings.Repeat("a", 10<<10), "", "", false, 400, "too long"},
		{"search bad UTF-8", "GET", "SID/search?q=%FF%FE", "", "", false, 400, "not valid UTF-8"},
		{"page 0", "GET", "SID/search?q=earphones&page=0", "", "", false, 400, "is not a page number"},
		{"page -1", "GET", "SID/search?q=earphones&page=-1", "", "", false, 400, "is not a page number"},
		{"page abc", "GET", "SID/search?q=earphones&page=abc", "", "", false, 400, "is not a page number"},
		{"page past the end", "GET", "SID/search?q=earphones&page=99999", "", "", false, 404, "There is no page 99999"},
		{"unknown item", "GET", "SID/item/B000000000", "", "", false, 404, "There is no product with id"},
		{"item garbage id", "GET", "SID/item/%00%FF", "", "", false, 404, "There is no product with id"},
		{"item bad q", "GET", "SID/item/" + p.ID + "?q=" + strings.Repeat("x", 600), "", "", false, 400, "too long"},
		{"item bad page", "GET", "SID/item/" + p.ID + "?q=x&page=-3", "", "", false, 400, "is not a page number"},
		{"unknown sub-page", "GET", "SID/item/" + p.ID + "/specs", "", "", false, 404, "An item has no page"},
		{"buy by GET", "GET", "SID/buy", "", "", false, 405, "GET is not allowed here"},
		{"buy no id", "POST", "SID/buy", form, "quantity=1", false, 400, "names no item"},
		{"buy empty body", "POST", "SID/buy", form, "", false, 400, "names no item"},
		{"buy unknown id", "POST", "SID/buy", form, "id=B123", false, 404, "There is no product with id"},
		{"buy negative quantity", "POST", "SID/buy", form, "id=" + p.ID + "&quantity=-1", false, 400, "Quantity &#34;-1&#34; is not valid"},
		{"buy zero quantity", "POST", "SID/buy", form, "id=" + p.ID + "&quantity=0", false, 400, "is not valid"},
		{"buy huge quantity", "POST", "SID/buy", form, "id=" + p.ID + "&quantity=99999999999999999999", false, 400, "is not valid"},
		{"buy quantity 11", "POST", "SID/buy", form, "id=" + p.ID + "&quantity=11", false, 400, "from 1 to 10"},
		{"buy quantity text", "POST", "SID/buy", form, "id=" + p.ID + "&quantity=two", false, 400, "is not valid"},
		{"buy two quantities", "POST", "SID/buy", form, "id=" + p.ID + "&quantity=1&quantity=2", false, 400, "is not valid"},
		{"buy unknown option", "POST", "SID/buy", form, notOffered.Encode(), false, 400, "This item has no option"},
		{"buy option not offered", "POST", "SID/buy", form, badValue.Encode(), false, 400, "does not come in"},
		{"buy two values", "POST", "SID/buy", form, twoValues.Encode(), false, 400, "Choose one"},
		{"buy malformed form", "POST", "SID/buy", form, "id=%zz&&&=", false, 400, "Cannot read the form"},
		{"buy multipart", "POST", "SID/buy", "multipart/form-data; boundary=x", "--x--", false, 400, "names no item"},
		{"buy 100 KB", "POST", "SID/buy", form, "id=" + strings.Repeat("x", 100<<10), false, 413, "larger than"},
		{"checkout before buying", "GET", "SID/checkout", "", "", false, 409, "nothing to check out"},
		{"order before buying", "POST", "SID/checkout", form, addressForm(janeDoe).Encode(), false, 409, "nothing to check out"},
		{"checkout empty form", "POST", "SID/checkout", form, "", true, 400, "Full name is required"},
		{"checkout malformed form", "POST", "SID/checkout", form, "name=%", true, 400, "Cannot read the form"},
		{"checkout control characters", "POST", "SID/checkout", form, "name=a%00b&street=1+Main+St&city=X&state=IL&zip=12345", true, 400, "control characters"},
		{"checkout bad UTF-8", "POST", "SID/checkout", form, "name=%FF&street=1+Main+St&city=X&state=IL&zip=12345", true, 400, "not valid text"},
		{"checkout long name", "POST", "SID/checkout", form, "name=" + strings.Repeat("a", 5000) + "&street=1+Main+St&city=X&state=IL&zip=12345", true, 400, "too long"},
		{"done before ordering", "GET", "SID/done", "", "", false, 409, "No order has been placed"},
		{"start unknown task", "POST", "/start", form, "task_id=nope", false, 404, "unknown shop task"},
		{"api bad JSON", "POST", "/api/episodes", "application/json", "{", false, 400, "cannot read the request body"},
		{"api no task", "POST", "/api/episodes", "application/json", "{}", false, 400, "task_id is missing"},
		{"api unknown field", "POST", "/api/episodes", "application/json", `{"task": "x"}`, false, 400, "unknown field"},
		{"api two values", "POST", "/api/episodes", "application/json", `{"task_id": "shop-test-0000"} {}`, false, 400, "more than one JSON value"},
		{"api unknown task", "POST", "/api/episodes", "application/json", `{"task_id": "shop-test-9999"}`, false, 404, "unknown shop task"},
		{"api huge body", "POST", "/api/episodes", "application/json", `{"task_id": "` + strings.Repeat("x", 100<<10) + `"}`, false, 400, "cannot read"},
		{"api list by GET", "GET", "/api/episodes", "", "", false, 405, "use POST"},
		{"api unknown episode", "GET", "/api/episodes/nope", "", "", false, 404, "no episode"},
		{"api delete", "DELETE", "/api/episodes/nope", "", "", false, 405, "use GET"},
		{"api tasks no split", "GET", "/api/tasks", "", "", false, 400, "train, dev, test"},
		{"api tasks bad split", "GET", "/api/tasks?split=valid", "", "", false, 400, "train, dev, test"},
		{"api unknown endpoint", "GET", "/api/nope", "", "", false, 404, "no API endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, sp := s.start(task.ID)
			if tt.buyFirst {
				if r := s.post(sp+"/buy", buyForm(p, nil, "1")); r.status != 303 {
					t.Fatalf("buy: status %d", r.status)
				}
			}
			path := strings.Replace(tt.path, "SID", sp, 1)
			r := s.do(tt.method, path, tt.ctype, tt.body)
			if r.status >= 500 {
				t.Fatalf("%s %s: status %d, want 4xx: %s", tt.method, clip(path, 80), r.status, clip(r.body, 500))
			}
			wantStatus(t, tt.method+" "+clip(path, 80), r, tt.status, tt.want)
			if strings.HasPrefix(tt.path, "/api/") {
				var e struct{ Error string }
				if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.Error == "" || r.ctype != "application/json" {
					t.Errorf("API error %q (%s): want JSON {\"error\": …}", r.body, r.ctype)
				}
			} else if !strings.Contains(r.body, `role="alert"`) {
				t.Errorf("error page without a role=alert message")
			}
		})
	}
}

func TestAPI(t *testing.T) {
	s := newShopServer(t)
	task := s.task(3)
	r := s.do("POST", "/api/episodes", "application/json", `{"task_id": "`+task.ID+`"}`)
	var started struct{ ID, StartURL, Instruction string }
	var raw map[string]string
	if err := json.Unmarshal([]byte(r.body), &raw); err != nil || r.status != 201 {
		t.Fatalf("POST /api/episodes = %d %s, want 201 JSON", r.status, r.body)
	}
	started.ID, started.StartURL, started.Instruction = raw["id"], raw["start_url"], raw["instruction"]
	if started.Instruction != task.Instruction || started.StartURL != s.srv.URL+"/s/"+started.ID+"/" {
		t.Errorf("POST /api/episodes = %v, want the task's instruction and start URL", raw)
	}
	if page := s.get("/s/" + started.ID + "/"); page.status != 200 {
		t.Errorf("the start URL answers %d", page.status)
	}

	var ep map[string]any
	r = s.get("/api/episodes/" + started.ID)
	if err := json.Unmarshal([]byte(r.body), &ep); err != nil || r.status != 200 {
		t.Fatalf("GET /api/episodes/{id} = %d %s", r.status, r.body)
	}
	for _, k := range []string{"id", "task_id", "status", "reward", "breakdown", "purchase"} {
		if _, ok := ep[k]; !ok {
			t.Errorf("episode JSON lacks %q: %s", k, r.body)
		}
	}
	if ep["status"] != "active" || ep["task_id"] != task.ID || ep["breakdown"] != nil {
		t.Errorf("new episode = %s, want active with no breakdown", r.body)
	}

	p, _ := s.store.Catalog().Product(task.Goal.TargetID)
	s.post("/s/"+started.ID+"/buy", buyForm(p, task.Goal.Options, "1"))
	s.post("/s/"+started.ID+"/checkout", addressForm(task.Goal.Address))
	r = s.get("/api/episodes/" + started.ID)
	var done struct {
		Status    string
		Reward    float64
		Breakdown Breakdown
		Purchase  Purchase
	}
	if err := json.Unmarshal([]byte(r.body), &done); err != nil {
		t.Fatal(err)
	}
	if done.Status != "done" || done.Reward != 1 || done.Breakdown.Matched != done.Breakdown.Constraints || done.Purchase.ProductID != p.ID {
		t.Errorf("finished episode = %s, want done with reward 1", r.body)
	}

	r = s.get("/api/tasks?split=dev")
	var tasks []Task
	if err := json.Unmarshal([]byte(r.body), &tasks); err != nil || len(tasks) != DevTasks || tasks[0].Goal.TargetID == "" {
		t.Errorf("GET /api/tasks?split=dev = %d tasks (%v), want %d with goals", len(tasks), err, DevTasks)
	}

	// The home page's form starts an episode too.
	home := s.get("/")
	wantStatus(t, "home", home, 200, `<form method="post" action="/start">`)
	r = s.post("/start", url.Values{"task_id": {task.ID}})
	if r.status != 303 || !strings.HasPrefix(r.location, "/s/") {
		t.Errorf("POST /start = %d to %q, want 303 to a session", r.status, r.location)
	}
}

// TestConcurrentSessions runs many episodes at once on one server: each
// sees only its own purchase.
func TestConcurrentSessions(t *testing.T) {
	s := newShopServer(t)
	tasks, _ := s.store.Tasks().Split("test")
	const n = 40
	type result struct {
		id     string
		task   Task
		wrong  bool
		status []int
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			task := tasks[i]
			g := task.Goal
			p, _ := s.store.Catalog().Product(g.TargetID)
			res := result{task: task, wrong: i%2 == 1}
			body := `{"task_id": "` + task.ID + `"}`
			req, _ := http.NewRequest("POST", s.srv.URL+"/api/episodes", strings.NewReader(body))
			resp, err := s.c.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			var started map[string]string
			json.NewDecoder(resp.Body).Decode(&started)
			resp.Body.Close()
			res.id = started["id"]
			sp := s.srv.URL + "/s/" + res.id
			addr := g.Address
			if res.wrong {
				addr.Name = "Someone Else"
			}
			for _, step := range []struct {
				path string
				form url.Values
			}{
				{sp + "/search?q=" + url.QueryEscape(g.Category), nil},
				{sp + "/item/" + p.ID, nil},
				{sp + "/buy", buyForm(p, g.Options, "1")},
				{sp + "/checkout", addressForm(addr)},
			} {
				var resp *http.Response
				var err error
				if step.form == nil {
					resp, err = s.c.Get(step.path)
				} else {
					resp, err = s.c.PostForm(step.path, step.form)
				}
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				res.status = append(res.status, resp.StatusCode)
			}
			results[i] = res
		})
	}
	wg.Wait()
	for _, res := range results {
		ep, ok := s.store.Episode(res.id)
		if !ok {
			t.Errorf("episode of %s not found", res.task.ID)
			continue
		}
		want := 1.0
		if res.wrong {
			c := float64(ep.Breakdown.Constraints)
			want = (c - 1) / c
		}
		if ep.Status != "done" || ep.Purchase.ProductID != res.task.Goal.TargetID || ep.Reward != want {
			t.Errorf("%s (statuses %v): episode %+v, want done with %s at reward %v", res.task.ID, res.status, ep, res.task.Goal.TargetID, want)
		}
	}
}

func TestNewStoreOptions(t *testing.T) {
	for _, n := range []int{-1, MaxProducts + 1} {
		if _, err := NewStore(StoreOptions{Products: n}); err == nil {
			t.Errorf("NewStore(Products: %d) = nil error, want one", n)
		}
	}
	st, err := NewStore(StoreOptions{Seed: 9, Products: 120})
	if err != nil || st.Catalog().Len() != 120 {
		t.Fatalf("NewStore(Products: 120) = %v", err)
	}
	if _, err := st.StartEpisode("nope", ""); err == nil || !strings.Contains(err.Error(), "pilot shop tasks") {
		t.Errorf("StartEpisode(nope) = %v, want an error saying how to list tasks", err)
	}
	if _, ok := st.Episode("nope"); ok {
		t.Errorf("Episode(nope) found")
	}
}

// BenchmarkResultsPage times a results page (search and render) served by
// the handler, at 100,000 products.
//
//	go test -run '^$' -bench ResultsPage -benchtime 2000x ./env/shop/
func BenchmarkResultsPage(b *testing.B) {
	st, err := NewStore(StoreOptions{Seed: 1, Products: 100_000})
	if err != nil {
		b.Fatal(err)
	}
	tasks, _ := st.Tasks().Split("test")
	ep, err := st.StartEpisode(tasks[0].ID, "")
	if err != nil {
		b.Fatal(err)
	}
	var ts []time.Duration
	i := 0
	for b.Loop() {
		q := url.QueryEscape(benchQueries[i%len(benchQueries)])
		i++
		w := httptest.NewRecorder()
		t0 := time.Now()
		st.ServeHTTP(w, httptest.NewRequest("GET", "/s/"+ep.ID+"/search?q="+q, nil))
		ts = append(ts, time.Since(t0))
		if w.Code != 200 {
			b.Fatalf("status %d", w.Code)
		}
	}
	reportTimings(b, ts)
}
