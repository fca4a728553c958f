package store

import (
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// ServiceSeed is one [[services]] entry of the config.
type ServiceSeed struct {
	Name     string
	Owner    string
	Schedule string // the on-call schedule its pages go to ("" = the default)
	Depends  []string
	SLO      float64
	Notes    string
	Public   bool
}

// SeedReport says what SeedServices did, for the log.
type SeedReport struct {
	Created []string // services created from the config
	Notes   []string // one line per config entry that was not applied, and why
}

// SeedServices applies the config's [[services]] in one transaction. The catalogue in the store is the
// source of truth once it has a name: config only creates services whose names the store has never seen
// from config and does not hold. A service that exists (created or edited in chat) keeps its chat values,
// and one removed in chat is not re-created. Config dependencies are added only for the services created
// now. A dependency on a service the config does not list is created with no owner (as --create does in
// chat: the contract's example config (docs/contract.md) has playlist depend on a storage it does not list), unless it was removed in
// chat; then the dependency is skipped. Every entry not applied is reported.
func (s *Store) SeedServices(seeds []ServiceSeed) (SeedReport, error) {
	var rep SeedReport
	err := s.db.Update(func(tx *bolt.Tx) error {
		rep = SeedReport{} // a write function may run twice (boltDB.Update)
		seeded := tx.Bucket(bucketServicesSeeded)
		created := map[string]bool{}
		for _, sd := range seeds {
			if !ValidServiceName(sd.Name) {
				return fmt.Errorf("%w: %q", ErrBadServiceName, sd.Name)
			}
			cur, err := loadService(tx, sd.Name)
			switch {
			case err == nil:
				if diff := seedDiff(sd, cur); diff != "" {
					rep.Notes = append(rep.Notes, fmt.Sprintf("service %s: config differs from the catalogue (%s); the catalogue wins (chat edits persist)", sd.Name, diff))
				}
			case seeded.Get([]byte(sd.Name)) != nil:
				rep.Notes = append(rep.Notes, fmt.Sprintf("service %s: removed in chat, not re-created from config", sd.Name))
			default:
				slo, owner, schedule, notes, public := sd.SLO, sd.Owner, sd.Schedule, sd.Notes, sd.Public
				f := ServiceFields{Owner: &owner, Schedule: &schedule, SLO: &slo, Notes: &notes, Public: &public}
				if _, err := s.createService(tx, sd.Name, f, "config"); err != nil {
					return fmt.Errorf("service %s: %w", sd.Name, err)
				}
				created[sd.Name] = true
				rep.Created = append(rep.Created, sd.Name)
			}
			if err := seeded.Put([]byte(sd.Name), []byte(s.Now().UTC().Format("2006-01-02T15:04:05Z"))); err != nil {
				return err
			}
		}
		for _, sd := range seeds {
			if !created[sd.Name] {
				continue
			}
			for _, d := range sd.Depends {
				if _, ok, err := getService(tx, d); err != nil {
					return err
				} else if !ok && seeded.Get([]byte(d)) != nil {
					rep.Notes = append(rep.Notes, fmt.Sprintf("service %s: dependency %s skipped: no such service (removed in chat)", sd.Name, d))
					continue
				}
				made, _, err := s.dependTx(tx, sd.Name, d, true, "config")
				if err != nil {
					return fmt.Errorf("service %s depends on %s: %w", sd.Name, d, err)
				}
				if made {
					if err := seeded.Put([]byte(d), []byte(s.Now().UTC().Format("2006-01-02T15:04:05Z"))); err != nil {
						return err
					}
					rep.Created = append(rep.Created, d)
				}
			}
		}
		return nil
	})
	if err != nil {
		return SeedReport{}, fmt.Errorf("store: seed services: %w", err)
	}
	return rep, nil
}

// seedDiff describes how a config entry differs from the stored service, or "".
func seedDiff(sd ServiceSeed, cur Service) string {
	var d []string
	if sd.Owner != cur.Owner {
		d = append(d, fmt.Sprintf("owner %q in config, %q in catalogue", sd.Owner, cur.Owner))
	}
	if sd.Schedule != cur.Schedule {
		d = append(d, fmt.Sprintf("schedule %q in config, %q in catalogue", sd.Schedule, cur.Schedule))
	}
	if sd.SLO != cur.SLO {
		d = append(d, fmt.Sprintf("slo %v in config, %v in catalogue", sd.SLO, cur.SLO))
	}
	if sd.Notes != cur.Notes {
		d = append(d, "notes differ")
	}
	if sd.Public != cur.Public {
		d = append(d, fmt.Sprintf("public %v in config, %v in catalogue", sd.Public, cur.Public))
	}
	want := slices.Clone(sd.Depends)
	slices.Sort(want)
	want = slices.Compact(want)
	if !slices.Equal(want, cur.Depends) {
		d = append(d, fmt.Sprintf("depends [%s] in config, [%s] in catalogue", strings.Join(want, ", "), strings.Join(cur.Depends, ", ")))
	}
	return strings.Join(d, "; ")
}
