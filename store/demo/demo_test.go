package demo

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/opsbot/opsbot/store"
)

func TestSeedFillsEveryPart(t *testing.T) {
	for _, now := range []time.Time{
		time.Date(2026, 3, 12, 14, 0, 0, 0, time.UTC), // a Thursday afternoon
		time.Date(2026, 3, 8, 23, 20, 0, 0, time.UTC), // just after midnight on a Monday in Stockholm
		time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC), // the morning summer time starts
	} {
		t.Run(now.Format(time.RFC3339), func(t *testing.T) { testSeed(t, now) })
	}
}

func testSeed(t *testing.T, now time.Time) {
	st, err := store.Open(filepath.Join(t.TempDir(), "demo.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := Seed(st, now); err != nil {
		t.Fatal(err)
	}
	if ok, err := Seeded(st); !ok || err != nil {
		t.Fatalf("Seeded = %v, %v", ok, err)
	}
	l := now.In(Rotation().Location)
	monday := time.Date(l.Year(), l.Month(), l.Day()-(int(l.Weekday())+6)%7, 0, 0, 0, 0, l.Location())
	bd, err := st.RequestBoard(3, monday)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range store.OpenRequestStates {
		if bd.Counts[s] == 0 {
			t.Errorf("no request in %s", s)
		}
	}
	if bd.DoneSince == 0 {
		t.Error("nothing done this week")
	}
	open, err := st.OpenIncidentList()
	if err != nil || len(open) != 1 || open[0].Page == "" {
		t.Errorf("open incidents = %+v, %v; want one, paged", open, err)
	}
	all, _, err := st.FindIncidents(store.IncidentQuery{Since: now.AddDate(0, 0, -90)})
	if err != nil || len(all) < 8 {
		t.Errorf("%d incidents in 90 days, %v", len(all), err)
	}
	active, locks, err := st.DeployOverview()
	if err != nil || len(active) != 1 || len(locks) != 2 {
		t.Errorf("deploys: %d in progress, %d locks, %v; want 1 and 2 (search's rollback, storage)", len(active), len(locks), err)
	}
	hist, err := st.DeployHistory("search", 10)
	if err != nil || len(hist) == 0 || hist[0].State != store.DeployRolledBack {
		t.Errorf("search's newest deploy = %+v, %v; want a rollback", hist, err)
	}
	oc, err := st.OnCallNow(Rotation(), now)
	if err != nil || oc.Override == nil || oc.Account != "bob" {
		t.Errorf("on call now = %+v, %v; want bob's override", oc, err)
	}
	if _, ok, err := st.ActiveWindow("auth", now); !ok || err != nil {
		t.Errorf("no maintenance in progress on auth: %v", err)
	}
	if firing, err := st.FiringAlertGroups(); err != nil || len(firing) != 2 {
		t.Errorf("firing alert groups = %d, %v; want 2", len(firing), err)
	}
	if st.Now().Sub(time.Now()) > time.Minute {
		t.Error("Seed left the store's clock turned")
	}
}
