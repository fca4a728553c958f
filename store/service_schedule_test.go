package store

import (
	"errors"
	"strings"
	"testing"
)

// A service names the on-call schedule its pages go to: set in chat, seeded from config, compared with it.
func TestServiceSchedule(t *testing.T) {
	s, _ := openPagingStore(t)
	str := func(v string) *string { return &v }
	if _, err := s.AddService("pg", ServiceFields{Owner: str("team-db"), Schedule: str("db")}, nil, false, "alice"); err != nil {
		t.Fatal(err)
	}
	if owner, sched, err := s.ServiceRoute("pg"); owner != "team-db" || sched != "db" || err != nil {
		t.Errorf("ServiceRoute(pg) = %q %q %v", owner, sched, err)
	}
	if _, _, err := s.ServiceRoute("pgg"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ServiceRoute(unknown) = %v", err)
	}
	before, after, err := s.UpdateService("pg", ServiceFields{Schedule: str("")}, "alice")
	if err != nil || before.Schedule != "db" || after.Schedule != "" || after.Owner != "team-db" {
		t.Errorf("clearing the schedule: %+v -> %+v, %v", before, after, err)
	}
	rep, err := s.SeedServices([]ServiceSeed{{Name: "pg", Owner: "team-db", Schedule: "db"}, {Name: "redis", Schedule: "db"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Created) != 1 || len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], `schedule "db" in config, "" in catalogue`) {
		t.Errorf("seed report = %+v", rep)
	}
	if svc, err := s.Service("redis"); err != nil || svc.Schedule != "db" {
		t.Errorf("seeded redis = %+v, %v", svc, err)
	}
}
