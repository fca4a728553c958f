package web

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// The public page tells outsiders what they need and nothing internal: public services only, states from
// open incidents, and only the updates written for them.
func TestStatusPageShowsOnlyWhatIsPublic(t *testing.T) {
	h := newHarness(t, Config{PublicStatus: true}) // no session, no loopback trust: the public sees it anyway
	resp, body := h.get("/status")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /status = %d", resp.StatusCode)
	}
	for _, want := range []string{"Partial outage", `id="svc-search"`, `id="svc-web"`, `id="svc-auth"`, "Under maintenance",
		"Maintenance of auth", "Maintenance of playlist",
		"Search is slow for some users and some searches time out.", "Partial outage of search, web", "Logins work again."} {
		if !strings.Contains(body, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	for _, secret := range []string{"alice", "carol", "bob", "dave", "erin", "GC pauses", "search p99 latency", "health check",
		"token signing keys", "Postgres 16",
		`id="svc-storage"`, `id="svc-billing"`, `id="svc-radio"`, `id="svc-cache"`, "INC-10 SEV2", "commander"} {
		if strings.Contains(body, secret) {
			t.Errorf("status page shows %q", secret)
		}
	}
	if got := resp.Header.Get("Cache-Control"); !strings.Contains(got, "public") {
		t.Errorf("Cache-Control = %q", got)
	}
}

func TestStatusSummaryHasStatuspageShape(t *testing.T) {
	h := newHarness(t, Config{PublicStatus: true, BaseURL: "https://opsbot.example.net"})
	resp, body := h.get("/status/summary.json")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /status/summary.json = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var doc struct {
		Page struct {
			ID, Name, URL, TimeZone string
			UpdatedAt               time.Time `json:"updated_at"`
		}
		Components []struct {
			ID, Name, Status string
			Position         int
			PageID           string `json:"page_id"`
		}
		Incidents []struct {
			ID, Name, Status, Impact, Shortlink string
			IncidentUpdates                     []struct {
				Body, Status string
				IncidentID   string    `json:"incident_id"`
				DisplayAt    time.Time `json:"display_at"`
			} `json:"incident_updates"`
			Components []struct{ ID, Name, Status string }
		}
		ScheduledMaintenances []any `json:"scheduled_maintenances"`
		Status                struct{ Indicator, Description string }
	}
	dec := json.NewDecoder(strings.NewReader(body))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("summary.json: %v\n%s", err, body)
	}
	var names []string
	state := map[string]string{}
	for _, c := range doc.Components {
		names = append(names, c.Name)
		state[c.Name] = c.Status
	}
	if want := []string{"auth", "mobile-api", "playlist", "search", "web"}; !slices.Equal(names, want) {
		t.Errorf("components = %q, want the public services %q", names, want)
	}
	if state["search"] != "partial_outage" || state["auth"] != "under_maintenance" || state["playlist"] != "operational" {
		t.Errorf("component states = %v", state)
	}
	if doc.Page.URL != "https://opsbot.example.net/status" || doc.Status.Indicator != "major" || doc.Status.Description != "Partial outage" {
		t.Errorf("page = %+v, status = %+v", doc.Page, doc.Status)
	}
	if len(doc.Incidents) != 1 {
		t.Fatalf("incidents = %+v, want the one unresolved", doc.Incidents)
	}
	inc := doc.Incidents[0]
	if inc.ID != "INC-10" || inc.Status != "identified" || inc.Impact != "major" || len(inc.IncidentUpdates) != 1 ||
		!strings.HasPrefix(inc.IncidentUpdates[0].Body, "Search is slow") || len(inc.Components) != 2 {
		t.Errorf("incident = %+v", inc)
	}
	if len(doc.ScheduledMaintenances) != 2 {
		t.Errorf("scheduled_maintenances = %+v, want auth's in progress and playlist's planned", doc.ScheduledMaintenances)
	}
	if strings.Contains(body, "token signing keys") || strings.Contains(body, "Postgres 16") {
		t.Error("summary.json shows a maintenance window's reason, written for the team")
	}
	for _, secret := range []string{"carol", "GC pauses", "p99"} {
		if strings.Contains(body, secret) {
			t.Errorf("summary.json shows %q", secret)
		}
	}
}

func TestStatusFeedIsAtom(t *testing.T) {
	h := newHarness(t, Config{PublicStatus: true, BaseURL: "https://opsbot.example.net"})
	resp, body := h.get("/status/history.atom")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/atom+xml") {
		t.Fatalf("GET /status/history.atom = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var feed struct {
		XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
		ID      string   `xml:"id"`
		Updated string   `xml:"updated"`
		Entries []struct {
			ID      string `xml:"id"`
			Title   string `xml:"title"`
			Updated string `xml:"updated"`
			Content string `xml:"content"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal([]byte(body), &feed); err != nil {
		t.Fatalf("feed: %v\n%s", err, body)
	}
	if feed.ID == "" || len(feed.Entries) < 3 {
		t.Fatalf("feed = %+v", feed)
	}
	ids := map[string]bool{}
	for _, e := range feed.Entries {
		if _, err := time.Parse(time.RFC3339, e.Updated); err != nil || e.ID == "" || ids[e.ID] {
			t.Errorf("entry %+v: bad or repeated id, or updated %v", e, err)
		}
		ids[e.ID] = true
	}
	if !strings.Contains(body, "Playback and radio are unavailable") || strings.Contains(body, "quorum") {
		t.Errorf("feed: want the public updates of the storage outage and none of its internal notes")
	}
}
