package commands

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// CoreStore is what !status and !audit read from the store, and what its retention job prunes.
type CoreStore interface {
	Size() int64
	IntegrityStatus() store.IntegrityStatus
	OpenCounts() (map[string]int, error)
	AuditLog(n int) ([]store.AuditEntry, error)
	PruneAudit(before time.Time, limit int) (int, error)
	PruneDeliveries(before time.Time, limit int) (pruned int, more bool, err error)
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

// CoreConfig configures the bot's own commands: what !status reports about the bot.
type CoreConfig struct {
	Version string
	Started time.Time
	// Insecure is auth.require_account = false: nicks are trusted.
	Insecure bool
	// IRC is the transport (nil in the shell).
	IRC StatusSource
	// Retention prunes the audit log and the webhook delivery ids (a job; zero values keep them).
	Retention RetentionConfig
}

// Core is the family of the bot's own commands: !status and !audit (!help comes with every Set).
type Core struct {
	rt  Runtime
	st  CoreStore
	cfg CoreConfig
}

// NewCore builds the bot's own commands.
func NewCore(rt Runtime, st CoreStore, cfg CoreConfig) *Core {
	return &Core{rt: rt.withDefaults(), st: st, cfg: cfg}
}

// Family offers !status and !audit, and the store's retention job.
func (k *Core) Family() Family {
	return Family{Name: "core", Jobs: k.retentionJob(), Commands: []*Command{
		{Name: "status", Help: "Shows version, uptime, connection, identity mode, open work and database size.",
			Role: RoleAnyone, Run: k.status},
		{Name: "audit", Args: "[n]", Help: "Shows the newest write commands: who, when, what, and the result.",
			Role: RoleOps, MaxArgs: 1, Run: k.audit},
	}}
}

func (k *Core) status(_ context.Context, _ *Call, w Replier) error {
	now := k.rt.Now()
	parts := []string{fmt.Sprintf("opsbot %s", k.cfg.Version), "up " + chat.FormatDuration(now.Sub(k.cfg.Started))}
	if k.cfg.IRC != nil {
		st := k.cfg.IRC.IRCStatus()
		if st.Connected {
			parts = append(parts, fmt.Sprintf("connected to %s as %s since %s", st.Server, st.Nick, st.Since.In(k.rt.Location).Format("2006-01-02 15:04 MST")))
		} else {
			parts = append(parts, "DISCONNECTED from IRC")
		}
		if st.NickWanted != "" {
			parts = append(parts, fmt.Sprintf("NOT on its nick %s (someone else holds it; regaining)", st.NickWanted))
		}
	}
	if k.cfg.Insecure {
		parts = append(parts, "identity: INSECURE nick mode (auth.require_account = false, nicks are trusted)")
	} else {
		parts = append(parts, "identity: services accounts")
	}
	counts, err := k.st.OpenCounts()
	if err != nil {
		return fmt.Errorf("status: open counts: %w", err)
	}
	parts = append(parts, openSummary(counts), "db "+FormatBytes(k.st.Size()), integrityClause(k.st.IntegrityStatus()))
	w.Reply(strings.Join(parts, "; "))
	return nil
}

// integrityClause is what the store's integrity check found: "integrity ok", "integrity check running
// (12/35 buckets)", or the damage with the backup to restore.
func integrityClause(st store.IntegrityStatus) string {
	switch {
	case st.State == store.IntegrityCorrupt:
		return "DATABASE CORRUPT (integrity check): " + st.Problem
	case st.State == store.IntegrityPending && !st.Started.IsZero():
		return fmt.Sprintf("integrity check running (%d/%d buckets)", st.Done, st.Total)
	case st.State == store.IntegrityPending:
		return "integrity check pending"
	case st.State == store.IntegrityStopped:
		return "integrity check stopped"
	}
	return "integrity ok"
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
