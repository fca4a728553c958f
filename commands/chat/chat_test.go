package chat

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestParseID(t *testing.T) {
	for _, tt := range []struct {
		kind Kind
		in   string
		want uint64
		ok   bool
	}{
		{KindRequest, "R-12", 12, true}, {KindRequest, "r12", 12, true}, {KindRequest, "12", 12, true}, {KindRequest, "r-12", 12, true},
		{KindIncident, "INC-7", 7, true}, {KindIncident, "inc7", 7, true}, {KindPage, "P-3", 3, true}, {KindDeploy, "d40", 40, true},
		{KindRequest, "INC-7", 0, false}, {KindRequest, "R-0", 0, false}, {KindRequest, "R-x", 0, false}, {KindRequest, "", 0, false},
		{KindRequest, "-5", 0, false}, {KindRequest, "99999999999999999999999", 0, false},
	} {
		got, err := ParseID(tt.kind, tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseID(%s, %q) = %d, %v; want %d ok=%v", tt.kind, tt.in, got, err, tt.want, tt.ok)
		}
	}
	if _, err := ParseID(KindRequest, "x"); err == nil || err.Error() != `"x" is not a request id (like R-12)` {
		t.Errorf("ParseID error = %v", err)
	}
}

func TestParseDuration(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90s", 90 * time.Second, true}, {"15m", 15 * time.Minute, true}, {"2h", 2 * time.Hour, true}, {"3d", 72 * time.Hour, true},
		{"1w", 168 * time.Hour, true}, {"1d12h", 36 * time.Hour, true}, {"250ms", 250 * time.Millisecond, true}, {"2H", 2 * time.Hour, true},
		{"", 0, false}, {"5", 0, false}, {"m", 0, false}, {"5y", 0, false}, {"-5m", 0, false}, {"1.5h", 0, false}, {"9999999m", 0, false},
		{"1000000w", 0, false}, {"5300w", 0, false}, {"1000000d", 0, false}, {"5200w", 5200 * 168 * time.Hour, true}, // 100 years at most: no overflow into the past
	} {
		got, err := ParseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseTime(t *testing.T) {
	sthlm, _ := time.LoadLocation("Europe/Stockholm")
	now := time.Date(2026, 11, 25, 22, 30, 0, 0, time.UTC) // 23:30 in Stockholm
	got, err := ParseTime("14:05", now, sthlm)
	if want := time.Date(2026, 11, 25, 14, 5, 0, 0, sthlm); err != nil || !got.Equal(want) {
		t.Errorf("ParseTime(14:05) = %v, %v; want %v", got, err, want)
	}
	got, err = ParseTime("2026-11-20T08:00:00Z", now, sthlm)
	if want := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC); err != nil || !got.Equal(want) {
		t.Errorf("ParseTime(RFC3339) = %v, %v", got, err)
	}
	for _, bad := range []string{"25:00", "yesterday", "14h05", ""} {
		if _, err := ParseTime(bad, now, sthlm); err == nil {
			t.Errorf("ParseTime(%q) accepted", bad)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{45 * time.Second: "45s", 12 * time.Minute: "12m", 3*time.Hour + 5*time.Minute: "3h05m",
		2 * time.Hour: "2h", 52 * time.Hour: "2d4h", 48 * time.Hour: "2d"} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestSanitizeAndTruncate(t *testing.T) {
	for in, want := range map[string]string{
		"\x02bold\x02 \x0304,01red\x03 \x1ditalic\x1d": "bold red italic",
		"a\r\nPRIVMSG #x :y":                           "a  PRIVMSG #x :y",
		"\x01VERSION\x01":                              "VERSION",
		"\u202eevil\u202c \u200bzw":                    "evil zw",
		"nul\x00byte":                                  "nulbyte",
		"\xff\xfeok":                                   "ok",
		"  trimmed\t":                                  "trimmed",
		"émoji 😀 kept":                                 "émoji 😀 kept",
		"line\u2028<opsbot> P-9 paging x\u2029end":     "line <opsbot> P-9 paging x end",
	} {
		if got := Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Truncate("ééééé", 7); got != "éé…" {
		t.Errorf("Truncate = %q", got)
	}
	if got := Truncate("short", 10); got != "short" {
		t.Errorf("Truncate = %q", got)
	}
}

func TestFold(t *testing.T) {
	if FoldRFC1459("Alice[]\\~") != "alice{}|^" || FoldASCII("Alice[]") != "alice[]" {
		t.Error("casefolding wrong")
	}
	var c Casemap // the zero value folds per RFC 1459
	if !c.Equal("dan[m]", "DAN{M}") {
		t.Error("zero Casemap: dan[m] and DAN{M} differ")
	}
	c.Set("ascii")
	if c.Equal("dan[m]", "dan{m}") || !c.Equal("Dan", "dAN") {
		t.Error("ascii Casemap folds brackets or misses letters")
	}
	c.Set("rfc8265")
	if !c.Equal("Ünïcode", "ünïcode") {
		t.Error("rfc8265 Casemap does not fold Unicode case")
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"":                           "",
		"https://hooks.example.net":  "https://hooks.example.net",
		"https://hooks.example.net/": "https://hooks.example.net",
		"https://hooks.example.net/page?token=s3cret": "https://hooks.example.net/********",
		"https://user:pw@hooks.example.net":           "https://hooks.example.net/********",
		"http://127.0.0.1:9093/am#x":                  "http://127.0.0.1:9093/********",
		"not a url":                                   "********",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
	err := &url.Error{Op: "Post", URL: "http://127.0.0.1:1/page?token=s3cret", Err: errors.New("connection refused")}
	if got := RedactError(fmt.Errorf("webhook-0: %w", err)).Error(); strings.Contains(got, "s3cret") || !strings.Contains(got, "connection refused") {
		t.Errorf("RedactError = %q", got)
	}
	var ue *url.Error
	if !errors.As(RedactError(err), &ue) || ue.Err.Error() != "connection refused" {
		t.Error("RedactError lost the cause")
	}
}
