package chat

import (
	"testing"
	"unicode"
	"unicode/utf8"
)

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"", "plain", "\x02bold\x02 \x0304,01red\x03", "a\r\nPRIVMSG #x :y", "\x01VERSION\x01", "\u202eevil\u202c", "\xff\xfe", "tab\there", "zero\u200bwidth", "a\u2028b\u2029c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Sanitize(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Sanitize(%q) = %q: invalid UTF-8", s, out)
		}
		for _, r := range out {
			if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || unicode.Is(unicode.Cf, r) || unicode.In(r, unicode.Zl, unicode.Zp) {
				t.Fatalf("Sanitize(%q) = %q: contains %U", s, out, r)
			}
		}
		if Sanitize(out) != out {
			t.Fatalf("Sanitize is not idempotent on %q: %q then %q", s, out, Sanitize(out))
		}
		if len(out) > len(s) {
			t.Fatalf("Sanitize(%q) grew to %q", s, out)
		}
	})
}
