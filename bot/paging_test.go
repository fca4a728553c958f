package bot

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/notify"
	"github.com/opsbot/opsbot/store"
)

// Page events queued for a notifier that the config no longer has are named at start: notifiers are named by
// type and position, so they would silently never be delivered.
func TestStartWarnsOfEventsQueuedForAnUnconfiguredNotifier(t *testing.T) {
	st := openTestStore(t)
	if _, _, err := st.OpenPage(store.PageRequest{By: "bob", Text: "db down", Target: "alice", Now: time.Now(), AckTimeout: time.Minute,
		Notifiers: []string{"webhook-0", "webhook-1"}}); err != nil {
		t.Fatal(err)
	}
	if q, err := st.NotifyQueues(); err != nil || q["webhook-0"] != 1 || q["webhook-1"] != 1 || len(q) != 2 {
		t.Fatalf("NotifyQueues = %v, %v", q, err)
	}
	var logs bytes.Buffer
	o := testOptions(t, "127.0.0.1:1")
	o.Log = slog.New(slog.NewTextHandler(&logs, nil))
	o.Notifiers = []notify.Config{{Type: "webhook", URL: "http://127.0.0.1:1/hook"}} // webhook-0 only
	if _, err := New(o, st); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if !strings.Contains(out, "queued for a notifier that is not configured now") || !strings.Contains(out, "notifier=webhook-1 events=1") ||
		strings.Contains(out, "notifier=webhook-0") {
		t.Errorf("start log:\n%s\nwant one warning, for webhook-1", out)
	}
}
