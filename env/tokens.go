package env

import (
	"unicode"
	"unicode/utf8"
)

// EstimateTokens estimates how many tokens of OpenAI's cl100k_base
// encoding (GPT-4's) s takes, without its 100,000-entry vocabulary. It
// splits s as cl100k's pre-tokenizer does (letters with one leading
// space or sign, digits in threes, punctuation runs, spaces), then counts
// a word of up to 8 letters as one token and longer words as one per 5
// letters, a punctuation run as one per 2 characters, and a character
// outside ASCII letters as one token each (two for those past U+FFFF).
// Scaled by 1.08, on 27 observations of six realistic pages its total is
// within 1% of js-tiktoken's count, and each one within 17%
// (scripts/tokens.sh measures it).
func EstimateTokens(s string) int {
	n := countPieces(s)
	// The counts above come out about 7% under cl100k's on observations
	// (a token is often shorter than the rule's word): scale them up.
	return n + (n*2+24)/25 // rounded up: the sum over lines is at least the whole's
}

func countPieces(s string) int {
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\n' || r == '\r':
			// Newlines (with the spaces that follow) are one token.
			j := i + size
			for j < len(s) && (s[j] == '\n' || s[j] == '\r' || s[j] == ' ') {
				j++
			}
			n++
			i = j
		case r == ' ' || r == '\t':
			j := i + size
			for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
				j++
			}
			if j < len(s) && j-i == 1 && s[j] != '\n' {
				// A single space joins the word after it.
				i = j
				continue
			}
			n++
			i = j
		case r < utf8.RuneSelf && isASCIILetter(byte(r)):
			j := i
			for j < len(s) && isASCIILetter(s[j]) {
				j++
			}
			if l := j - i; l <= 8 {
				n++
			} else {
				n += (l + 4) / 5
			}
			i = j
		case r >= '0' && r <= '9':
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			n += (j - i + 2) / 3
			i = j
		case r < utf8.RuneSelf:
			j := i
			for j < len(s) && s[j] < utf8.RuneSelf && !isASCIILetter(s[j]) && !(s[j] >= '0' && s[j] <= '9') && s[j] != ' ' && s[j] != '\n' && s[j] != '\r' && s[j] != '\t' {
				j++
			}
			n += (j - i + 1) / 2
			i = j
		default:
			if r != utf8.RuneError && (r > 0xffff || unicode.Is(unicode.So, r)) {
				n += 2
			} else {
				n++
			}
			i += size
		}
	}
	return n
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
