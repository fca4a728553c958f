package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsbot/opsbot/store"

	"github.com/opsbot/opsbot/bot/irctest"
	"github.com/opsbot/opsbot/commands"
)

// e2ePager records pages instead of sending them.
type e2ePager struct {
	mu    sync.Mutex
	calls []string
}

func (p *e2ePager) PageOnCall(_ context.Context, by, service, text string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, fmt.Sprintf("%s/%s: %s", by, service, text))
	return fmt.Sprintf("P-%d", len(p.calls)), nil
}

func (p *e2ePager) pages() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}

// topicFrom matches a TOPIC change on #operations made by nick.
func topicFrom(nick string) func(irctest.Line) bool {
	return func(l irctest.Line) bool {
		return l.Msg.Command == "TOPIC" && strings.EqualFold(l.Msg.Nick(), nick) && len(l.Msg.Params) == 2
	}
}

func TestE2EIncidentLifecycleTopicFreezeAndPage(t *testing.T) {
	n := irctest.Start(t)
	// alice joins first and is channel operator of the +t channel; she sets a topic and gives the bot op.
	alice := joinedClient(t, n, "alice", true)
	alice.Send("TOPIC #operations :Welcome to ops")
	alice.Expect(wait, topicFrom("alice"))
	o := testOptions(t, n.Addr)
	pager := &e2ePager{}
	o.Pager = pager
	o.Incidents = commands.IncidentConfig{DeclareRole: "ops", PageOnSev: 2, FreezeOnSev: 2, Topic: true, TopicEvery: time.Second}
	o.Services.Seeds = []store.ServiceSeed{{Name: "playlist", Owner: "bob", SLO: 99.9}, {Name: "search", Depends: []string{"playlist"}}, {Name: "storage"}}
	rb := startBot(t, o)
	rb.waitJoined(t, "#operations")
	alice.Send("MODE #operations +o opsbot")
	alice.Expect(wait, func(l irctest.Line) bool { return l.Msg.Command == "MODE" && strings.HasSuffix(l.Raw, "opsbot") })
	bob := joinedClient(t, n, "bob", true)       // a developer
	watcher := joinedClient(t, n, "tina", false) // sees the topic changes

	// Refusal for a developer with the default role, and bad input: nothing is stored.
	bob.Say("#operations", "!incident declare sev1 playlist everything is down")
	if l := bob.Expect(wait, irctest.From("opsbot")); l.Text() != "bob: error: !incident declare needs the ops role (you are a developer)" {
		t.Fatalf("developer declare = %q", l.Text())
	}
	alice.Expect(wait, irctest.FromContaining("opsbot", "bob: error:")) // alice saw it too
	alice.Say("#operations", "!incident declare sev9 playlist down")
	if l := alice.Expect(wait, irctest.From("opsbot")); l.Text() != `alice: error: "sev9" is not a severity (sev1, sev2, sev3 or sev4)` {
		t.Fatalf("bad severity = %q", l.Text())
	}

	// A SEV1: declared, paged, deploys frozen, topic updated keeping the rest.
	alice.Say("#operations", "!incident declare sev1 playlist total outage --since 10m")
	l := alice.Expect(wait, irctest.FromContaining("opsbot", "INC-1"))
	if !strings.HasPrefix(l.Text(), "INC-1 declared SEV1 on playlist by a\u200blice: total outage. Commander: a\u200blice. Owner: b\u200bob. May affect: search. Impact since ") ||
		!strings.HasSuffix(l.Text(), ". Deploys of playlist frozen while open. Paged the on-call: P-1") {
		t.Fatalf("declare = %q", l.Text())
	}
	if got := pager.pages(); len(got) != 1 || got[0] != "alice/playlist: INC-1 SEV1 on playlist: total outage" {
		t.Errorf("pages = %q", got)
	}
	if why, err := rb.Store.FrozenBy("playlist"); why != "INC-1 SEV1 open" || err != nil {
		t.Errorf("FrozenBy(playlist) = %q, %v; want INC-1 SEV1 open", why, err)
	}
	if l := watcher.Expect(wait, topicFrom("opsbot")); l.Text() != "INC-1 SEV1 playlist investigating | Welcome to ops" {
		t.Fatalf("topic during the incident = %q", l.Text())
	}

	// Lifecycle: every change is answered and lands in the timeline.
	steps := []struct{ cmd, want string }{
		{"!incident status INC-1 identified", "INC-1 status: identified (was investigating)"},
		{"!incident update INC-1 rolled back", "INC-1 updated: rolled back"},
		{"!incident affects INC-1 search", "INC-1 now affects playlist, search. Deploys of search frozen while open"},
		{"!incident commander INC-1 carol", "INC-1 commander: carol (was a\u200blice)"},
		{"!incident list", "INC-1 SEV1 playlist,search identified for 10m: total outage (commander c\u200barol)"},
		{"!incident reopen INC-99", "alice: error: no incident INC-99"},
		{"!incident status INC-1 investigating x", "alice: usage: !incident status <INC-n> <investigating|identified|monitoring>"},
		{"!incident resolve INC-1 config fixed", "INC-1 resolved by a\u200blice after 10m (SEV1 on playlist, search): config fixed. INC-1 no longer freezes deploys of playlist, search"},
		{"!availability playlist 1h", "% over 1h, SLO 99.9%, 10m of 3s budget used (over budget)"},
		{"!incident show INC-1", "INC-1 SEV1 resolved on playlist, search: total outage. Impact "}, // last: several lines
	}
	for _, s := range steps {
		alice.Say("#operations", s.cmd)
		if l := alice.Expect(wait, irctest.From("opsbot")); !strings.Contains(l.Text(), s.want) {
			t.Fatalf("%s\n got %q\nwant %q", s.cmd, l.Text(), s.want)
		}
	}
	if why, _ := rb.Store.FrozenBy("search"); why != "" {
		t.Errorf("FrozenBy(search) after resolve = %q", why)
	}
	if l := watcher.Expect(wait, topicFrom("opsbot")); l.Text() != "Welcome to ops" {
		t.Fatalf("topic after the incident = %q, want the original", l.Text())
	}
	if tl, _ := rb.Store.IncidentTimeline(1, 0); len(tl) != 7 {
		t.Errorf("timeline has %d entries, want 7 (declared, paged, 5 changes)", len(tl))
	}

	// The HTTP views.
	base := "http://" + rb.HTTPAddr()
	code, body := httpGet(t, base+"/api/v1/incidents")
	var list struct {
		Incidents []struct {
			Name     string   `json:"name"`
			Status   string   `json:"status"`
			Services []string `json:"services"`
		} `json:"incidents"`
		Total int `json:"total"`
	}
	if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil || list.Total != 1 || list.Incidents[0].Name != "INC-1" || list.Incidents[0].Status != "resolved" {
		t.Errorf("GET /api/v1/incidents = %d %s (%v)", code, body, err)
	}
	code, body = httpGet(t, base+"/api/v1/incidents/INC-1")
	var one struct {
		Commander string `json:"commander"`
		Timeline  []struct {
			Author, Text string
		} `json:"timeline"`
	}
	if err := json.Unmarshal([]byte(body), &one); code != 200 || err != nil || one.Commander != "carol" || len(one.Timeline) != 7 {
		t.Errorf("GET /api/v1/incidents/INC-1 = %d %s (%v)", code, body, err)
	}
	code, body = httpGet(t, base+"/api/v1/availability?window=30d")
	var av struct {
		Window   string `json:"window"`
		Services []struct {
			Service      string  `json:"service"`
			Availability float64 `json:"availability"`
			Incidents    int     `json:"incidents"`
		} `json:"services"`
	}
	if err := json.Unmarshal([]byte(body), &av); code != 200 || err != nil || av.Window != "30d" || len(av.Services) != 2 || av.Services[0].Availability >= 100 {
		t.Errorf("GET /api/v1/availability?window=30d = %d %s (%v)", code, body, err)
	}
	if code, _ := httpGet(t, base+"/api/v1/availability?window=forever"); code != http.StatusBadRequest {
		t.Errorf("bad window: status %d, want 400", code)
	}
	code, body = httpGet(t, base+"/incidents/1/postmortem.md")
	for _, want := range []string{"# Postmortem: INC-1 SEV1 on playlist, search", "## Impact window", "## Timeline", "alice: declared SEV1 on playlist: total outage",
		"## Deploys to the affected services in the 24 h before\n\nNone.", "## Dependents\n\n- playlist: search", "## Causes", "## Actions"} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("postmortem (%d) lacks %q:\n%s", code, want, body)
		}
	}
	if code, _ := httpGet(t, base+"/incidents/99/postmortem.md"); code != http.StatusNotFound {
		t.Errorf("postmortem of an unknown incident: status %d, want 404", code)
	}
}
