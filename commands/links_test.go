package commands

import (
	"context"
	"strings"
	"testing"
)

// pageRecorder is a Replier that also records the page a command names (PageReplier).
type pageRecorder struct {
	Buffer
	page string
}

func (p *pageRecorder) Page(path string) { p.page = path }

// With web.base_url, a reply about one record ends with its page's URL, and a cut listing points to the
// page that lists it all.
func TestRepliesLinkToTheirPages(t *testing.T) {
	h := newServiceHarness(t, func(d *testDeps) { d.BaseURL = "https://opsbot.example.net/"; d.AsTheBot = true })
	for _, cmd := range []string{
		"service add storage --slo 99.95", "service add playlist --depends storage --public true",
		"request open disk full on db3", "incident declare sev2 playlist 500s on play",
	} {
		h.run("alice", false, cmd)
	}
	for i := range 78 { // enough dependents that !impact in a channel is cut
		h.run("alice", false, "service add svc-with-a-long-name-"+string(rune('a'+i%26))+string(rune('a'+i/26))+" --depends storage")
	}
	for _, tt := range []struct {
		cmd, suffix, page string
	}{
		{"request show R-1", " https://opsbot.example.net/requests/R-1", "/requests/R-1"},
		{"incident show INC-1", " https://opsbot.example.net/incidents/INC-1", "/incidents/INC-1"},
		{"service playlist", " https://opsbot.example.net/services/playlist", "/services/playlist"},
		{"availability playlist", " https://opsbot.example.net/availability?service=playlist", "/availability?service=playlist"},
		{"deploy status playlist", " https://opsbot.example.net/deploys?service=playlist", "/deploys?service=playlist"},
		{"board", "", "/board"},
	} {
		rec := &pageRecorder{}
		h.disp.Dispatch(context.Background(), Message{Caller: Caller{Account: "alice", Nick: "alice"}, Text: tt.cmd, Channel: "#operations"}, rec)
		if len(rec.Errors) > 0 || len(rec.Lines) == 0 {
			t.Errorf("!%s: %q %q", tt.cmd, rec.Lines, rec.Errors)
			continue
		}
		if tt.suffix != "" && !strings.HasSuffix(rec.Lines[0], tt.suffix) {
			t.Errorf("!%s: first line %q does not end with %q", tt.cmd, rec.Lines[0], tt.suffix)
		}
		if rec.page != tt.page {
			t.Errorf("!%s: page %q, want %q", tt.cmd, rec.page, tt.page)
		}
	}
	lines := h.run("alice", false, "impact storage").Lines
	if last := lines[len(lines)-1]; !strings.HasSuffix(last, "more (https://opsbot.example.net/services/storage)") {
		t.Errorf("!impact storage in a channel ends %q, want the service's page", last)
	}
	// Without web.base_url nothing changes.
	plain := newServiceHarness(t, nil)
	plain.run("alice", false, "service add storage")
	if got := plain.run("alice", false, "service storage").Lines[0]; strings.Contains(got, "http") {
		t.Errorf("without web.base_url: %q", got)
	}
}
