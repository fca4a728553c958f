package bot

import (
	"strings"
	"unicode/utf8"

	"github.com/opsbot/opsbot/commands"
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
// starting with a command character gets a zero-width space in front.
func defuse(line, prefix string) string {
	if line == "" || strings.HasPrefix(line, "... ") {
		return line
	}
	if strings.ContainsRune("!.@~/$%&*+-=?\\`", rune(line[0])) || (prefix != "" && strings.HasPrefix(line, prefix)) {
		return zwsp + line
	}
	return line
}

// NoHighlight inserts a zero-width space after the first rune of a nick so that listing it does not ping.
func NoHighlight(nick string) string {
	_, n := utf8.DecodeRuneInString(nick)
	if n == 0 || n == len(nick) {
		return nick
	}
	return nick[:n] + zwsp + nick[n:]
}

// sanitizeOut is commands.Sanitize for the bot's own output. It keeps the zero-width spaces NoHighlight puts
// into nicks, which Sanitize drops like every other format character (right for input, but on output it
// would make every listed nick highlight its owner). Input text reaches replies already sanitised, so any
// zero-width space in a reply is the bot's own.
func sanitizeOut(s string) string {
	parts := strings.Split(s, zwsp)
	for i, p := range parts {
		parts[i] = commands.Sanitize(p)
	}
	return strings.Join(parts, zwsp)
}
