package commands

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Family is what one command family offers the running bot: its chat commands, its periodic jobs, its HTTP
// routes and its metrics. Each family's constructor (NewRequests, NewPaging, ...) takes the family's typed
// store interface, the shared Runtime and its own config section, and is called once, by the composition
// root, which hands the same family value to chat, jobs and HTTP.
type Family struct {
	Name       string
	Commands   []*Command
	Jobs       []Job
	Routes     []Route
	Collectors []prometheus.Collector
}

// Job is periodic work of a family (nags, escalations, reminders). The bot runs every job in one scheduler
// goroutine, at most once per Every, with the injected clock's time. State lives in the store, so a job
// picks up after a restart where the last run left off.
type Job struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context, now time.Time) error
}

// Route is one HTTP endpoint of a family: a net/http pattern ("GET /api/v1/requests/{id}") and its handler.
// The bot puts every route behind http.api_token unless Open is set: a route that authenticates its callers
// itself (a signed webhook) is Open.
type Route struct {
	Pattern string
	Handler http.Handler
	Open    bool
}

// Set is every family of the running bot put together: the command registry (with the generated help),
// the jobs, the routes and the metrics.
type Set struct {
	Registry   *Registry
	Jobs       []Job
	Routes     []Route
	Collectors []prometheus.Collector
}

// NewSet puts families together, in order (the order of !help). A command name or alias, or a route
// pattern, that two families claim is an error.
func NewSet(rt Runtime, families ...Family) (*Set, error) {
	rt = rt.withDefaults()
	s := &Set{}
	cmds := helpCommands(rt.Prefix, func() *Registry { return s.Registry })
	routes := map[string]string{}
	for _, f := range families {
		cmds = append(cmds, f.Commands...)
		s.Jobs = append(s.Jobs, f.Jobs...)
		for _, r := range f.Routes {
			if other, dup := routes[r.Pattern]; dup {
				return nil, fmt.Errorf("commands: route %q of %s is also a route of %s", r.Pattern, f.Name, other)
			}
			routes[r.Pattern] = f.Name
			s.Routes = append(s.Routes, r)
		}
		s.Collectors = append(s.Collectors, f.Collectors...)
	}
	reg, err := NewRegistry(cmds...)
	if err != nil {
		return nil, err
	}
	s.Registry = reg
	return s, nil
}
