package chat

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ergochat/irc-go/ircfmt"
)

// Sanitize makes untrusted text (chat input, webhook payloads) safe to store and to echo on IRC: it strips IRC
// formatting codes (bold, colour, ...), drops invalid UTF-8, every control character (CR, LF, NUL, CTCP \x01,
// tabs become spaces) and the Unicode bidi and zero-width formatting controls that can disguise text.
func Sanitize(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = ircfmt.Strip(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
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

// NoHighlight inserts a zero-width space after the first rune of a nick or account, so that showing it in a
// channel does not highlight its owner. Only the person who must act is named plainly.
func NoHighlight(nick string) string {
	_, n := utf8.DecodeRuneInString(nick)
	if n == 0 || n == len(nick) {
		return nick
	}
	return nick[:n] + "\u200b" + nick[n:]
}
