// Package shop is pilot's built-in WebShop-style store: a deterministic
// catalog generated from a seed, BM25 search, server-rendered pages (an
// http.Handler), shopping tasks with constraints, and WebShop's reward,
// extended with a rating and an address term.
//
// The store knows nothing of agents: any browser, any language, can shop
// in it. Start an episode with POST /api/episodes {"task_id": …} and read
// its reward with GET /api/episodes/{id}; or use Env, which drives the
// store through env/web.
package shop

// Product is one item of the catalog.
type Product struct {
	ID           string        `json:"id"`       // ASIN-like: "B" + 9 digits
	Category     string        `json:"category"` // the product type: "earphones", "running shoes"
	Brand        string        `json:"brand"`
	Title        string        `json:"title"`
	Bullets      []string      `json:"bullets"`
	Description  string        `json:"description"`
	Attributes   []string      `json:"attributes"` // "wireless", "noise cancelling", "waterproof"
	Options      []OptionGroup `json:"options"`    // in display order
	Price        float64       `json:"price"`      // US dollars, cents precision
	Rating       float64       `json:"rating"`     // 1.0 to 5.0, one decimal
	ReviewCount  int           `json:"review_count"`
	Reviews      []Review      `json:"reviews"` // a few shown on the Reviews page
	DeliveryDays int           `json:"delivery_days"`
}

// OptionGroup is one choice on the item page: "color" with its values.
type OptionGroup struct {
	Name   string   `json:"name"` // "color", "size"
	Values []string `json:"values"`
}

// Review is one customer review.
type Review struct {
	Author string `json:"author"`
	Stars  int    `json:"stars"`
	Text   string `json:"text"`
}

// Address is a shipping address.
type Address struct {
	Name   string `json:"name"`
	Street string `json:"street"`
	City   string `json:"city"`
	State  string `json:"state"` // two letters
	Zip    string `json:"zip"`   // five digits
}

// Goal is what a task asks for: the hidden specification the reward is
// computed against.
type Goal struct {
	Category   string            `json:"category"`
	Attributes []string          `json:"attributes"`
	Options    map[string]string `json:"options"`    // option name → value
	PriceMax   float64           `json:"price_max"`  // US dollars
	RatingMin  float64           `json:"rating_min"` // 0 when the task sets none
	Address    Address           `json:"address"`
	// ShipToMe is set when the instruction says "ship it to me": Address
	// is then the user's profile address, which the instruction gives.
	ShipToMe bool `json:"ship_to_me"`
	// TargetID is a product that satisfies the goal (there may be others).
	TargetID string `json:"target_id"`
}

// Task is one shopping task.
type Task struct {
	ID          string `json:"id"`    // "shop-test-0042"
	Split       string `json:"split"` // train, dev or test
	Instruction string `json:"instruction"`
	Goal        Goal   `json:"goal"`
	// Profile is the user's own address (Goal.Address when the task ships
	// to the user).
	Profile Address `json:"profile"`
	// Hidden is what the instruction leaves out and only the user knows
	// (the ambiguous split: an option the reward requires), option name →
	// value.
	Hidden map[string]string `json:"hidden,omitempty"`
}

// Purchase is what the agent bought: the item, the options it chose, and
// the address it gave at checkout.
type Purchase struct {
	ProductID string            `json:"product_id"`
	Options   map[string]string `json:"options"`
	Quantity  int               `json:"quantity"`
	Address   Address           `json:"address"`
}

// Breakdown says which constraints a purchase met.
type Breakdown struct {
	TypeFactor  float64         `json:"type_factor"` // 0..1, multiplies the rest
	Attributes  map[string]bool `json:"attributes"`  // goal attribute → matched
	Options     map[string]bool `json:"options"`     // goal option name → matched
	PriceOK     bool            `json:"price_ok"`
	RatingOK    bool            `json:"rating_ok"`
	AddressOK   bool            `json:"address_ok"`
	Matched     int             `json:"matched"`     // constraints met
	Constraints int             `json:"constraints"` // attributes + options + 3
	Reward      float64         `json:"reward"`
}
