package shop

import (
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// testCatalog is one default-size catalog shared by the package's tests;
// it is immutable.
var testCatalog = sync.OnceValue(func() *Catalog { return NewCatalog(1, 0) })

func TestCatalogDeterministic(t *testing.T) {
	a, b := NewCatalog(7, 300), NewCatalog(7, 300)
	if !reflect.DeepEqual(a.Products(), b.Products()) {
		t.Fatalf("NewCatalog(7, 300) twice gave different products")
	}
	c := NewCatalog(8, 300)
	if reflect.DeepEqual(a.Products(), c.Products()) {
		t.Errorf("NewCatalog(7, 300) and NewCatalog(8, 300) are the same, want seed to matter")
	}
}

func TestCatalogSize(t *testing.T) {
	tests := []struct{ n, want int }{{0, DefaultProducts}, {-5, DefaultProducts}, {1, 1}, {37, 37}}
	for _, tt := range tests {
		if got := NewCatalog(1, tt.n).Len(); got != tt.want {
			t.Errorf("NewCatalog(1, %d).Len() = %d, want %d", tt.n, got, tt.want)
		}
	}
}

var idPattern = regexp.MustCompile(`^B[0-9]{9}$`)

func TestCatalogProducts(t *testing.T) {
	c := testCatalog()
	if n := len(c.Categories()); n < 12 {
		t.Errorf("%d categories, want at least 12", n)
	}
	perCat := map[string]int{}
	ps := c.Products()
	for i := range ps {
		p := &ps[i]
		perCat[p.Category]++
		if !idPattern.MatchString(p.ID) {
			t.Errorf("product id %q, want B and nine digits", p.ID)
		}
		if i > 0 && ps[i-1].ID >= p.ID {
			t.Errorf("products not sorted by unique id: %q then %q", ps[i-1].ID, p.ID)
		}
		switch {
		case p.Brand == "" || p.Title == "" || p.Description == "":
			t.Errorf("%s: brand %q, title %q, description %q: want all set", p.ID, p.Brand, p.Title, p.Description)
		case !strings.HasPrefix(p.Title, p.Brand+" "):
			t.Errorf("%s: title %q does not start with the brand %q", p.ID, p.Title, p.Brand)
		case len(p.Attributes) < 2 || len(p.Attributes) > 4:
			t.Errorf("%s: %d attributes, want 2 to 4", p.ID, len(p.Attributes))
		case len(p.Bullets) != len(p.Attributes)+2:
			t.Errorf("%s: %d bullets, want %d", p.ID, len(p.Bullets), len(p.Attributes)+2)
		case len(p.Reviews) < 3 || len(p.Reviews) > 5 || p.ReviewCount < len(p.Reviews):
			t.Errorf("%s: %d reviews of %d, want 3 to 5 shown", p.ID, len(p.Reviews), p.ReviewCount)
		case p.Price <= 0 || math.Abs(p.Price*100-math.Round(p.Price*100)) > 1e-6:
			t.Errorf("%s: price %v, want dollars and cents", p.ID, p.Price)
		case p.Rating < 1 || p.Rating > 5 || math.Abs(p.Rating*10-math.Round(p.Rating*10)) > 1e-9:
			t.Errorf("%s: rating %v, want 1.0 to 5.0 with one decimal", p.ID, p.Rating)
		case p.DeliveryDays < 2:
			t.Errorf("%s: ships in %d days, want at least 2", p.ID, p.DeliveryDays)
		}
		for _, g := range p.Options {
			if len(g.Values) < 2 || g.Name == "" {
				t.Errorf("%s: option group %+v, want a name and at least 2 values", p.ID, g)
			}
		}
		if got, ok := c.Product(p.ID); !ok || got != p {
			t.Errorf("Product(%q) = %v, %v, want the product", p.ID, got, ok)
		}
	}
	for _, cat := range c.Categories() {
		if perCat[cat] < DefaultProducts/len(categories)-1 {
			t.Errorf("category %q has %d products, want about %d", cat, perCat[cat], DefaultProducts/len(categories))
		}
	}
	for _, id := range []string{"", "B000000000x", "nope", "B999999999"} {
		if p, ok := c.Product(id); ok {
			t.Errorf("Product(%q) = %s, want none", id, p.ID)
		}
	}
}

// TestCatalogRatings checks the skew: most ratings between 3.5 and 4.8.
func TestCatalogRatings(t *testing.T) {
	n := 0
	for _, p := range testCatalog().Products() {
		if p.Rating >= 3.5 && p.Rating <= 4.8 {
			n++
		}
	}
	if frac := float64(n) / float64(testCatalog().Len()); frac < 0.7 {
		t.Errorf("%.0f%% of ratings within 3.5–4.8, want most", 100*frac)
	}
}

// TestVocabularyDistinct checks what the reward relies on: within a
// category no two attributes match under TokenSetRatio, and no two option
// values (of any group: WebShop matches values across groups) do, after
// WebShop's color normalisation.
func TestVocabularyDistinct(t *testing.T) {
	for _, cs := range categories {
		for i, a := range cs.attrs {
			for _, b := range cs.attrs[i+1:] {
				if r := TokenSetRatio(a.name, b.name); r > FuzzyThreshold {
					t.Errorf("%s: attributes %q and %q match (TokenSetRatio %d)", cs.name, a.name, b.name, r)
				}
			}
		}
		vals := slices.Clone(cs.colors)
		if cs.extra != nil {
			vals = append(vals, cs.extra.values...)
		}
		for i, a := range vals {
			for _, b := range vals[i+1:] {
				if r := TokenSetRatio(normalizeColor(a), normalizeColor(b)); r > FuzzyThreshold {
					t.Errorf("%s: option values %q and %q match (TokenSetRatio %d)", cs.name, a, b, r)
				}
			}
		}
	}
}

// TestAttributesHonest checks, on every product, that the reward finds
// exactly the product's attributes: no title, bullet or description names
// an attribute the product lacks.
func TestAttributesHonest(t *testing.T) {
	for _, p := range testCatalog().Products() {
		ci := slices.IndexFunc(categories, func(c categorySpec) bool { return c.name == p.Category })
		for _, a := range categories[ci].attrs {
			has := slices.Contains(p.Attributes, a.name)
			if got := attributeMatch(a.name, &p); got != has {
				t.Errorf("%s %q: attributeMatch(%q) = %v, want %v (attributes %v, bullets %q, description %q)",
					p.ID, p.Title, a.name, got, has, p.Attributes, p.Bullets, p.Description)
			}
		}
	}
}

// TestTypeFactorCatalog checks that every product is of its own type and
// of no other.
func TestTypeFactorCatalog(t *testing.T) {
	c := testCatalog()
	for _, p := range c.Products() {
		for _, cat := range c.Categories() {
			want := 0.0
			if cat == p.Category {
				want = 1
			}
			if got := TypeFactor(cat, &p); got != want {
				t.Errorf("TypeFactor(%q, %s %q in %s) = %v, want %v", cat, p.ID, p.Title, p.Category, got, want)
			}
		}
	}
}
