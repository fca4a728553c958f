package commands

import "testing"

func TestSanitizeOutgoingKeepsNoHighlight(t *testing.T) {
	tests := []struct{ in, want string }{
		{"R-1 taken by " + NoHighlight("alice"), "R-1 taken by a\u200blice"},
		{"a\u200bb\u200d\u202ec\x01\r\nd", "a\u200bbc  d"}, // only the zero-width space survives
		{" \x02x\x02 ", "x"},
	}
	for _, tt := range tests {
		if got := SanitizeOutgoing(tt.in); got != tt.want {
			t.Errorf("SanitizeOutgoing(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := Sanitize("a\u200blice"); got != "alice" {
		t.Errorf("Sanitize(%q) = %q: input keeps dropping zero-width spaces", "a\u200blice", got)
	}
	if got := NoHighlight("x"); got != "x" {
		t.Errorf("NoHighlight(%q) = %q", "x", got)
	}
}
