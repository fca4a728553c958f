package chat

import (
	"strings"
	"sync/atomic"
)

// Casemap is the network's casefolding of nicks, accounts and channel names: RFC 1459 until the server
// announces its CASEMAPPING (RPL_ISUPPORT), then that one. One Casemap serves the whole bot, so roles, pages
// and channels compare names the same way. The zero value folds per RFC 1459; it is safe for concurrent use.
type Casemap struct {
	fold atomic.Pointer[func(string) string]
}

// Set switches to the casefolding of a CASEMAPPING token ("rfc1459", "ascii", "rfc8265", ...).
func (c *Casemap) Set(mapping string) {
	f := FoldFor(mapping)
	c.fold.Store(&f)
}

// Fold casefolds s.
func (c *Casemap) Fold(s string) string {
	if c == nil {
		return FoldRFC1459(s)
	}
	if f := c.fold.Load(); f != nil {
		return (*f)(s)
	}
	return FoldRFC1459(s)
}

// Equal reports whether a and b are the same name on this network.
func (c *Casemap) Equal(a, b string) bool { return c.Fold(a) == c.Fold(b) }

// FoldRFC1459 casefolds per CASEMAPPING=rfc1459: ASCII letters plus []\~ as {}|^.
func FoldRFC1459(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z':
			return r + 32
		case r == '[':
			return '{'
		case r == ']':
			return '}'
		case r == '\\':
			return '|'
		case r == '~':
			return '^'
		}
		return r
	}, s)
}

// FoldASCII casefolds per CASEMAPPING=ascii.
func FoldASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 32
		}
		return r
	}, s)
}

// FoldFor returns the casefolding for a CASEMAPPING token; unknown mappings (e.g. rfc8265) fold Unicode case.
func FoldFor(mapping string) func(string) string {
	switch strings.ToLower(mapping) {
	case "ascii":
		return FoldASCII
	case "rfc1459", "", "strict-rfc1459":
		return FoldRFC1459
	default:
		return strings.ToLower
	}
}
