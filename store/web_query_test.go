package store

import (
	"testing"
	"time"
)

func TestFindIncidents(t *testing.T) {
	s, clk := openIncidentStore(t)
	// INC-1..INC-6, one a day, alternating services and severities; INC-2 and INC-6 stay open.
	for i := 1; i <= 6; i++ {
		svc := []string{"playlist", "search"}[i%2]
		inc := mustDeclare(t, s, Incident{Severity: 1 + i%3, Service: svc, Summary: "x"})
		if i != 2 && i != 6 {
			if _, err := s.ResolveIncident(inc.ID, "alice", "", time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		clk.advance(24 * time.Hour)
	}
	ids := func(incs []Incident) []uint64 {
		var out []uint64
		for _, inc := range incs {
			out = append(out, inc.ID)
		}
		return out
	}
	for _, tt := range []struct {
		name string
		q    IncidentQuery
		want []uint64
		more bool
	}{
		{"all, newest first", IncidentQuery{}, []uint64{6, 5, 4, 3, 2, 1}, false},
		{"a page", IncidentQuery{Limit: 2}, []uint64{6, 5}, true},
		{"the next page", IncidentQuery{Limit: 2, Before: 5}, []uint64{4, 3}, true},
		{"open", IncidentQuery{Open: true}, []uint64{6, 2}, false},
		{"one service", IncidentQuery{Service: "search"}, []uint64{5, 3, 1}, false},
		{"one service, a page", IncidentQuery{Service: "playlist", Limit: 1, Before: 6}, []uint64{4}, true},
		{"severity", IncidentQuery{Severity: 1}, []uint64{6, 3}, false},
		{"since, open ones included", IncidentQuery{Since: clk.now.Add(-2*24*time.Hour - time.Hour)}, []uint64{6, 5}, false},
		{"since, one service", IncidentQuery{Service: "search", Since: clk.now.Add(-3*24*time.Hour - time.Hour)}, []uint64{5}, false},
		{"since keeps an old open one", IncidentQuery{Service: "playlist", Since: clk.now.Add(-time.Hour)}, []uint64{6, 2}, false},
	} {
		got, more, err := s.FindIncidents(tt.q)
		if err != nil {
			t.Fatal(err)
		}
		if g := ids(got); !equalIDs(g, tt.want) || more != tt.more {
			t.Errorf("%s: FindIncidents(%+v) = %v, more %v; want %v, more %v", tt.name, tt.q, g, more, tt.want, tt.more)
		}
	}
}

func equalIDs(a, b []uint64) bool {
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

func TestCurrentDeploys(t *testing.T) {
	s := mustOpen(t)
	for _, ev := range []DeployEvent{
		{Status: DeployStarted, Service: "playlist", Env: "staging", Version: "1.43", By: "bob"},
		{Status: DeploySucceeded, Service: "playlist", Env: "staging", Version: "1.43", By: "bob"},
		{Status: DeployStarted, Service: "playlist", Env: "prod", Version: "1.42", By: "bob"},
		{Status: DeploySucceeded, Service: "playlist", Env: "prod", Version: "1.42", By: "bob"},
		{Status: DeployStarted, Service: "search", Env: "prod", Version: "7", By: "dave"},
	} {
		if _, err := s.ApplyDeploy(ev); err != nil {
			t.Fatal(err)
		}
	}
	cur, err := s.CurrentDeploys()
	if err != nil {
		t.Fatal(err)
	}
	if p := cur["playlist"]; len(p) != 2 || p[0].Env != "prod" || p[0].Version != "1.42" || p[1].Version != "1.43" {
		t.Errorf("playlist = %+v, want prod 1.42 then staging 1.43", p)
	}
	if _, ok := cur["search"]; ok {
		t.Errorf("search has a current version before its first rollout succeeded: %+v", cur["search"])
	}
}
