package shop

import (
	"math"
	"testing"
)

func TestTokenSetRatio(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		// From thefuzz's README.
		{"fuzzy was a bear", "fuzzy fuzzy was a bear", 100},
		{"new york mets vs atlanta braves", "atlanta braves vs new york mets", 100},
		// Processing: case and punctuation do not count.
		{"Wireless!!", "wireless", 100},
		{"noise-cancelling", "Noise Cancelling", 100},
		// A subset scores 100: the intersection equals one side.
		{"small", "x-small", 100},
		{"rose gold", "gold", 100},
		// No common word: ratio("black", "blue"); LCS "bl" = 2,
		// 100·2·2/(5+4) = 44.4 → 44.
		{"black", "blue", 44},
		// t0 "cup", t1 "cup 10", t2 "cup 12": ratio(t1, t2) has LCS
		// "cup 1" = 5, 100·10/12 = 83.3 → 83; the others are lower.
		{"10 cup", "12 cup", 83},
		// t1 "pixel 8", t2 "pixel 7": LCS 6, 100·12/14 = 85.7 → 86.
		{"pixel 8", "pixel 7", 86},
		// t0 "neck", t2 "neck v": 100·8/10 = 80 beats ratio(t1, t2) =
		// 100·10/15 = 66.7 and ratio(t0, t1) = 100·8/13 = 61.5.
		{"crew neck", "v neck", 80},
		// t1 "noise cancelling" (16), t2 "noise cancellation" (18): LCS
		// "noise cancell" + "in" = 15, 100·30/34 = 88.2 → 88.
		{"noise cancelling", "noise cancellation", 88},
		// 100·2·5/16 = 62.5: Python rounds half to even → 62.
		{"abcdexyz", "abcdeqrs", 62},
		// Latin-1 letters are dropped (force_ascii): "caf" vs "cafe",
		// 100·6/7 = 85.7 → 86.
		{"café", "cafe", 86},
		{"Écouteurs", "couteurs", 100},
		// Other scripts are kept and lower-cased.
		{"Наушники", "наушники", 100},
		// Empty after processing: 0.
		{"", "x", 0},
		{"!!!", "x", 0},
		{"", "", 0},
	}
	for _, tt := range tests {
		if got := TokenSetRatio(tt.a, tt.b); got != tt.want {
			t.Errorf("TokenSetRatio(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := TokenSetRatio(tt.b, tt.a); got != tt.want {
			t.Errorf("TokenSetRatio(%q, %q) = %d, want %d (symmetric)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestNormalizeColor(t *testing.T) {
	tests := []struct{ in, want string }{
		{"black", "black"},
		{"jet black", "black"},
		// WebShop's quirk: the first color of COLOR_SET in the value wins,
		// and "blue" comes before "navy".
		{"navy blue", "blue"},
		// Case-sensitive, as WebShop's: capitals hide a color.
		{"Navy Blue", "Navy Blue"},
		{"Jet black", "black"},
		// mushroom is in WebShop's set, before pink.
		{"mushroom pink", "mushroom"},
		{"10 cup", "10 cup"},
		{"small", "small"},
	}
	for _, tt := range tests {
		if got := normalizeColor(tt.in); got != tt.want {
			t.Errorf("normalizeColor(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// rewardProduct is the product of the hand-computed cases.
func rewardProduct() *Product {
	return &Product{
		ID:       "B000000001",
		Category: "earphones",
		Brand:    "SoundCore",
		Title:    "SoundCore Pro Wireless Noise Cancelling Earphones, Black",
		Bullets: []string{
			"Waterproof to IPX7: rain and sweat are no problem.",
			"Comes with a compact charging box.",
		},
		Description: "Meet the SoundCore Pro earphones.",
		Attributes:  []string{"wireless", "noise cancelling"},
		Options: []OptionGroup{
			{Name: "color", Values: []string{"black", "white"}},
			{Name: "size", Values: []string{"small", "large"}},
		},
		Price:  37.99,
		Rating: 4.6,
	}
}

var janeDoe = Address{Name: "Jane Doe", Street: "12 Oak Street", City: "Springfield", State: "IL", Zip: "62704"}

// rewardGoal asks for 3 attributes and 1 option: 3 + 1 + 3 = 7
// constraints.
func rewardGoal() Goal {
	return Goal{
		Category:   "earphones",
		Attributes: []string{"wireless", "noise cancelling", "waterproof"},
		Options:    map[string]string{"color": "black"},
		PriceMax:   40,
		RatingMin:  4.5,
		Address:    janeDoe,
	}
}

func TestRewardHandComputed(t *testing.T) {
	black := map[string]string{"color": "black"}
	tests := []struct {
		name   string
		goal   func(*Goal)
		prod   func(*Product)
		buy    Purchase
		want   float64
		detail func(t *testing.T, b Breakdown)
	}{
		{
			// wireless and noise cancelling are attributes, waterproof
			// is in a bullet: 3 + color 1 + price 1 + rating 1 +
			// address 1 = 7 of 7.
			name: "everything matches",
			buy:  Purchase{Options: black, Address: janeDoe},
			want: 7.0 / 7,
		},
		{
			// (3 + 0 + 1 + 1 + 1) / 7 = 6/7.
			name: "wrong color",
			buy:  Purchase{Options: map[string]string{"color": "white"}, Address: janeDoe},
			want: 6.0 / 7,
			detail: func(t *testing.T, b Breakdown) {
				if b.Options["color"] {
					t.Errorf("Options[color] = true, want false")
				}
			},
		},
		{
			// Buying without choosing counts the option unmatched, as in
			// WebShop: 6/7.
			name: "no option chosen",
			buy:  Purchase{Address: janeDoe},
			want: 6.0 / 7,
		},
		{
			// Case and options of other groups do not matter: "Black"
			// matches "black" among the bought values. 7/7.
			name: "option case and other groups",
			buy:  Purchase{Options: map[string]string{"size": "large", "color": "Black"}, Address: janeDoe},
			want: 1,
		},
		{
			// WebShop's normalize_color is case-sensitive and runs on the
			// value as given (goal.py lines 211–212 at d149d0d): "Navy
			// Blue" contains no lower-case COLOR_SET name and stays as it
			// is, and TokenSetRatio("Navy Blue", "navy") = 100. (Were it
			// lower-cased first it would become "blue" and miss "navy".)
			// 7/7.
			name: "bought option with capitals",
			goal: func(g *Goal) { g.Options = map[string]string{"color": "navy"} },
			buy:  Purchase{Options: map[string]string{"color": "Navy Blue"}, Address: janeDoe},
			want: 1,
		},
		{
			// The same for the goal's value: "Navy Blue" stays, "navy"
			// is in it. 7/7.
			name: "goal option with capitals",
			goal: func(g *Goal) { g.Options = map[string]string{"color": "Navy Blue"} },
			buy:  Purchase{Options: map[string]string{"color": "navy"}, Address: janeDoe},
			want: 1,
		},
		{
			// WebShop's quirk, kept: in lower case "navy blue" becomes
			// "blue" ("blue" comes before "navy" in COLOR_SET) and misses
			// "navy". 6/7.
			name: "lower-case option normalised",
			goal: func(g *Goal) { g.Options = map[string]string{"color": "navy"} },
			buy:  Purchase{Options: map[string]string{"color": "navy blue"}, Address: janeDoe},
			want: 6.0 / 7,
		},
		{
			// $37.99 > $30: (3 + 1 + 0 + 1 + 1) / 7 = 6/7.
			name: "over the price",
			goal: func(g *Goal) { g.PriceMax = 30 },
			buy:  Purchase{Options: black, Address: janeDoe},
			want: 6.0 / 7,
			detail: func(t *testing.T, b Breakdown) {
				if b.PriceOK {
					t.Errorf("PriceOK = true, want false")
				}
			},
		},
		{
			// The price equal to the ceiling is ok: 7/7.
			name: "price at the ceiling",
			goal: func(g *Goal) { g.PriceMax = 37.99 },
			buy:  Purchase{Options: black, Address: janeDoe},
			want: 1,
		},
		{
			// 4.6 < 4.7: 6/7.
			name: "under the rating",
			goal: func(g *Goal) { g.RatingMin = 4.7 },
			buy:  Purchase{Options: black, Address: janeDoe},
			want: 6.0 / 7,
		},
		{
			// No minimum rating: always ok, still counted. 7/7.
			name: "no rating asked",
			goal: func(g *Goal) { g.RatingMin = 0 },
			prod: func(p *Product) { p.Rating = 1.2 },
			buy:  Purchase{Options: black, Address: janeDoe},
			want: 1,
		},
		{
			// The ZIP code differs: (3 + 1 + 1 + 1 + 0) / 7 = 6/7.
			name: "wrong zip",
			buy:  Purchase{Options: black, Address: Address{Name: "Jane Doe", Street: "12 Oak Street", City: "Springfield", State: "IL", Zip: "62705"}},
			want: 6.0 / 7,
			detail: func(t *testing.T, b Breakdown) {
				if b.AddressOK {
					t.Errorf("AddressOK = true, want false")
				}
			},
		},
		{
			// Case and spaces do not count in the address: 7/7.
			name: "address case and spaces",
			buy:  Purchase{Options: black, Address: Address{Name: "  jane   DOE", Street: "12 oak street ", City: "SPRINGFIELD", State: "il", Zip: " 62704"}},
			want: 1,
		},
		{
			// Wrong color and wrong address: (3 + 0 + 1 + 1 + 0) / 7 = 5/7.
			name: "two failures",
			buy:  Purchase{Options: map[string]string{"color": "white"}, Address: Address{Name: "John Doe", Street: "12 Oak Street", City: "Springfield", State: "IL", Zip: "62704"}},
			want: 5.0 / 7,
		},
		{
			// "long battery life" is nowhere on the product: (2 + 1 + 1 +
			// 1 + 1) / 7 = 6/7.
			name: "missing attribute",
			goal: func(g *Goal) { g.Attributes = []string{"wireless", "noise cancelling", "long battery life"} },
			buy:  Purchase{Options: black, Address: janeDoe},
			want: 6.0 / 7,
			detail: func(t *testing.T, b Breakdown) {
				if b.Attributes["long battery life"] || !b.Attributes["wireless"] {
					t.Errorf("Attributes = %v, want wireless matched and long battery life not", b.Attributes)
				}
			},
		},
		{
			// A fuzzy attribute: "noise cancellation" vs the product's
			// "noise cancelling" scores 88 > 85. The title says
			// "Noise Cancelling", so drop it from the text first. 7/7.
			name: "fuzzy attribute",
			goal: func(g *Goal) { g.Attributes = []string{"wireless", "noise cancellation", "waterproof"} },
			prod: func(p *Product) { p.Title = "SoundCore Pro Earphones" },
			buy:  Purchase{Options: black, Address: janeDoe},
			want: 1,
		},
		{
			// The fallback searches the bullets joined with a space, as
			// WebShop's get_attribute_reward does (goal.py line 198 at
			// d149d0d): "long battery life" spans the second and third
			// bullets and matches. 7/7.
			name: "attribute across two bullets",
			goal: func(g *Goal) { g.Attributes = []string{"wireless", "noise cancelling", "long battery life"} },
			prod: func(p *Product) {
				p.Bullets = []string{"Waterproof to IPX7.", "Up to 40 hours of long battery", "life with the charging box."}
			},
			buy:  Purchase{Options: black, Address: janeDoe},
			want: 1,
			detail: func(t *testing.T, b Breakdown) {
				if !b.Attributes["long battery life"] {
					t.Errorf("Attributes = %v, want long battery life matched across the bullets", b.Attributes)
				}
			},
		},
		{
			// Joined with a space, not run together: "water" ending one
			// bullet and "proof" starting the next is "water proof",
			// not "waterproof". (2 + 1 + 1 + 1 + 1) / 7 = 6/7.
			name: "bullets joined with a space",
			prod: func(p *Product) { p.Bullets = []string{"Sweat and water", "proof to IPX7."} },
			buy:  Purchase{Options: black, Address: janeDoe},
			want: 6.0 / 7,
		},
		{
			// WebShop lower-cases the product's text but not the goal
			// attribute (goal.py lines 197–199 at d149d0d): "Waterproof"
			// is not in the lower-cased bullet "waterproof to ipx7…".
			// "Wireless" still matches the product's attribute, as
			// TokenSetRatio ignores case. (2 + 1 + 1 + 1 + 1) / 7 = 6/7.
			name: "goal attribute with capitals",
			goal: func(g *Goal) { g.Attributes = []string{"Wireless", "noise cancelling", "Waterproof"} },
			buy:  Purchase{Options: black, Address: janeDoe},
			want: 6.0 / 7,
			detail: func(t *testing.T, b Breakdown) {
				if !b.Attributes["Wireless"] || b.Attributes["Waterproof"] {
					t.Errorf("Attributes = %v, want Wireless matched (fuzzily) and Waterproof not (the text fallback is case-sensitive in the goal)", b.Attributes)
				}
			},
		},
		{
			// Two attributes, no option: 2 + 0 + 3 = 5 constraints, all
			// met: 5/5.
			name: "no options asked",
			goal: func(g *Goal) { g.Attributes = []string{"wireless", "waterproof"}; g.Options = nil },
			buy:  Purchase{Options: black, Address: janeDoe},
			want: 1,
		},
		{
			// A headphone is not an earphone: desired {earphone},
			// purchased {headphone, quietus, max, wireless}, score 0 →
			// factor 0 → reward 0.
			name: "wrong type",
			prod: func(p *Product) { p.Category = "headphones"; p.Title = "Quietus Max Wireless Headphones" },
			buy:  Purchase{Options: black, Address: janeDoe},
			want: 0,
			detail: func(t *testing.T, b Breakdown) {
				if b.TypeFactor != 0 || b.Matched != 7 {
					t.Errorf("TypeFactor %v, Matched %d, want 0 and 7 (the rest still matches)", b.TypeFactor, b.Matched)
				}
			},
		},
		{
			// Desired {bass, boost, travel, studio, earphone}: 1 of 5 in
			// the title, score 0.2, not above 0.2 and another category →
			// factor 0.5. 0.5 × 7/7 = 0.5.
			name: "half type",
			goal: func(g *Goal) { g.Category = "bass boost travel studio earphones" },
			buy:  Purchase{Options: black, Address: janeDoe},
			want: 0.5,
		},
		{
			// Desired has 11 words, 1 in the title: score 1/11 < 0.1 →
			// factor 0.1. 0.1 × 6/7 (wrong color) = 0.0857….
			name: "tenth type",
			goal: func(g *Goal) {
				g.Category = "quiet compact travel studio sport gym office kids bass boost earphones"
			},
			buy:  Purchase{Options: map[string]string{"color": "white"}, Address: janeDoe},
			want: 0.1 * 6 / 7,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, p := rewardGoal(), rewardProduct()
			if tt.goal != nil {
				tt.goal(&g)
			}
			if tt.prod != nil {
				tt.prod(p)
			}
			tt.buy.ProductID, tt.buy.Quantity = p.ID, 1
			b := Reward(g, p, tt.buy)
			if math.Abs(b.Reward-tt.want) > 1e-12 {
				t.Errorf("Reward = %v (%+v), want %v", b.Reward, b, tt.want)
			}
			if want := len(g.Attributes) + len(g.Options) + 3; b.Constraints != want {
				t.Errorf("Constraints = %d, want %d", b.Constraints, want)
			}
			if tt.detail != nil {
				tt.detail(t, b)
			}
		})
	}
}

func TestRewardNothingBought(t *testing.T) {
	b := Reward(rewardGoal(), nil, Purchase{})
	if b.Reward != 0 || b.Matched != 0 || b.Constraints != 7 || len(b.Attributes) != 3 || len(b.Options) != 1 {
		t.Errorf("Reward(goal, nil, {}) = %+v, want reward 0, 0 of 7 matched, every constraint listed", b)
	}
}

func TestTypeFactor(t *testing.T) {
	tests := []struct {
		goal, category, title string
		want                  float64
	}{
		{"earphones", "earphones", "Zentra Elite Wireless Earphones", 1},
		// WebShop's leniency: half the words in common is a match.
		{"desk lamps", "floor lamps", "Lumina Floor Lamp", 1},
		{"running shoes", "hiking boots", "Trailborn Hiking Boots", 0},
		{"smart watches", "smart watches", "Tickr Max Smart Watch", 1},
		// Plurals fold: "watches" and "Watch" meet.
		{"smart watches", "fitness bands", "Tickr Band, a smart watch alternative", 1},
		// Only stop words: desired is empty, score 0.2; the same
		// category → 1, another → 0.5.
		{"the", "the", "Zentra Earphones", 1},
		{"the", "headphones", "Zentra Headphones", 0.5},
	}
	for _, tt := range tests {
		p := &Product{Category: tt.category, Title: tt.title}
		if got := TypeFactor(tt.goal, p); got != tt.want {
			t.Errorf("TypeFactor(%q, {%q, %q}) = %v, want %v", tt.goal, tt.category, tt.title, got, tt.want)
		}
	}
}

func TestAddressMatch(t *testing.T) {
	tests := []struct {
		got  Address
		want bool
	}{
		{janeDoe, true},
		{Address{"JANE DOE", "12  Oak  Street", "springfield", "il", "62704"}, true},
		{Address{"Jane Doe", "12 Oak Street", "Springfield", "IL", "62704-"}, true},
		{Address{"Jane Doe", "12 Oak Street", "Springfield", "IL", "62704-1234"}, false},
		{Address{"Jane Doe", "12 Oak St", "Springfield", "IL", "62704"}, false},
		{Address{"Jane Doe", "12 Oak Street", "Springfield", "IN", "62704"}, false},
		{Address{}, false},
	}
	for _, tt := range tests {
		if got := AddressMatch(janeDoe, tt.got); got != tt.want {
			t.Errorf("AddressMatch(%+v, %+v) = %v, want %v", janeDoe, tt.got, got, tt.want)
		}
	}
}
