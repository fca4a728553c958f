package commands

import (
	"context"
	"fmt"
	"strconv"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

func (k *Core) audit(_ context.Context, c *Call, w Replier) error {
	n := 5
	if len(c.Args) == 1 {
		v, err := strconv.Atoi(c.Args[0])
		if err != nil || v < 1 || v > 100 {
			return c.Usage()
		}
		n = v
	}
	entries, err := k.st.AuditLog(n)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		w.Reply("audit: no write commands yet")
		return nil
	}
	for _, e := range entries {
		w.Reply(fmt.Sprintf("#%d %s %s: %s%s -> %s", e.ID, e.At.In(k.rt.Location).Format("01-02 15:04"), auditWho(e), c.Prefix, e.Args, e.Result))
	}
	return nil
}

// auditWho names who ran an audited command without highlighting them (the log is history, nobody has to
// act): the account, or for someone not logged in (a refused write) the nick they used.
func auditWho(e store.AuditEntry) string {
	if e.Account == "" {
		return chat.NoHighlight(e.Nick) + " (not logged in)"
	}
	return chat.NoHighlight(e.Account)
}
