package commands

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opsbot/opsbot/store"
)

// A command whose database write failed says so (with the cause, not the path), and is observed as
// result "store" so the failure is counted apart from other internal errors.
func TestStoreWriteFailureIsAClearErrorAndObserved(t *testing.T) {
	cause := fmt.Errorf("store: open request: %w", fmt.Errorf("%w: write /var/lib/opsbot/opsbot.db: %w", store.ErrWriteFailed, syscall.ENOSPC))
	saving := &Command{Name: "save", Help: "Saves.", Role: RoleDeveloper, Write: true,
		Run: func(context.Context, *Call, Replier) error { return cause }}
	d, _, logs := testDispatcher(t, saving)
	var results []string
	d.observe = func(_, result string, _ time.Duration) { results = append(results, result) }
	var r recorder
	d.Dispatch(context.Background(), Message{Caller: dev, Text: "save"}, &r)
	const want = "error: could not save to the database (no space left on device); ops: see the log (ref "
	if len(r.errors) != 1 || !strings.HasPrefix(r.errors[0], want) || strings.Contains(r.errors[0], "/var/lib") {
		t.Fatalf("save replied %q, want %q...", r.all(), want)
	}
	ref := strings.TrimSuffix(strings.TrimPrefix(r.errors[0], want), ")")
	if !strings.Contains(logs.String(), "ref="+ref) || !strings.Contains(logs.String(), "/var/lib/opsbot/opsbot.db") {
		t.Errorf("ref %q and the full error not in the log:\n%s", ref, logs)
	}
	if len(results) != 1 || results[0] != "store" {
		t.Errorf("observed results %q, want [store]", results)
	}
}
