package commands

import (
	"context"
	"fmt"
	"strconv"

	"github.com/opsbot/opsbot/store"
)

// AuditLog reads the audit log.
type AuditLog interface {
	AuditLog(n int) ([]store.AuditEntry, error)
}

func auditCommands(d Deps) []*Command {
	return []*Command{{
		Name: "audit", Args: "[n]", Help: "Shows the newest write commands: who, when, what, and the result.",
		Role: RoleOps, MaxArgs: 1,
		Run: func(_ context.Context, c *Call, w Replier) error {
			log, ok := d.Store.(AuditLog)
			if !ok {
				return Errorf("error: no audit log in this store")
			}
			n := 5
			if len(c.Args) == 1 {
				v, err := strconv.Atoi(c.Args[0])
				if err != nil || v < 1 || v > 100 {
					return c.Usage()
				}
				n = v
			}
			entries, err := log.AuditLog(n)
			if err != nil {
				return err
			}
			if len(entries) == 0 {
				w.Reply("audit: no write commands yet")
				return nil
			}
			for _, e := range entries {
				w.Reply(fmt.Sprintf("#%d %s %s: %s%s -> %s", e.ID, e.At.In(d.Location).Format("01-02 15:04"), e.Account, c.Prefix, e.Args, e.Result))
			}
			return nil
		},
	}}
}
