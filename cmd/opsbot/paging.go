package main

import (
	"fmt"
	"time"

	"github.com/opsbot/opsbot/bot/notify"
	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/store"
)

// pagingOptions maps [oncall], [paging] and [[paging.notifiers]] onto the bot's options.
func pagingOptions(cfg Config) (commands.PagingConfig, []notify.Config, error) {
	loc, err := time.LoadLocation(cfg.Oncall.Timezone)
	if err != nil {
		return commands.PagingConfig{}, nil, fmt.Errorf("oncall.timezone: %w", err)
	}
	day, at, err := ParseHandoff(cfg.Oncall.Handoff)
	if err != nil {
		return commands.PagingConfig{}, nil, fmt.Errorf("oncall.handoff: %w", err)
	}
	ops := append(append([]string(nil), cfg.Auth.Ops...), cfg.Auth.Admins...)
	p := commands.PagingConfig{
		Rotation:    store.Rotation{Accounts: cfg.Oncall.Rotation, Weekday: day, At: at, Location: loc, Shift: time.Duration(cfg.Oncall.Shift)},
		MaxOverride: time.Duration(cfg.Oncall.MaxOverride), AckTimeout: time.Duration(cfg.Paging.AckTimeout),
		Escalation: cfg.Paging.Escalation, MaxEscalations: cfg.Paging.MaxEscalations,
		DedupeWindow: time.Duration(cfg.Paging.DedupeWindow), RateLimit: cfg.Paging.RateLimit, Ops: ops,
	}
	var ns []notify.Config
	for _, n := range cfg.Paging.Notifiers {
		ns = append(ns, notify.Config{Type: n.Type, URL: n.URL, Secret: n.Secret, RoutingKey: n.RoutingKey, SMTPAddr: n.SMTPAddr,
			From: n.From, To: n.To, Username: n.Username, Password: n.Password})
	}
	return p, ns, nil
}
