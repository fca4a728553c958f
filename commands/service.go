package commands

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/opsbot/opsbot/store"
)

// ServiceStore is the part of the store the services family reads and writes.
type ServiceStore interface {
	Catalog
	Service(name string) (store.Service, error)
	Services() ([]store.Service, error)
	Impact(name string) (store.Impact, error)
	ServiceReport(name string) (store.Service, store.Impact, error)
	AddService(name string, f store.ServiceFields, depends []string, create bool, by string) (store.ServiceChange, error)
	UpdateService(name string, f store.ServiceFields, by string) (before, after store.Service, err error)
	AddDependency(name, dep string, create bool, by string) (store.ServiceChange, error)
	RemoveDependency(name, dep string) error
	RemoveService(name string, force bool) (detached []string, err error)
	SeedServices(seeds []store.ServiceSeed) (store.SeedReport, error)
}

// ServiceConfig is [[services]] in the config: the catalogue's seed.
type ServiceConfig struct {
	// Seeds are created at start when the store has never had them; chat edits and removals win (see
	// store.SeedServices).
	Seeds []store.ServiceSeed
	// Schedules are the on-call schedules a service may name (--schedule); nil: only the default, ops.
	Schedules []string
}

// ServiceLinks are the other families' data that !service shows (nil: not shown).
type ServiceLinks struct {
	Incidents ServiceIncidents
	Deploys   ServiceDeploys
}

// Services is the services family: the catalogue of owners and dependencies.
type Services struct {
	rt        Runtime
	st        ServiceStore
	links     ServiceLinks
	schedules []string
}

// NewServices builds the services family and seeds the catalogue from the config. What the config could not
// apply is logged, so an operator who edits the file sees why nothing changed.
func NewServices(rt Runtime, st ServiceStore, cfg ServiceConfig, links ServiceLinks) (*Services, error) {
	s := &Services{rt: rt.withDefaults(), st: st, links: links, schedules: cfg.Schedules}
	if len(s.schedules) == 0 {
		s.schedules = []string{store.DefaultSchedule}
	}
	if len(cfg.Seeds) == 0 {
		return s, nil
	}
	rep, err := st.SeedServices(cfg.Seeds)
	if err != nil {
		return nil, fmt.Errorf("services: %w", err)
	}
	if len(rep.Created) > 0 {
		s.rt.Log.Info("services: created from config", "services", rep.Created)
	}
	for _, n := range rep.Notes {
		s.rt.Log.Info("services: config entry not applied (the catalogue wins; edit it in chat with !service set)", "detail", n)
	}
	return s, nil
}

// Family offers !service, !owner and !impact, and GET /api/v1/services.
func (s *Services) Family() Family {
	edit := []Flag{{Name: "owner", Value: true}, {Name: "schedule", Value: true}, {Name: "slo", Value: true}, {Name: "notes", Value: true},
		{Name: "public", Value: true}}
	return Family{Name: "services", Commands: []*Command{
		{Name: "service", Args: "[name]", Help: "Shows a service: owner, dependencies, dependents, open incidents, version, SLO (no name: lists them).",
			Role: RoleAnyone, MaxArgs: 1, Run: s.show, Page: "/services"},
		{Name: "service list", Help: "Lists the services (as !service does).", Role: RoleAnyone, Run: s.list, Page: "/services"},
		{Name: "service add", Args: `<name> [--owner X] [--schedule S] [--depends a,b] [--slo 99.9] [--notes "..."] [--public true] [--create]`,
			Help: "Adds a service; --create also adds dependencies that do not exist yet.", Role: RoleOps, Write: true,
			MinArgs: 1, MaxArgs: 1, Flags: append([]Flag{{Name: "depends", Value: true}, {Name: "create"}}, edit...), Run: s.add},
		{Name: "service set", Args: `<name> [--owner X] [--schedule S] [--slo N] [--notes "..."] [--public true|false]`,
			Help: `Changes a service's owner, on-call schedule, SLO, notes ("none" clears one) or whether the public status page shows it.`, Role: RoleOps, Write: true,
			MinArgs: 1, MaxArgs: 1, Flags: edit, Run: s.set},
		{Name: "service depend", Args: "<name> <other> [--create]", Help: "Records that a service depends on another.",
			Role: RoleOps, Write: true, MinArgs: 2, MaxArgs: 2, Flags: []Flag{{Name: "create"}}, Run: s.depend},
		{Name: "service undepend", Args: "<name> <other>", Help: "Removes a dependency.",
			Role: RoleOps, Write: true, MinArgs: 2, MaxArgs: 2, Run: s.undepend},
		{Name: "service remove", Args: "<name> [--force]", Help: "Removes a service; --force also detaches the services that depend on it.",
			Role: RoleOps, Write: true, MinArgs: 1, MaxArgs: 1, Flags: []Flag{{Name: "force"}}, Run: s.remove},
		{Name: "owner", Args: "<service>", Help: "Says who owns a service.", Role: RoleAnyone, MinArgs: 1, MaxArgs: 1, Run: s.owner},
		{Name: "impact", Args: "<service>", Help: "Lists everything that fails when a service fails, nearest first.",
			Role: RoleAnyone, MinArgs: 1, MaxArgs: 1, Run: s.impact, Page: "/services"},
	}, Routes: []Route{
		{Pattern: "GET /api/v1/services", Handler: http.HandlerFunc(s.apiServices)},
		{Pattern: "GET /api/v1/services/{name}", Handler: http.HandlerFunc(s.apiService)},
	}}
}

func (s *Services) show(_ context.Context, c *Call, w Replier) error {
	if len(c.Args) == 0 {
		return s.list(nil, c, w)
	}
	svc, err := s.st.Service(lookupName(c.Args[0]))
	if err != nil {
		return s.userError(err, c)
	}
	limit := listLimit(c)
	parts := []string{ownerPart(svc.Owner)}
	if svc.Schedule != "" {
		parts = append(parts, s.schedulePart(svc.Schedule))
	}
	if len(svc.Depends) > 0 {
		parts = append(parts, "depends on "+nameList(svc.Depends, limit))
	} else {
		parts = append(parts, "depends on nothing")
	}
	if len(svc.Dependents) > 0 {
		parts = append(parts, "depended on by "+nameList(svc.Dependents, limit))
	} else {
		parts = append(parts, "nothing depends on it")
	}
	if s.links.Incidents != nil {
		open, err := s.links.Incidents.OpenIncidents(svc.Name)
		if err != nil {
			return fmt.Errorf("service %s: open incidents: %w", svc.Name, err)
		}
		if len(open) > 0 {
			parts = append(parts, "open incidents: "+nameList(open, limit))
		} else {
			parts = append(parts, "no open incidents")
		}
	}
	if s.links.Deploys != nil {
		v, err := s.links.Deploys.CurrentVersion(svc.Name, "prod")
		if err != nil {
			return fmt.Errorf("service %s: current version: %w", svc.Name, err)
		}
		if v != "" {
			parts = append(parts, "prod version "+v)
		} else {
			parts = append(parts, "no prod version yet")
		}
	}
	parts = append(parts, sloPart(svc.SLO))
	if svc.Public {
		parts = append(parts, "on the public status page")
	}
	c.Page = "/services/" + svc.Name
	w.Reply(svc.Name + ": " + strings.Join(parts, "; ") + s.rt.Link(c.Page))
	if svc.Notes != "" {
		w.Reply(svc.Name + " notes: " + svc.Notes)
	}
	return nil
}

func (s *Services) list(_ context.Context, c *Call, w Replier) error {
	names, err := s.st.ServiceNames()
	if err != nil {
		return err
	}
	if len(names) == 0 {
		w.Reply(fmt.Sprintf("no services yet (ops: %sservice add <name>)", c.Prefix))
		return nil
	}
	head := fmt.Sprintf("%d services: ", len(names))
	if len(names) == 1 {
		head = "1 service: "
	}
	w.Reply(capList(head, names, fmt.Sprintf(" (details: %sservice <name>)", c.Prefix), s.linesFor(c), s.moreAt("/services"))...)
	return nil
}

func (s *Services) owner(_ context.Context, c *Call, w Replier) error {
	name := lookupName(c.Args[0])
	owner, err := s.st.ServiceOwner(name)
	if err != nil {
		return s.userError(err, c)
	}
	if owner == "" {
		w.Reply(fmt.Sprintf("%s: no owner (ops: %sservice set %s --owner <account or team>)", name, c.Prefix, name))
		return nil
	}
	w.Reply(name + ": " + ownerPart(owner))
	return nil
}

func (s *Services) impact(_ context.Context, c *Call, w Replier) error {
	im, err := s.st.Impact(lookupName(c.Args[0]))
	if err != nil {
		return s.userError(err, c)
	}
	c.Page = "/services/" + im.Service
	w.Reply(impactLines(im, s.linesFor(c), s.moreAt(c.Page))...)
	return nil
}

func (s *Services) add(_ context.Context, c *Call, w Replier) error {
	name, err := newServiceName(c.Args[0])
	if err != nil {
		return err
	}
	f, err := s.editFields(c)
	if err != nil {
		return err
	}
	var deps []string
	if v, ok := c.Flag("depends"); ok {
		for _, d := range strings.Split(v, ",") {
			if d = strings.TrimSpace(d); d == "" {
				continue
			}
			if c.Bool("create") {
				if d, err = newServiceName(d); err != nil {
					return err
				}
			}
			deps = append(deps, lookupName(d))
		}
	}
	ch, err := s.st.AddService(name, f, deps, c.Bool("create"), c.Caller.Who())
	if err != nil {
		return s.userError(err, c)
	}
	svc := ch.Service
	parts := []string{ownerPart(svc.Owner)}
	if svc.Schedule != "" {
		parts = append(parts, s.schedulePart(svc.Schedule))
	}
	if len(svc.Depends) > 0 {
		parts = append(parts, "depends on "+strings.Join(svc.Depends, ", "))
	}
	parts = append(parts, sloPart(svc.SLO))
	if svc.Public {
		parts = append(parts, "on the public status page")
	}
	if len(ch.Created) > 0 {
		parts = append(parts, "created "+strings.Join(ch.Created, ", "))
	}
	w.Reply(name + " added: " + strings.Join(parts, "; "))
	return nil
}

func (s *Services) set(_ context.Context, c *Call, w Replier) error {
	f, err := s.editFields(c)
	if err != nil {
		return err
	}
	if f.Owner == nil && f.Schedule == nil && f.SLO == nil && f.Notes == nil && f.Public == nil {
		return c.Usage()
	}
	before, after, err := s.st.UpdateService(lookupName(c.Args[0]), f, c.Caller.Who())
	if err != nil {
		return s.userError(err, c)
	}
	var parts []string
	if f.Owner != nil {
		parts = append(parts, fmt.Sprintf("owner %s -> %s", ownerValue(before.Owner), ownerValue(after.Owner)))
	}
	if f.Schedule != nil {
		parts = append(parts, fmt.Sprintf("schedule %s -> %s", orString(before.Schedule, "none"), orString(after.Schedule, "none")))
	}
	if f.SLO != nil {
		parts = append(parts, fmt.Sprintf("SLO %s -> %s", sloValue(before.SLO), sloValue(after.SLO)))
	}
	if f.Notes != nil {
		if after.Notes == "" {
			parts = append(parts, "notes cleared")
		} else {
			parts = append(parts, "notes set")
		}
	}
	if f.Public != nil {
		if after.Public {
			parts = append(parts, "shown on the public status page")
		} else {
			parts = append(parts, "not on the public status page")
		}
	}
	w.Reply(after.Name + " updated: " + strings.Join(parts, "; "))
	return nil
}

func (s *Services) depend(_ context.Context, c *Call, w Replier) error {
	name, dep := lookupName(c.Args[0]), lookupName(c.Args[1])
	if c.Bool("create") {
		var err error
		if dep, err = newServiceName(c.Args[1]); err != nil {
			return err
		}
	}
	ch, err := s.st.AddDependency(name, dep, c.Bool("create"), c.Caller.Who())
	if err != nil {
		return s.userError(err, c)
	}
	msg := fmt.Sprintf("%s now depends on %s", name, dep)
	if ch.Existed {
		msg = fmt.Sprintf("%s already depends on %s", name, dep)
	}
	if len(ch.Created) > 0 {
		msg += fmt.Sprintf(" (created %s, no owner yet)", dep)
	}
	for _, cyc := range ch.Cycles {
		msg += "; warning: cycle: " + strings.Join(cyc, " -> ")
	}
	w.Reply(msg)
	return nil
}

func (s *Services) undepend(_ context.Context, c *Call, w Replier) error {
	name, dep := lookupName(c.Args[0]), lookupName(c.Args[1])
	if err := s.st.RemoveDependency(name, dep); err != nil {
		if errors.Is(err, store.ErrNoDependency) {
			return Errorf("error: %s does not depend on %s", name, dep)
		}
		return s.userError(err, c)
	}
	w.Reply(fmt.Sprintf("%s no longer depends on %s", name, dep))
	return nil
}

func (s *Services) remove(_ context.Context, c *Call, w Replier) error {
	name := lookupName(c.Args[0])
	detached, err := s.st.RemoveService(name, c.Bool("force"))
	if err != nil {
		return s.userError(err, c)
	}
	if len(detached) == 0 {
		w.Reply(name + " removed")
		return nil
	}
	w.Reply(fmt.Sprintf("%s removed; detached %s (they no longer depend on it)", name, strings.Join(detached, ", ")))
	return nil
}
