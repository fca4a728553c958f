package main

import (
	"strings"
	"testing"
	"time"
)

func TestConfigWeb(t *testing.T) {
	cfg, err := ParseConfig(nil, "empty.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	o, err := cfg.botOptions("test", nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.Web.SessionTTL != 30*24*time.Hour || !o.Web.TrustLoopback || o.Web.PublicStatus || o.Web.BaseURL != "" || o.BaseURL != "" {
		t.Errorf("defaults: web = %+v, base %q", o.Web, o.BaseURL)
	}
	for _, tt := range []struct{ toml, base, err string }{
		{"[web]\nbase_url = \"https://opsbot.example.net/\"\npublic_status = true\nsession_ttl = \"12h\"\ntrust_loopback = false\n", "https://opsbot.example.net", ""},
		{"[bot]\npublic_url = \"https://old.example.net\"\n", "https://old.example.net", ""}, // the alias
		{"[bot]\npublic_url = \"https://a.example.net\"\n[web]\nbase_url = \"https://a.example.net/\"\n", "https://a.example.net", ""},
		{"[bot]\npublic_url = \"https://a.example.net\"\n[web]\nbase_url = \"https://b.example.net\"\n", "", "bot.public_url is the old name of web.base_url"},
		{"[web]\nbase_url = \"opsbot.example.net\"\n", "", "web.base_url \"opsbot.example.net\": want an http or https URL"},
		{"[web]\nbase_url = \"https://example.net/opsbot\"\n", "", "a path (/opsbot) is not supported"},
		{"[web]\nsession_ttl = \"10s\"\n", "", "web.session_ttl 10s: between 1m and 366d"},
		{"[web]\npublic_status = true\n[http]\nlisten = \"\"\n", "", "http.listen is empty"},
	} {
		cfg, err := ParseConfig([]byte(tt.toml), "t.toml", nil)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseConfig(%q) = %v, want an error containing %q", tt.toml, err, tt.err)
			}
			continue
		case err != nil:
			t.Errorf("ParseConfig(%q) = %v", tt.toml, err)
			continue
		}
		o, err := cfg.botOptions("test", nil)
		if err != nil || o.BaseURL != tt.base || o.Web.BaseURL != tt.base {
			t.Errorf("%q: base %q / %q (%v), want %q", tt.toml, o.BaseURL, o.Web.BaseURL, err, tt.base)
		}
	}
	cfg, _ = ParseConfig([]byte("[web]\nbase_url = \"https://opsbot.example.net\"\npublic_status = true\nsession_ttl = \"12h\"\ntrust_loopback = false\n"), "t.toml", nil)
	o, _ = cfg.botOptions("test", nil)
	if !o.Web.PublicStatus || o.Web.TrustLoopback || o.Web.SessionTTL != 12*time.Hour {
		t.Errorf("web = %+v", o.Web)
	}
	if s := cfg.String(); !strings.Contains(s, "# note: http.api_token is empty and web.trust_loopback = false: the API (/api/v1/, the backup) answers nobody") {
		t.Errorf("check-config behind a proxy without an API token says nothing of the API:\n%s", s)
	}
}
