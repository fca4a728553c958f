package store

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// A failed commit is ErrWriteFailed and reported to the hook; a transaction's own error is neither.
func TestWriteFailureIsMarkedAndReported(t *testing.T) {
	path := filepath.Join(t.TempDir(), "opsbot.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var reported []error
	s.OnWriteFailure(func(err error) { reported = append(reported, err) })
	if _, err := s.UpdateRequest(99, RequestChange{Action: "take", By: "alice"}); err == nil || errors.Is(err, ErrWriteFailed) {
		t.Fatalf("UpdateRequest(unknown) = %v, want a plain error", err)
	}
	if len(reported) != 0 {
		t.Fatalf("a transaction's own error was reported as a write failure: %v", reported)
	}
	if err := s.WriteHealth(); err != nil {
		t.Fatalf("WriteHealth with working writes = %v", err)
	}
	s.Close()

	// A store opened read-only cannot commit: the error is marked, and the hook hears of it once.
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	ro.OnWriteFailure(func(err error) { reported = append(reported, err) })
	_, err = ro.Audit(AuditEntry{Account: "alice", Command: "x"})
	if !errors.Is(err, ErrWriteFailed) {
		t.Fatalf("Audit on a read-only store = %v, want ErrWriteFailed", err)
	}
	if len(reported) != 1 {
		t.Fatalf("write failures reported = %d, want 1", len(reported))
	}
	if err := ro.Healthy(); err != nil {
		t.Errorf("reads fail after a failed write: %v", err)
	}
	// Health names the failing writes (its probe write fails too).
	if err := ro.WriteHealth(); err == nil || !strings.Contains(err.Error(), "writes failing since ") {
		t.Errorf("WriteHealth after a failed write = %v", err)
	}
}
