package shop

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseAddressForm(t *testing.T) {
	ok := "name=Jane+Doe&street=12+Oak+Street&city=Springfield&state=IL&zip=62704"
	tests := []struct {
		form     string
		want     Address
		problems []string
	}{
		{ok, janeDoe, nil},
		{"name=+Jane++Doe+&street=12+Oak+Street&city=Springfield&state=il&zip=+62704+", janeDoe, nil},
		{"", Address{}, []string{"Full name is required", "Street address is required", "City is required", "State is required", "ZIP code is required"}},
		{strings.Replace(ok, "zip=62704", "zip=6270", 1), Address{"Jane Doe", "12 Oak Street", "Springfield", "IL", "6270"}, []string{"ZIP code must be 5 digits"}},
		{strings.Replace(ok, "zip=62704", "zip=62704-1234", 1), Address{"Jane Doe", "12 Oak Street", "Springfield", "IL", "62704-1234"}, []string{"ZIP code must be 5 digits"}},
		{strings.Replace(ok, "zip=62704", "zip=%D9%A1%D9%A2%D9%A3%D9%A4%D9%A5", 1), Address{"Jane Doe", "12 Oak Street", "Springfield", "IL", "١٢٣٤٥"}, []string{"ZIP code must be 5 digits"}},
		{strings.Replace(ok, "state=IL", "state=Illinois", 1), Address{"Jane Doe", "12 Oak Street", "Springfield", "ILLINOIS", "62704"}, []string{"State must be a two-letter US state code, such as IL"}},
		{strings.Replace(ok, "state=IL", "state=XX", 1), Address{"Jane Doe", "12 Oak Street", "Springfield", "XX", "62704"}, []string{"State must be a two-letter US state code, such as IL"}},
		{strings.Replace(ok, "name=Jane+Doe", "name=12345", 1), Address{"12345", "12 Oak Street", "Springfield", "IL", "62704"}, []string{"Full name must contain letters"}},
		{strings.Replace(ok, "street=12+Oak+Street", "street=12", 1), Address{"Jane Doe", "12", "Springfield", "IL", "62704"}, []string{"Street address must contain a street name"}},
		{ok + "&zip=11111", janeDoe, []string{"ZIP code was sent more than once: send it once"}},
		{strings.Replace(ok, "name=Jane+Doe", "name=Jane%07Doe", 1), Address{"Jane\aDoe", "12 Oak Street", "Springfield", "IL", "62704"}, []string{"Full name must not contain control characters"}},
		{strings.Replace(ok, "city=Springfield", "city=%FFville", 1), Address{"Jane Doe", "12 Oak Street", "ville", "IL", "62704"}, []string{"City is not valid text (UTF-8): type it again"}},
		{strings.Replace(ok, "name=Jane+Doe", "name="+strings.Repeat("a", 101), 1), Address{strings.Repeat("a", 101), "12 Oak Street", "Springfield", "IL", "62704"}, []string{"Full name is too long: at most 100 characters"}},
		{strings.Replace(ok, "name=Jane+Doe", "name=Zoë+Ñúñez", 1), Address{"Zoë Ñúñez", "12 Oak Street", "Springfield", "IL", "62704"}, nil},
	}
	for _, tt := range tests {
		v, err := url.ParseQuery(tt.form)
		if err != nil {
			t.Fatal(err)
		}
		got, problems := ParseAddressForm(v)
		if got != tt.want || !slices.Equal(problems, tt.problems) {
			t.Errorf("ParseAddressForm(%q) = %+v, %q; want %+v, %q", clip(tt.form, 60), got, problems, tt.want, tt.problems)
		}
	}
}

// FuzzCheckoutForm posts any body to the checkout of a session with an
// item waiting: the answer is a redirect to the done page or a 4xx page,
// never a 500 or a panic; ParseAddressForm gives messages or a valid
// address.
func FuzzCheckoutForm(f *testing.F) {
	for _, s := range []string{
		"name=Jane+Doe&street=12+Oak+Street&city=Springfield&state=IL&zip=62704",
		"", "name=%", "zip=%FF", "name=a&name=b", "state=il&zip=1234", "&&&===", "name=" + strings.Repeat("x", 120),
	} {
		f.Add(s)
	}
	st, err := NewStore(StoreOptions{Seed: 4, Products: 100})
	if err != nil {
		f.Fatal(err)
	}
	tasks, _ := st.Tasks().Split("test")
	p, _ := st.Catalog().Product(tasks[0].Goal.TargetID)
	f.Fuzz(func(t *testing.T, body string) {
		if v, err := url.ParseQuery(body); err == nil {
			a, problems := ParseAddressForm(v)
			for _, msg := range problems {
				if msg == "" || !utf8.ValidString(msg) {
					t.Errorf("ParseAddressForm(%q): problem %q", body, msg)
				}
			}
			if len(problems) == 0 && (len(a.Zip) != 5 || !usStates[a.State] || a.Name == "" || a.Street == "" || a.City == "") {
				t.Errorf("ParseAddressForm(%q) = %+v with no problem, want a valid address", body, a)
			}
		}
		ep, err := st.StartEpisode(tasks[0].ID, "")
		if err != nil {
			t.Fatal(err)
		}
		buy := httptest.NewRequest("POST", "/s/"+ep.ID+"/buy", strings.NewReader("id="+p.ID))
		buy.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		st.ServeHTTP(w, buy)
		if w.Code != http.StatusSeeOther {
			t.Fatalf("buy: %d %s", w.Code, w.Body)
		}
		req := httptest.NewRequest("POST", "/s/"+ep.ID+"/checkout", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w = httptest.NewRecorder()
		st.ServeHTTP(w, req)
		switch {
		case w.Code == http.StatusSeeOther:
			if got, _ := st.Episode(ep.ID); got.Status != "done" {
				t.Errorf("checkout(%q) redirected but the episode is %s", body, got.Status)
			}
		case w.Code >= 400 && w.Code < 500:
			if !strings.Contains(w.Body.String(), `role="alert"`) {
				t.Errorf("checkout(%q) = %d without a message", body, w.Code)
			}
			if got, _ := st.Episode(ep.ID); got.Status != "active" {
				t.Errorf("checkout(%q) = %d but the episode is %s", body, w.Code, got.Status)
			}
		default:
			t.Errorf("checkout(%q) = %d, want 303 or 4xx: %s", body, w.Code, w.Body)
		}
	})
}
