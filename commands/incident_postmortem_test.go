package commands

import (
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/store"
)

func TestRenderPostmortem(t *testing.T) {
	start := time.Date(2026, 3, 10, 11, 45, 0, 0, time.UTC)
	inc := store.Incident{ID: 7, Severity: 2, Service: "playlist", Affects: []string{"search"}, Summary: "500s on play",
		Status: store.IncidentResolved, Commander: "carol", DeclaredBy: "alice", Declared: start.Add(15 * time.Minute),
		Start: start, End: start.Add(65 * time.Minute), Page: "P-3"}
	tl := []store.TimelineEntry{{At: start.Add(15 * time.Minute), Author: "alice", Text: "declared SEV2 on playlist: 500s on play"}}
	got := renderPostmortem(inc, tl, []string{"playlist D-40 1.42 prod succeeded 10:05 by alice"}, []string{"playlist: search, radio"}, time.UTC, start.Add(2*time.Hour))
	for _, want := range []string{
		"# Postmortem: INC-7 SEV2 on playlist, search\n",
		"## Summary\n\n500s on play\n",
		"- Commander: carol\n- Declared: 2026-03-10 12:00 UTC by alice\n- Paged: P-3\n",
		"## Impact window\n\n- Start: 2026-03-10 11:45 UTC\n- End: 2026-03-10 12:50 UTC\n- Duration: 1h05m\n",
		"## Timeline\n\n- 2026-03-10 12:00 UTC alice: declared SEV2 on playlist: 500s on play\n",
		"## Deploys to the affected services in the 24 h before\n\n- playlist D-40 1.42 prod succeeded 10:05 by alice\n",
		"## Dependents\n\n- playlist: search, radio\n",
		"## Causes\n\n\n## Actions\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("postmortem lacks %q:\n%s", want, got)
		}
	}
	inc.Status, inc.End = store.IncidentInvestigating, time.Time{}
	got = renderPostmortem(inc, nil, []string{}, nil, time.UTC, start.Add(2*time.Hour))
	for _, want := range []string{"- End: ongoing (2h so far)", "24 h before\n\nNone.\n", "## Dependents\n\nNo data.\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("open incident's postmortem lacks %q:\n%s", want, got)
		}
	}
}

// Text from people and webhooks reaches the Markdown escaped: no HTML, links, images or emphasis slip in.
func TestPostmortemEscapesMarkdown(t *testing.T) {
	start := time.Date(2026, 3, 10, 11, 45, 0, 0, time.UTC)
	inc := store.Incident{ID: 7, Severity: 2, Service: "playlist", Summary: "<script>alert(1)</script> [click](http://evil.example) **now**",
		Status: store.IncidentInvestigating, Commander: "c_a_r_o_l", DeclaredBy: "alice", Declared: start, Start: start}
	tl := []store.TimelineEntry{{At: start, Author: "ci", Text: "![pixel](http://evil.example/p.png) `rm -rf` # heading"},
		{At: start, Author: "bob", Text: "1. not a list"}}
	got := renderPostmortem(inc, tl, []string{"D-1 1.0 prod by <b>x</b>"}, nil, time.UTC, start)
	for _, bad := range []string{"<script>", "](http", "**now**", "![", "<b>", "\n1. not"} {
		if strings.Contains(got, bad) {
			t.Errorf("postmortem has %q unescaped:\n%s", bad, got)
		}
	}
	for _, want := range []string{`\<script\>alert\(1\)\</script\> \[click\]\(http://evil.example\) \*\*now\*\*`,
		"- Commander: c\\_a\\_r\\_o\\_l", "ci: \\!\\[pixel\\]", "\\`rm -rf\\` \\# heading", "bob: 1\\. not a list", "by \\<b\\>x\\</b\\>"} {
		if !strings.Contains(got, want) {
			t.Errorf("postmortem lacks %q:\n%s", want, got)
		}
	}
}
