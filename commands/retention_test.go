package commands

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/opsbot/opsbot/store"
)

// The store retention job prunes the audit log past store.audit_retention (and none of it when zero).
func TestRetentionJobPrunesTheAuditLog(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "opsbot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 10 {
		if _, err := st.Audit(store.AuditEntry{At: now.Add(-time.Duration(10-i) * 24 * time.Hour), Account: "alice", Command: "request take", Args: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if jobs := NewCore(Runtime{}, st, CoreConfig{}).Family().Jobs; len(jobs) != 0 {
		t.Fatalf("jobs without retention: %+v", jobs)
	}
	jobs := NewCore(Runtime{}, st, CoreConfig{Retention: RetentionConfig{Audit: 4*24*time.Hour + time.Hour, Deliveries: time.Hour}}).Family().Jobs
	if len(jobs) != 1 || jobs[0].Name != "store retention" {
		t.Fatalf("jobs = %+v", jobs)
	}
	if err := jobs[0].Run(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	log, err := st.AuditLog(100)
	if err != nil || len(log) != 4 || log[3].Args != "6" {
		t.Fatalf("audit log after the job: %+v, %v; want the 4 newest days (6 to 9)", log, err)
	}
}
