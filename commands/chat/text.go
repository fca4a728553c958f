package chat

import (
	"errors"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ergochat/irc-go/ircfmt"
)

// Sanitize makes untrusted text (chat input, webhook payloads) safe to store and to echo on IRC: it strips IRC
// formatting codes (bold, colour, ...), drops invalid UTF-8, every control character (CR, LF, NUL, CTCP \x01;
// tabs and the Unicode line and paragraph separators become spaces) and the Unicode bidi and zero-width
// formatting controls that can disguise text.
func Sanitize(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = ircfmt.Strip(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029':
			b.WriteByte(' ') // U+2028/U+2029 too: a client may break the line there and show a fake bot line
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

// RedactURL shows a URL without what may be a secret: its scheme and host, and "/********" in place of user
// info, path, query and fragment (webhook and API URLs carry tokens there). For logs, errors that are stored,
// and check-config.
func RedactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "********"
	}
	out := u.Scheme + "://" + u.Host
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		out += "/********"
	}
	return out
}

// RedactError is err with the URL of a failed HTTP request (a *url.Error, whose text quotes it whole)
// redacted; other errors are returned as they are.
func RedactError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: RedactURL(ue.URL), Err: ue.Err}
	}
	return err
}
