package commands

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Ledger is the part of the store that the status command reads.
type Ledger interface {
	Size() int64
	OpenCounts() (map[string]int, error)
}

// IRCStatus describes the IRC connection for !status.
type IRCStatus struct {
	Connected bool
	Since     time.Time // when the current connection was registered
	Nick      string
	Server    string
	// NickWanted is the configured nick while the bot is connected under another one (someone else holds
	// it), else "".
	NickWanted string
}

// StatusSource reports the transport's state; the shell reports none.
type StatusSource interface {
	IRCStatus() IRCStatus
}

func statusCommands(d Deps) []*Command {
	return []*Command{{
		Name: "status", Help: "Shows version, uptime, connection, identity mode, open work and database size.",
		Role: RoleAnyone,
		Run: func(_ context.Context, _ *Call, w Replier) error {
			now := d.Now()
			parts := []string{fmt.Sprintf("opsbot %s", d.Version), "up " + FormatDuration(now.Sub(d.Started))}
			if d.Status != nil {
				st := d.Status.IRCStatus()
				if st.Connected {
					parts = append(parts, fmt.Sprintf("connected to %s as %s since %s", st.Server, st.Nick, st.Since.In(d.Location).Format("2006-01-02 15:04 MST")))
				} else {
					parts = append(parts, "DISCONNECTED from IRC")
				}
				if st.NickWanted != "" {
					parts = append(parts, fmt.Sprintf("NOT on its nick %s (someone else holds it; regaining)", st.NickWanted))
				}
			}
			if d.Insecure {
				parts = append(parts, "identity: INSECURE nick mode (auth.require_account = false, nicks are trusted)")
			} else {
				parts = append(parts, "identity: services accounts")
			}
			if d.Store != nil {
				counts, err := d.Store.OpenCounts()
				if err != nil {
					return fmt.Errorf("status: open counts: %w", err)
				}
				parts = append(parts, openSummary(counts))
				parts = append(parts, "db "+FormatBytes(d.Store.Size()))
			}
			w.Reply(strings.Join(parts, "; "))
			return nil
		},
	}}
}

// FormatBytes renders a size: 512 B, 64 KiB, 3.2 MiB.
func FormatBytes(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1024*1024:
		return fmt.Sprintf("%d KiB", n/1024)
	default:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1024*1024))
	}
}

// openSummary is "open: 2 requests, 1 page, 1 incident, 1 deploy in progress" or "open: nothing", from the
// families' counters (keyed by plural family name).
func openSummary(counts map[string]int) string {
	var open []string
	for _, k := range []string{"requests", "pages", "incidents", "deploys"} {
		n, ok := counts[k]
		if !ok || n == 0 {
			continue
		}
		noun := k
		if n == 1 {
			noun = strings.TrimSuffix(k, "s")
		}
		if k == "deploys" {
			noun += " in progress"
		}
		open = append(open, fmt.Sprintf("%d %s", n, noun))
	}
	for _, k := range sortedKeys(counts) { // families not listed above, if any
		if k != "requests" && k != "pages" && k != "incidents" && k != "deploys" && counts[k] > 0 {
			open = append(open, fmt.Sprintf("%d %s", counts[k], k))
		}
	}
	if len(open) == 0 {
		return "open: nothing"
	}
	return "open: " + strings.Join(open, ", ")
}
