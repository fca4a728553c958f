package store

import (
	"fmt"
	"testing"
	"time"
)

// PruneAudit deletes the entries older than the cutoff, oldest first, a batch at a time, and leaves the rest.
func TestPruneAudit(t *testing.T) {
	s := mustOpen(t)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 50 {
		if _, err := s.Audit(AuditEntry{At: t0.Add(time.Duration(i) * 24 * time.Hour), Account: "alice", Command: "request take", Args: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	cutoff := t0.Add(30 * 24 * time.Hour) // entries 0..29 are older
	var got []int
	for {
		n, err := s.PruneAudit(cutoff, 7)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, n)
		if n < 7 {
			break
		}
	}
	if fmt.Sprint(got) != "[7 7 7 7 2]" {
		t.Errorf("batches pruned %v, want [7 7 7 7 2]", got)
	}
	log, err := s.AuditLog(100)
	if err != nil || len(log) != 20 || log[len(log)-1].Args != "30" || log[0].Args != "49" {
		t.Fatalf("audit log after pruning: %d entries (%v), want 49 down to 30", len(log), err)
	}
}

// PruneDeliveries sweeps the delivery ids a batch at a time and deletes those recorded before the cutoff:
// a redelivery of a pruned id counts as new, one of a kept id is still a duplicate.
func TestPruneDeliveries(t *testing.T) {
	s := openDeployStore(t) // the clock advances a minute per call
	for i := range 40 {
		e := DeployEvent{Status: DeployStarted, Service: fmt.Sprintf("svc%02d", i), Version: "1", By: "ci", Source: "webhook",
			Force: true, Delivery: fmt.Sprintf("d%02d", (i*7)%40)} // ids in no time order
		if _, err := s.ApplyDeploy(e); err != nil {
			t.Fatal(err)
		}
	}
	cutoff := s.Now().Add(-20*time.Minute - 30*time.Second) // the first 20 deliveries are older
	total, sweeps := 0, 0
	for more := true; more; sweeps++ {
		n, m, err := s.PruneDeliveries(cutoff, 6)
		if err != nil {
			t.Fatal(err)
		}
		total, more = total+n, m
	}
	if total != 20 || sweeps != 7 {
		t.Errorf("pruned %d in %d calls, want 20 in 7 (40 ids, 6 a call)", total, sweeps)
	}
	redeliver := func(i int) bool {
		r, err := s.ApplyDeploy(DeployEvent{Status: DeployProgress, Service: fmt.Sprintf("svc%02d", i), Version: "1", Percent: 50,
			By: "ci", Source: "webhook", Delivery: fmt.Sprintf("d%02d", (i*7)%40)})
		if err != nil {
			t.Fatal(err)
		}
		return r.Duplicate
	}
	if redeliver(3) {
		t.Error("a pruned delivery id is still known")
	}
	if !redeliver(33) {
		t.Error("a recent delivery id was pruned")
	}
	if n, more, err := s.PruneDeliveries(cutoff, 100); err != nil || n != 0 || more {
		t.Errorf("a second sweep pruned %d (more %v, %v), want nothing", n, more, err)
	}
}
