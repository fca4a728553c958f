package bot

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLineBytes is the IRC limit for one line including CR LF, without tags.
const MaxLineBytes = 512

// sourceReserve is room for the ":nick!user@host " prefix the server adds when it relays our line.
const sourceReserve = 100

// textBudget is how many bytes of text fit in one PRIVMSG/NOTICE to target, with room for the relayed prefix,
// capped at 400 so lines stay readable.
func textBudget(command, target string) int {
	n := MaxLineBytes - 2 - sourceReserve - len(command) - len(target) - 3 // " ", " :"
	return min(n, 400)
}

// splitText cuts text into pieces of at most max bytes, at spaces where possible and never inside a UTF-8
// sequence. Empty text gives no pieces.
func splitText(text string, max int) []string {
	var out []string
	for len(text) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		if sp := strings.LastIndexByte(text[:cut], ' '); sp > max/2 {
			cut = sp
		}
		if cut == 0 { // cannot happen with max >= 4, but never loop forever
			cut = max
		}
		out = append(out, strings.TrimRight(text[:cut], " "))
		text = strings.TrimLeft(text[cut:], " ")
	}
	if text != "" {
		out = append(out, text)
	}
	return out
}

// zwsp is a zero-width space. It is inserted where a line or a nick must not act as what it looks like.
const zwsp = "\u200b"

// defuse makes sure no outgoing line can be read as a command by another bot or by services: a line
// starting with a command character gets a zero-width space in front. Only the bot's own "... and N more
// (...)" line keeps its dots: a long reply split at a space can start a line with any user text, dots
// included.
func defuse(line, prefix string) string {
	if line == "" || isMoreLine(line) {
		return line
	}
	if strings.ContainsRune("!.@~/$%&*+-=?\\`", rune(line[0])) || (prefix != "" && strings.HasPrefix(line, prefix)) {
		return zwsp + line
	}
	return line
}

// isMoreLine reports the line that ends a reply cut at the channel's line budget: "... and 7 more (...)".
func isMoreLine(line string) bool {
	rest, ok := strings.CutPrefix(line, "... and ")
	digits := len(rest) - len(strings.TrimLeft(rest, "0123456789"))
	return ok && digits > 0 && strings.HasPrefix(rest[digits:], " more (") && strings.HasSuffix(rest, ")")
}

// wireClean makes text safe as one IRC line without changing what people see: CR and LF become spaces, and
// NUL, the CTCP delimiter, other control characters and bidi controls are dropped. Unlike chat.Sanitize (for untrusted
// input) it keeps IRC formatting codes and the zero-width spaces that stop nicks from highlighting.
func wireClean(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '\r', '\n', '\t':
			return ' '
		case '\x02', '\x03', '\x0f', '\x11', '\x16', '\x1d', '\x1e', '\x1f': // bold, colour, reset, ...
			return r
		}
		if r < 0x20 || r == 0x7f || unicode.Is(unicode.Bidi_Control, r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
}
