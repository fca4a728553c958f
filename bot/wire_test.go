package bot

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/opsbot/opsbot/commands/chat"
)

func TestSplitText(t *testing.T) {
	long := strings.Repeat("déploiement 😀 ", 200)
	for _, max := range []int{4, 10, 57, 400} {
		parts := splitText(long, max)
		var rebuilt []string
		for _, p := range parts {
			if len(p) > max {
				t.Fatalf("splitText(max %d): piece of %d bytes", max, len(p))
			}
			if !utf8.ValidString(p) || p == "" {
				t.Fatalf("splitText(max %d): bad piece %q", max, p)
			}
			rebuilt = append(rebuilt, p)
		}
		// Cuts fall at spaces where possible (the space is dropped) or inside a long word: no other byte is lost.
		if noSpace(strings.Join(rebuilt, "")) != noSpace(long) {
			t.Fatalf("splitText(max %d) lost text", max)
		}
	}
	if got := splitText("", 10); len(got) != 0 {
		t.Errorf("splitText(\"\") = %q", got)
	}
	if got := splitText("one two three", 400); len(got) != 1 {
		t.Errorf("short text split into %q", got)
	}
}

func TestTextBudgetKeepsWireLinesUnder512(t *testing.T) {
	for _, target := range []string{"#operations", "#" + strings.Repeat("x", 49), "nick"} {
		b := textBudget("PRIVMSG", target)
		// The relayed line: ":" + 63-byte nick!user@host + " PRIVMSG " + target + " :" + text + CRLF
		wire := 1 + 63 + len(" PRIVMSG ") + len(target) + 2 + b + 2
		if wire > MaxLineBytes || b <= 0 {
			t.Errorf("textBudget(%s) = %d gives a %d-byte line", target, b, wire)
		}
	}
}

func TestDefuseAndNoHighlight(t *testing.T) {
	for in, want := range map[string]string{
		"!op x": zwsp + "!op x", ".kick y": zwsp + ".kick y", "/quit": zwsp + "/quit",
		"R-1 ok": "R-1 ok", "... and 3 more (ask in private)": "... and 3 more (ask in private)", "": "",
		"... and 12 more (https://ops.example/board)": "... and 12 more (https://ops.example/board)",
		// User text that a split put at the start of a line.
		"... ... [todo]": zwsp + "... ... [todo]", "... and then !op me": zwsp + "... and then !op me", "...": zwsp + "...",
	} {
		if got := defuse(in, "!"); got != want {
			t.Errorf("defuse(%q) = %q, want %q", in, got, want)
		}
	}
	if got := defuse("~x", "~"); got != zwsp+"~x" {
		t.Errorf("custom prefix not defused: %q", got)
	}
	if got := chat.NoHighlight("alice"); got != "a"+zwsp+"lice" {
		t.Errorf("NoHighlight = %q", got)
	}
	if got := chat.NoHighlight("é"); got != "é" {
		t.Errorf("NoHighlight single rune = %q", got)
	}
}

func TestIsCTCP(t *testing.T) {
	for line, want := range map[string]bool{
		"NOTICE bob :\x01VERSION opsbot\x01\r\n":  true,
		"PRIVMSG bob :\x01ACTION waves\x01\r\n":   true,
		"@tag=1 :me NOTICE bob :\x01PING 1\x01\n": true,
		"PRIVMSG #ops :R-1 opened\r\n":            false,
		"PRIVMSG #ops :\r\n":                      false,
		"JOIN #ops\r\n":                           false,
		"PRIVMSG #ops hello\x01\r\n":              false,
	} {
		if got := isCTCP([]byte(line)); got != want {
			t.Errorf("isCTCP(%q) = %v, want %v", line, got, want)
		}
	}
}

func noSpace(s string) string { return strings.ReplaceAll(s, " ", "") }

func TestWireCleanKeepsWhatPeopleSee(t *testing.T) {
	for in, want := range map[string]string{
		"a\r\nPRIVMSG #x :y":                  "a  PRIVMSG #x :y",
		"\x01VERSION\x01":                     "VERSION",
		"nul\x00byte":                         "nulbyte",
		"\x02INC-7\x02 SEV1":                  "\x02INC-7\x02 SEV1",
		"paging " + chat.NoHighlight("alice"): "paging a\u200blice",
		"bad \xff utf8":                       "bad  utf8",
	} {
		if got := wireClean(in); got != want {
			t.Errorf("wireClean(%q) = %q, want %q", in, got, want)
		}
	}
}
