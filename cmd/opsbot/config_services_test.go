package main

import (
	"strings"
	"testing"
)

func TestConfigServicesValidation(t *testing.T) {
	for _, tt := range []struct{ toml, want string }{
		{"[[services]]\nname = \"a\"\ndepends = [\"a\"]\n", "services a: depends on itself"},
		{"[[services]]\nname = \"a\"\nowner = \"two words\"\n", `services[0] a: owner "two words": an account or team name`},
		{"[[services]]\nname = \"a\"\nowner = \"team-search\"\n[[services]]\nname = \"b\"\ndepends = [\"a\"]\n", ""},
		{"[[services]]\nname = \"a\"\nslo = nan\n", "services[0] a: slo NaN must be a percentage"},
		{"[[services]]\nname = \"a\"\nslo = 100\n", "services[0] a: slo 100 must be a percentage"},
	} {
		_, err := ParseConfig([]byte(tt.toml), "t.toml", nil)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("ParseConfig(%q) = %v, want no error", tt.toml, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("ParseConfig(%q) = %v, want an error containing %q", tt.toml, err, tt.want)
		}
	}
	cfg, err := ParseConfig([]byte("[[services]]\nname = \"storage\"\n[[services]]\nname = \"playlist\"\nowner = \"bob\"\ndepends = [\"storage\"]\nslo = 99.9\nnotes = \"n\"\npublic = true\n"), "t.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	seeds := serviceSeeds(cfg.Services)
	if len(seeds) != 2 || seeds[1].Name != "playlist" || seeds[1].Owner != "bob" || seeds[1].Depends[0] != "storage" || seeds[1].SLO != 99.9 || seeds[1].Notes != "n" || !seeds[1].Public || seeds[0].Public {
		t.Errorf("serviceSeeds = %+v", seeds)
	}
}
