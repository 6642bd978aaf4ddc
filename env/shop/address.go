package shop

import (
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Checkout form fields: the input names and their labels.
var addressFields = []struct {
	name, label string
	max         int // in characters
}{
	{"name", "Full name", 100},
	{"street", "Street address", 200},
	{"city", "City", 100},
	{"state", "State", 2},
	{"zip", "ZIP code", 10},
}

// ParseAddressForm reads the checkout form's fields (name, street, city,
// state, zip) and checks them. It returns the address as typed, trimmed
// (the state in capitals), and one message per problem, such as "ZIP code
// must be 5 digits"; no message means the address is valid. Any input gives
// an address and messages; it never panics.
func ParseAddressForm(form url.Values) (Address, []string) {
	var vals [5]string
	var problems []string
	for i, f := range addressFields {
		raw := form[f.name]
		v := ""
		if len(raw) > 0 {
			v = raw[0]
		}
		if len(raw) > 1 {
			problems = append(problems, f.label+" was sent more than once: send it once")
		}
		if !utf8.ValidString(v) {
			problems = append(problems, f.label+" is not valid text (UTF-8): type it again")
			v = strings.ToValidUTF8(v, "")
		}
		v = strings.Join(strings.Fields(v), " ")
		if len(v) > 4*f.max {
			v = clip(v, 4*f.max) // keep the re-rendered form small
		}
		vals[i] = v
		switch n := utf8.RuneCountInString(v); {
		case v == "":
			problems = append(problems, f.label+" is required")
			continue
		case strings.ContainsFunc(v, unicode.IsControl):
			problems = append(problems, f.label+" must not contain control characters")
			continue
		case f.name != "state" && f.name != "zip" && n > f.max:
			problems = append(problems, f.label+" is too long: at most "+strconv.Itoa(f.max)+" characters")
			continue
		}
		switch f.name {
		case "name", "city":
			if !strings.ContainsFunc(v, unicode.IsLetter) {
				problems = append(problems, f.label+" must contain letters")
			}
		case "street":
			if !strings.ContainsFunc(v, unicode.IsLetter) {
				problems = append(problems, "Street address must contain a street name")
			}
		case "state":
			vals[i] = strings.ToUpper(v)
			if !usStates[vals[i]] {
				problems = append(problems, "State must be a two-letter US state code, such as IL")
			}
		case "zip":
			if len(v) != 5 || strings.ContainsFunc(v, func(r rune) bool { return r < '0' || r > '9' }) {
				problems = append(problems, "ZIP code must be 5 digits")
			}
		}
	}
	return Address{Name: vals[0], Street: vals[1], City: vals[2], State: vals[3], Zip: vals[4]}, problems
}
