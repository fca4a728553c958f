package commands

import (
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// DeployHook is the body of POST /hooks/deploy, decoded but not yet trusted.
type DeployHook struct {
	ID          string
	Service     string
	Version     string
	Environment string
	Status      string
	Percent     int
	Sites       []string
	Actor       string
	URL         string
	Message     string // optional: a commit message or note, shown after the line
}

var deliveryRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@+=/-]{0,127}$`)

// HookEvent sanitises and validates a webhook body. It returns the event, or the problems by JSON field
// name; err is an internal failure (the catalogue could not be read).
func (p *Deploys) HookEvent(h DeployHook) (store.DeployEvent, map[string]string, error) {
	bad := map[string]string{}
	ev := store.DeployEvent{Force: true, AutoStart: true, Source: "webhook"}

	if ev.Delivery = chat.Sanitize(h.ID); !deliveryRe.MatchString(ev.Delivery) {
		bad["id"] = "required: a delivery id of 1-128 letters, digits and . _ : @ + = / -"
	}
	svc, err := p.Service(chat.Sanitize(h.Service), false)
	var cf Invalid
	switch {
	case h.Service == "":
		bad["service"] = "required"
	case errors.As(err, &cf):
		bad["service"] = string(cf)
	case err != nil:
		return ev, nil, err
	}
	ev.Service = svc
	if ev.Version = chat.Sanitize(h.Version); ev.Version == "" {
		bad["version"] = "required"
	} else if err := checkVersion(ev.Version); err != nil {
		bad["version"] = err.Error()
	}
	if ev.Env = strings.ToLower(chat.Sanitize(h.Environment)); ev.Env == "" {
		ev.Env = store.DefaultEnv
	} else if err := checkEnv(ev.Env); err != nil {
		bad["environment"] = err.Error()
	}
	ev.Status = store.DeployState(chat.Sanitize(h.Status))
	if !slices.Contains(store.DeployStates, ev.Status) {
		var names []string
		for _, s := range store.DeployStates {
			names = append(names, string(s))
		}
		bad["status"] = "must be one of " + strings.Join(names, ", ")
	}
	if h.Percent < 0 || h.Percent > 100 {
		bad["percent"] = "must be an integer from 0 to 100"
	}
	ev.Percent = h.Percent
	if len(h.Sites) > 0 {
		for _, s := range h.Sites {
			ev.Sites = append(ev.Sites, chat.Sanitize(s))
		}
		if err := checkSites(ev.Sites); err != nil {
			bad["sites"] = err.Error()
		}
	}
	if ev.By = chat.Sanitize(h.Actor); ev.By == "" {
		ev.By = "ci"
	} else if len(ev.By) > 64 {
		bad["actor"] = "at most 64 bytes"
	}
	if ev.URL = chat.Sanitize(h.URL); ev.URL != "" {
		if msg := checkURL(ev.URL); msg != "" {
			bad["url"] = msg
		}
	}
	msg := chat.Truncate(chat.Sanitize(h.Message), 200)
	if ev.Status == store.DeployFailed || ev.Status == store.DeployRolledBack {
		ev.Reason = msg
	} else {
		ev.Note = msg
	}
	if len(bad) > 0 {
		return ev, bad, nil
	}
	return ev, nil, nil
}

// checkURL accepts an absolute http(s) URL without spaces, at most 400 bytes.
func checkURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(s, " ") || len(s) > 400 {
		return "must be an http(s) URL without spaces, at most 400 bytes"
	}
	return ""
}
