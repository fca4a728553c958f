package seed

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/opsbot/opsbot/store"
)

// Three hundredths of a year of history goes in without errors, at about the rates promised, and is repeatable.
func TestRunWritesTheRates(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "seed.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	end := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	n, err := Run(st, Config{Years: 0.03, End: end, Seed: 1,
		Jobs: Jobs{AuditRetention: 3 * 24 * time.Hour, DeliveryRetention: 2 * 24 * time.Hour, AckResolveAfter: 24 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", n)
	near := func(what string, got int, want float64) {
		if float64(got) < want*0.7 || float64(got) > want*1.3 {
			t.Errorf("%s: %d, want about %.0f", what, got, want)
		}
	}
	near("requests", n.Requests, RequestsPerYear*0.03)
	near("incidents", n.Incidents, IncidentsPerYear*0.03)
	near("deploys", n.Deploys, DeploysPerYear*0.03)
	near("pages", n.Pages, PagesPerYear*0.03)
	near("audit", n.Audit, AuditPerYear*0.03)
	if got, err := st.AuditLog(1); err != nil || len(got) != 1 || got[0].ID != uint64(n.Audit) { // (ids count on)
		t.Errorf("audit log's newest entry %+v, %v; want id %d", got, err, n.Audit)
	}
	if n.Refused > n.Writes/20 {
		t.Errorf("%d of %d writes refused", n.Refused, n.Writes)
	}
	// The daily housekeeping ran: no audit entry older than the retention (and a day), no page acked more
	// than a day (and a day) ago still open.
	log, err := st.AuditLog(1_000_000)
	if err != nil || len(log) == 0 || log[len(log)-1].At.Before(end.Add(-4*24*time.Hour)) {
		t.Errorf("oldest audit entry of %d: %v (%v); want none older than 4 days", len(log), log[len(log)-1].At, err)
	}
	open, err := st.OpenPages()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range open {
		if p.State == store.PageAcked && p.AckedAt.Before(end.Add(-48*time.Hour)) {
			t.Errorf("P-%d acked at %v is still open", p.ID, p.AckedAt)
		}
	}
}
