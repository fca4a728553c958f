package bot

import (
	"context"
	"encoding/binary"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/store"
)

// Damage found by the store's background integrity check is reported loudly while the bot keeps running:
// /healthz 503 naming it, opsbot_store_integrity_ok 0, and !status saying so with the backup to restore.
func TestIntegrityDamageFoundLaterIsReported(t *testing.T) {
	path := filepath.Join(t.TempDir(), "opsbot.db")
	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 300 {
		if _, err := st.OpenRequest("bob", strings.Repeat("x", 300), "", false); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".backup-20240101T000000.000Z", raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, swapTwoKeys(t, raw), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err = store.Open(path, store.Options{FullCheckBelow: -1, CheckDelay: -1, Log: quietLog()})
	if err != nil {
		t.Fatalf("open: %v (the damage should be left to the background check)", err)
	}
	defer st.Close()
	o := testOptions(t, "127.0.0.1:1")
	b, err := New(o, st)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); st.IntegrityStatus().State == store.IntegrityPending; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("integrity check did not finish")
		}
	}
	srv := httptest.NewServer(b.httpServer().Handler)
	defer srv.Close()
	if code, body := httpGet(t, srv.URL+"/healthz"); code != 503 || !strings.Contains(body, "database is corrupt") {
		t.Errorf("/healthz = %d %q, want 503 saying the database is corrupt", code, body)
	}
	if v := scrapeMetric(t, srv.URL, "opsbot_store_integrity_ok", ""); v != 0 {
		t.Errorf("opsbot_store_integrity_ok = %v, want 0", v)
	}
	w := &nullReplier{}
	b.disp.Dispatch(context.Background(), commands.Message{Caller: commands.Caller{Nick: "guest"}, Text: "status"}, w)
	if got := strings.Join(w.lines, "\n"); !strings.Contains(got, "DATABASE CORRUPT") || !strings.Contains(got, "cp "+path+".backup-") {
		t.Errorf("!status = %q, want it to say the database is corrupt and which backup to restore", got)
	}
}

// swapTwoKeys swaps the keys of the first two elements of a leaf page with 8-byte keys (the requests
// bucket's), damage bbolt's checker names.
func swapTwoKeys(t *testing.T, raw []byte) []byte {
	t.Helper()
	page := os.Getpagesize()
	ne := binary.NativeEndian
	for off := 4 * page; off+page <= len(raw); off += page {
		if ne.Uint16(raw[off+8:]) != 0x02 || ne.Uint16(raw[off+10:]) < 3 {
			continue
		}
		e0, e1 := off+16, off+32
		if ne.Uint32(raw[e0+8:]) != 8 || ne.Uint32(raw[e1+8:]) != 8 {
			continue
		}
		k0, k1 := e0+int(ne.Uint32(raw[e0+4:])), e1+int(ne.Uint32(raw[e1+4:]))
		a, b := slices.Clone(raw[k0:k0+8]), slices.Clone(raw[k1:k1+8])
		copy(raw[k0:], b)
		copy(raw[k1:], a)
		return raw
	}
	t.Fatal("no leaf page to damage")
	return nil
}
