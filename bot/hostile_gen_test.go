package bot

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/opsbot/opsbot/commands"
)

// hostileGen makes the lines of the hostile-input test: random and crafted, deterministic for a seed.
type hostileGen struct {
	r    *rand.Rand
	cmds []*commands.Command
}

// hostileTokens are arguments worth trying anywhere: bad ids, quotes, flags, durations, times, cron specs,
// names, injection attempts.
var hostileTokens = []string{
	"R-99999999999999999999", "R-0", "R--1", "R-1", "r1", "1", "18446744073709551616", "-1", "0", "INC-1", "INC-99999999999999999999",
	"P-1", "P-0", "D-1", "D-18446744073709551615", "x-1", `"unterminated`, `"two words"`, `""`, `"`, `\"`, `"a\"b"`,
	"--force", "--force=yes", "--urgent", "--env", "--env=prod", "--env=", "--percent", "--percent=999", "--percent=-5",
	"--sites=a,,b", "--sites", "--page=-1", "--page=99999999999", "--page", "--service", "--service=playlist",
	"--agenda=retro", "--agenda=nope", "--channel=#evil", "--channel", `--channel="#operations :x"`, "--channel=#operations,#evil",
	"--owner=alice", "--depends=a,b,a", "--slo=100.1", "--slo=NaN", "--slo=1e309", "--notes", "--create", "--undo", "--since=25:99",
	"--at=2026-13-45T99:00:00Z", "--", "---", "--=", "0s", "-5m", "99999999w", "1w", "1e9h", "15m", "25:99", "14:05", "2026-11-27T15:00:00Z",
	`"* * * * *"`, `"0 9 * * MON"`, `"CRON_TZ=Mars/Olympus 0 0 * * *"`, `"TZ=UTC 0 * * * *"`, `"CRON_TZ= * * * * *"`, `"@every 1s"`,
	`"0 0 31 2 *"`, `"@reboot"`, "sev1", "sev0", "sev9", "playlist", "all", "ALL", strings.Repeat("a", 70), "svc.with_dots-1",
	"alice", "carol", "bob", "nobody", "#operations", "#evil", "!op", "!op alice", ".op", "@everyone", "~x", "/quit", "$x", "%s%d%n",
	"${jndi:ldap://x}", "retro", "planning", "x", "🔥", "é", "\u200b", "\u202eevil\u202c", "\u2066x\u2069", "\x01", "\x01VERSION\x01",
	"\x02bold", "\x0304,01red", "\x1f", "\x16", "\x0f", "\x7f", "\xff\xfe", "\xc3", "\xed\xa0\x80", "NUL\x00NUL", "a\rb",
	"QUIT :x", "PRIVMSG #operations :x", ":irc.test 001 x", "... and 5 more (ask in private)",
}

// line returns one raw client line (without CR LF) for a client; anon clients and the nick changer may
// also change nick (newNick says to which).
func (g *hostileGen) line(mayNick bool) (raw, newNick string) {
	r := g.r
	target := "#operations"
	if r.IntN(3) == 0 {
		target = "opsbot"
	}
	privmsg := func(text string) string { return "PRIVMSG " + target + " :" + text }
	switch k := r.IntN(100); {
	case k < 40:
		return privmsg(g.addressed(target, g.command())), ""
	case k < 50:
		return privmsg(g.randomText(r.IntN(300))), ""
	case k < 57:
		return privmsg(g.addressed(target, g.overlong())), ""
	case k < 65:
		return g.ctcp(target), ""
	case k < 73:
		return privmsg(g.addressed(target, g.decorated(g.command()))), ""
	case k < 74 && mayNick:
		nick := fmt.Sprintf("h%s%d", string(rune('a'+r.IntN(26))), r.IntN(100000))
		return "NICK " + nick, nick
	case k < 85:
		return privmsg(g.addressed(target, g.crafted())), ""
	case k < 90:
		return "NOTICE " + target + " :" + g.command(), ""
	default:
		return privmsg(g.chatter()), ""
	}
}

// addressed turns a command into what a person types: with the prefix, by the bot's nick, or (in private)
// bare.
func (g *hostileGen) addressed(target, cmd string) string {
	switch g.r.IntN(6) {
	case 0:
		return "opsbot: " + cmd
	case 1:
		return "OpsBot, " + cmd
	case 2:
		if target == "opsbot" {
			return cmd
		}
	}
	return "!" + cmd
}

// command is a registered command with random arguments and flags.
func (g *hostileGen) command() string {
	r := g.r
	c := g.cmds[r.IntN(len(g.cmds))]
	parts := []string{c.Name}
	if r.IntN(10) == 0 {
		parts[0] = strings.ToUpper(c.Name)
	}
	for range r.IntN(6) {
		parts = append(parts, hostileTokens[r.IntN(len(hostileTokens))])
	}
	for _, f := range c.Flags {
		if r.IntN(3) == 0 {
			if f.Value {
				parts = append(parts, "--"+f.Name, hostileTokens[r.IntN(len(hostileTokens))])
			} else {
				parts = append(parts, "--"+f.Name)
			}
		}
	}
	if r.IntN(4) == 0 { // free text, possibly long
		parts = append(parts, g.randomText(r.IntN(450)))
	}
	return strings.Join(parts, " ")
}

// randomText is n random bytes from a mix of printable ASCII, multi-byte runes, control and format codes,
// and invalid UTF-8 (never LF, which would end the line on the client side).
func (g *hostileGen) randomText(n int) string {
	r := g.r
	var b strings.Builder
	for b.Len() < n {
		switch r.IntN(10) {
		case 0:
			b.WriteByte(byte(r.IntN(32))) // control codes, NUL and CR included
		case 1:
			b.WriteByte(byte(0x80 + r.IntN(128))) // stray continuation and lead bytes
		case 2:
			b.WriteString([]string{"é", "😀", "\u200b", "\u202e", "\u2067", "\ufeff", "\U000E0041", "ß", "\u0301"}[r.IntN(9)])
		default:
			b.WriteByte(byte(0x20 + r.IntN(95)))
		}
	}
	return strings.ReplaceAll(b.String(), "\n", " ")
}

// overlong is a command far beyond one IRC line.
func (g *hostileGen) overlong() string {
	word := []string{"x", "é", "😀", "!op", "... ", "a\x02b"}[g.r.IntN(6)]
	return []string{"request open ", "page ", "incident declare sev1 svc ", "deploy lock all ", "help "}[g.r.IntN(5)] +
		strings.Repeat(word+" ", 100+g.r.IntN(400))
}

// ctcp is a CTCP request or reply, as a PRIVMSG or a NOTICE.
func (g *hostileGen) ctcp(target string) string {
	body := []string{"\x01VERSION\x01", "\x01PING 12345\x01", "\x01TIME\x01", "\x01CLIENTINFO\x01", "\x01FINGER\x01",
		"\x01ACTION !status\x01", "\x01DCC SEND x 0 0 0\x01", "\x01VERSION", "\x01\x01", "\x01FOO " + g.randomText(50) + "\x01"}[g.r.IntN(10)]
	if g.r.IntN(4) == 0 {
		return "NOTICE " + target + " :" + body
	}
	return "PRIVMSG " + target + " :" + body
}

// decorated sprinkles formatting, control and bidi codes into a command.
func (g *hostileGen) decorated(cmd string) string {
	codes := []string{"\x02", "\x03", "\x0304", "\x0304,01", "\x0f", "\x16", "\x1d", "\x1f", "\x11", "\x1e", "\u202e", "\u202d", "\u2066",
		"\u200b", "\u200d", "\ufeff", "\x01", "\x7f", "\x00", "\r", "\t"}
	var b strings.Builder
	for _, r := range cmd {
		if g.r.IntN(4) == 0 {
			b.WriteString(codes[g.r.IntN(len(codes))])
		}
		b.WriteRune(r)
	}
	return b.String()
}

// crafted is one of hostileCrafted.
func (g *hostileGen) crafted() string { return hostileCrafted[g.r.IntN(len(hostileCrafted))] }

// hostileCrafted are inputs aimed at known weak spots: replies that echo user text at a line start or at a
// split point, injected commands, huge numbers, bad schedules, other channels.
var hostileCrafted = func() []string {
	long := func(unit string) string { return strings.Repeat(unit, 400/len(unit)) }
	return []string{
		"request open " + long("!op "),
		"request open " + long("... "),
		"request open " + long(". "),
		"request open " + long("/quit "),
		"request open !op me",
		"request open x\rQUIT :pwned",
		"request open x\x00PRIVMSG #operations :injected",
		"request comment R-1 " + long("!op "),
		"request show R-99999999999999999999",
		"request show R-18446744073709551615",
		"request take 18446744073709551616",
		"request list all --page 99999999999999999999",
		"page " + long("!op "),
		"page resolve P-99999999999999999999",
		"ack P-0",
		"incident declare sev1 playlist " + long("!op "),
		"incident show INC-99999999999999999999",
		"deploy start " + strings.Repeat("s", 64) + " " + strings.Repeat("9", 64) + " --sites=" + strings.Repeat("a,", 200),
		"deploy lock all " + long("!op "),
		"deploy history playlist 99999999999999999999",
		"oncall override alice 99999999999w",
		"oncall take 0s",
		`remind add evil "0 9 * * MON" !op me --channel #operations`,
		`remind add evil2 "0 9 * * MON" x --channel "#evil,#operations"`,
		`remind add ` + strings.Repeat("n", 40) + ` "0 9 * * MON" x`,
		`remind add tz "CRON_TZ=Europe/Stockholm TZ=UTC 0 9 * * *" x`,
		"remind show " + long("r"),
		"service add !op",
		"service add -x --notes " + long("!op "),
		"service set playlist --notes \"" + long("!op ") + "\"",
		"availability playlist 99999999999d",
		"availability playlist -1d",
		"audit 99999999999999999999",
		"audit -5",
		"help " + long("!op "),
		"status " + long("x "),
		"board " + long("!op "),
		strings.Repeat("\"", 500),
		strings.Repeat("--", 300),
		"request list all",
		"deploy status",
		"remind list",
		"incident list all",
	}
}()

// chatter is ordinary channel talk, sometimes mentioning the bot without addressing it.
func (g *hostileGen) chatter() string {
	return []string{"hello", "opsbot is slow today", "! not a command", "!", "!!status", "opsbot:", "opsbot: ", "lol " + g.randomText(20)}[g.r.IntN(8)]
}
