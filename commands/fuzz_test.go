package commands

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"", "request open db is slow --urgent", `a "two words" b`, `"unterminated`, `"a\"b" c`, "--flag=v x", "\x00\"\\", "é \"ü\" 😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks, err := Tokenize(s)
		if err != nil {
			if strings.Count(s, `"`) == 0 {
				t.Fatalf("Tokenize(%q) failed without any quote: %v", s, err)
			}
			return
		}
		if !strings.Contains(s, `"`) && utf8.ValidString(s) {
			// Without quotes, tokenizing valid UTF-8 is splitting on blanks. (The dispatcher sanitises input to
			// valid UTF-8 before tokenizing; invalid bytes become U+FFFD.)
			want := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' })
			if strings.Join(toks, "\x00") != strings.Join(want, "\x00") {
				t.Fatalf("Tokenize(%q) = %q, want %q", s, toks, want)
			}
		}
		for _, tok := range toks {
			if utf8.ValidString(s) && !utf8.ValidString(tok) {
				t.Fatalf("Tokenize(%q) produced invalid UTF-8 %q", s, tok)
			}
		}
	})
}
