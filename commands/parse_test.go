package commands

import (
	"errors"
	"testing"

	"github.com/opsbot/opsbot/commands/chat"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{"", nil, false},
		{"  a  b\tc ", []string{"a", "b", "c"}, false},
		{`a "two words" b`, []string{"a", "two words", "b"}, false},
		{`say ""`, []string{"say", ""}, false},
		{`x"y z"w`, []string{"xy zw"}, false},
		{`"a \"quoted\" word"`, []string{`a "quoted" word`}, false},
		{`"back\\slash"`, []string{`back\slash`}, false},
		{`"open`, nil, true},
	}
	for _, tt := range tests {
		got, err := Tokenize(tt.in)
		if (err != nil) != tt.err || !equal(got, tt.want) {
			t.Errorf("Tokenize(%q) = %q, %v; want %q, err %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseIDIsAUserError(t *testing.T) {
	if id, err := parseID(chat.KindRequest, "r12"); err != nil || id != 12 {
		t.Errorf("parseID(R, r12) = %d, %v; want 12", id, err)
	}
	var ue *UserError
	if _, err := parseID(chat.KindRequest, "x"); !errors.As(err, &ue) || ue.Msg != `error: "x" is not a request id (like R-12)` {
		t.Errorf("parseID(R, x) error = %#v, want the user error naming the form", err)
	}
}

func TestRolesFollowTheNetworksCasemapping(t *testing.T) {
	names := &chat.Casemap{}
	r := NewRoles(nil, []string{"Ali[ce]"}, names)
	if r.Of(Caller{Account: "ali{CE}"}) != RoleOps {
		t.Error("rfc1459 casefolded ops account not recognised")
	}
	names.Set("ascii")
	if r.Of(Caller{Account: "ali{CE}"}) != RoleDeveloper {
		t.Error("ascii casemapping must not fold brackets")
	}
	if r.Of(Caller{Account: "ALI[ce]"}) != RoleOps {
		t.Error("ascii casemapping must still fold letters")
	}
}
