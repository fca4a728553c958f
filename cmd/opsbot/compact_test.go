package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/store"
)

// opsbot compact prunes what is past its retention, rewrites a stopped bot's database and says what it did;
// while the store is open it refuses.
func TestCompactCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "opsbot.db")
	cfg := filepath.Join(dir, "opsbot.toml")
	if err := os.WriteFile(cfg, []byte("[store]\npath = \""+db+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.OpenRequest("bob", "disk full on db3", "", false); err != nil {
		t.Fatal(err)
	}
	for _, age := range []time.Duration{500 * 24 * time.Hour, 450 * 24 * time.Hour, time.Hour} { // two past store.audit_retention
		if _, err := st.Audit(store.AuditEntry{At: time.Now().Add(-age), Account: "alice", Command: "request take"}); err != nil {
			t.Fatal(err)
		}
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"compact", "-config", cfg}, nil, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "stop opsbot") {
		t.Errorf("compact while open: exit %d, %q", code, errOut.String())
	}
	st.Close()
	out.Reset()
	errOut.Reset()
	if code := run([]string{"compact", "-config", cfg}, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "compacted "+db+": 2 records past their retention pruned") {
		t.Fatalf("compact: exit %d, %q %q", code, out.String(), errOut.String())
	}
	st, err = store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if r, err := st.Request(1); err != nil || r.Text != "disk full on db3" {
		t.Errorf("after compact: %+v, %v", r, err)
	}
	if log, err := st.AuditLog(10); err != nil || len(log) != 1 {
		t.Errorf("audit log after compact: %+v, %v; want the recent entry only", log, err)
	}
}
