package bot

import "testing"

func TestSanitizeOutKeepsNoHighlight(t *testing.T) {
	for in, want := range map[string]string{
		"INC-1 by " + NoHighlight("alice") + ": x": "INC-1 by a\u200blice: x",
		"a\x02b\x03" + "04c\u202e d\r\ne":          "abc d  e",
		"\u200b!op":                                "\u200b!op",
	} {
		if got := sanitizeOut(in); got != want {
			t.Errorf("sanitizeOut(%q) = %q, want %q", in, got, want)
		}
	}
}
