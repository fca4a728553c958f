package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestWebLoginWorksOnceAndExpires(t *testing.T) {
	s := mustOpen(t)
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	if err := s.AddWebLogin("tok-1", "alice", now.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.AddWebLogin("tok-2", "bob", now.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if a, err := s.WebLogin("tok-1", now); a != "alice" || err != nil {
		t.Fatalf("WebLogin(tok-1) = %q, %v; want alice", a, err)
	}
	ws, err := s.ConsumeWebLogin("tok-1", "sess-1", now.Add(time.Minute), 24*time.Hour)
	if err != nil || ws.Account != "alice" || !ws.Expires.Equal(now.Add(24*time.Hour+time.Minute)) {
		t.Fatalf("ConsumeWebLogin = %+v, %v", ws, err)
	}
	// Used: refused, and the session it made stands.
	if _, err := s.ConsumeWebLogin("tok-1", "sess-x", now.Add(2*time.Minute), time.Hour); !errors.Is(err, ErrNotFound) {
		t.Errorf("reused link = %v, want ErrNotFound", err)
	}
	if _, err := s.WebLogin("tok-1", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("WebLogin of a used link = %v, want ErrNotFound", err)
	}
	if _, err := s.WebSession("sess-x", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("the refused login made a session: %v", err)
	}
	if got, err := s.WebSession("sess-1", now.Add(time.Hour)); err != nil || got.Account != "alice" {
		t.Errorf("WebSession(sess-1) = %+v, %v", got, err)
	}
	// Expired link and session; forged ones.
	if _, err := s.ConsumeWebLogin("tok-2", "sess-2", now.Add(10*time.Minute), time.Hour); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired link = %v, want ErrNotFound", err)
	}
	if _, err := s.ConsumeWebLogin("forged", "sess-3", now, time.Hour); !errors.Is(err, ErrNotFound) {
		t.Errorf("forged link = %v, want ErrNotFound", err)
	}
	if _, err := s.WebSession("sess-1", now.Add(25*time.Hour)); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired session = %v, want ErrNotFound", err)
	}
	// Nothing secret is stored as given.
	_ = s.db.View(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketWebLogins, bucketWebSessions} {
			_ = tx.Bucket(b).ForEach(func(k, _ []byte) error {
				if string(k) == "tok-2" || string(k) == "sess-1" {
					t.Errorf("bucket %s keeps a secret in clear: %q", b, k)
				}
				return nil
			})
		}
		return nil
	})
	if n, err := s.PruneWeb(now.Add(26 * time.Hour)); n != 2 || err != nil {
		t.Errorf("PruneWeb = %d, %v; want 2 (the expired link and session)", n, err)
	}
}

func TestEndWebSessionsEndsOnlyThatAccount(t *testing.T) {
	s := mustOpen(t)
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for i, a := range []string{"alice", "alice", "bob"} {
		tok := string(rune('a'+i)) + "-link"
		if err := s.AddWebLogin(tok, a, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConsumeWebLogin(tok, tok+"-session", now, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []string{"alice", "bob"} { // a link each, not used yet
		if err := s.AddWebLogin(a+"-unused", a, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if n, links, err := s.EndWebSessions("alice"); n != 2 || links != 1 || err != nil {
		t.Fatalf("EndWebSessions(alice) = %d, %d, %v; want 2 sessions and 1 link", n, links, err)
	}
	if _, err := s.WebLogin("alice-unused", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("alice's unused link survived logout: %v", err)
	}
	if a, err := s.WebLogin("bob-unused", now); err != nil || a != "bob" {
		t.Errorf("bob's unused link = %q, %v; want it kept", a, err)
	}
	for _, sess := range []string{"a-link-session", "b-link-session"} {
		if _, err := s.WebSession(sess, now); !errors.Is(err, ErrNotFound) {
			t.Errorf("alice's session %s survived logout: %v", sess, err)
		}
	}
	if ws, err := s.WebSession("c-link-session", now); err != nil || ws.Account != "bob" {
		t.Errorf("bob's session = %+v, %v; want it kept", ws, err)
	}
}

func TestICalTokenStableUntilReset(t *testing.T) {
	s := mustOpen(t)
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	t1, err := s.ICalTokenOf("alice", "first", now)
	if err != nil || t1.Token != "first" {
		t.Fatalf("ICalTokenOf = %+v, %v", t1, err)
	}
	if again, _ := s.ICalTokenOf("alice", "second", now); again.Token != "first" {
		t.Errorf("second ICalTokenOf = %q, want the same token", again.Token)
	}
	if a, err := s.ICalAccount("first"); a != "alice" || err != nil {
		t.Errorf("ICalAccount(first) = %q, %v", a, err)
	}
	if _, err := s.ResetICalToken("alice", "third", now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ICalAccount("first"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the reset token still works: %v", err)
	}
	if a, err := s.ICalAccount("third"); a != "alice" || err != nil {
		t.Errorf("ICalAccount(third) = %q, %v", a, err)
	}
}

// A session of one store is unknown to another: a cookie copied from another opsbot is refused.
func TestWebSessionOfAnotherStoreIsUnknown(t *testing.T) {
	a := mustOpen(t)
	b, err := Open(filepath.Join(t.TempDir(), "other.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	now := time.Now()
	if err := a.AddWebLogin("link", "alice", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ConsumeWebLogin("link", "sess", now, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := b.WebSession("sess", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("another store's session = %v, want ErrNotFound", err)
	}
}
