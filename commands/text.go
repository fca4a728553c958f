package commands

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ergochat/irc-go/ircfmt"
)

// MaxInputBytes caps one command line after sanitising.
const MaxInputBytes = 1000

// Sanitize makes untrusted text (chat input, webhook payloads) safe to store and to echo on IRC: it strips IRC
// formatting codes (bold, colour, ...), drops invalid UTF-8, every control character (CR, LF, NUL, CTCP \x01,
// tabs become spaces) and the Unicode bidi and zero-width formatting controls that can disguise text.
func Sanitize(s string) string { return sanitize(s, false) }

// SanitizeOutput is Sanitize for lines the bot sends: it keeps the zero-width space that the bot inserts after a
// nick's first letter so that naming someone does not highlight them. (Input never carries one: Sanitize drops
// it before a command is parsed or stored.)
func SanitizeOutput(s string) string { return sanitize(s, true) }

func sanitize(s string, keepZWSP bool) string {
	s = strings.ToValidUTF8(s, "")
	s = ircfmt.Strip(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case keepZWSP && r == '\u200b':
			b.WriteRune(r)
		case unicode.IsControl(r):
		case isBidiOrInvisible(r):
		case r == utf8.RuneError:
		default:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}

// isBidiOrInvisible reports bidi embedding/override/isolate marks and other format characters (Cf) such as
// zero-width joiners, which have no business in an ops ledger and can reorder what a reader sees.
func isBidiOrInvisible(r rune) bool {
	return unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Bidi_Control, r)
}

// Truncate cuts s to at most n bytes without splitting a UTF-8 sequence, marking the cut with "…".
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ell = "…"
	cut := n - len(ell)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if cut < 0 {
		cut = 0
	}
	return s[:cut] + ell
}
