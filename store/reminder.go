package store

import (
	"errors"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketReminders holds the reminders keyed by name.
var bucketReminders = []byte("reminders")

var _ = registerBuckets(bucketReminders)

// Reminder sources: who owns a reminder's definition.
const (
	// ReminderConfig reminders come from [[reminders]] in the config file. ReminderSeed overwrites their
	// definition at every start and removes the ones no longer in the file; chat may skip or run them but
	// not remove them.
	ReminderConfig = "config"
	// ReminderChat reminders were added with !remind add and persist until !remind remove.
	ReminderChat = "chat"
)

// ErrExists is returned when a record with the same name already exists.
var ErrExists = errors.New("store: already exists")

// Occurrence is one scheduled occurrence of a reminder: the instant it was scheduled for (not the wall time
// at which it was handled), and its local date and time in the schedule's zone, which is what identifies it
// across DST changes (the repeated hour of a fall-back day has the same Local twice).
type Occurrence struct {
	At    time.Time `json:"at"`
	Local string    `json:"local"` // "2006-01-02 15:04" in Zone
	Zone  string    `json:"zone"`  // IANA name of the schedule's zone
}

// Reminder is a recurring message (the weekly meetings) and its firing state.
type Reminder struct {
	Name     string    `json:"name"`
	Schedule string    `json:"schedule"` // 5-field cron spec, optionally with CRON_TZ=
	Channel  string    `json:"channel"`
	Text     string    `json:"text"`
	Agenda   string    `json:"agenda,omitempty"` // "", retro, planning or scalability
	Source   string    `json:"source"`           // ReminderConfig or ReminderChat
	By       string    `json:"by,omitempty"`     // account that added it in chat
	Created  time.Time `json:"created"`          // occurrences at or before this never fire
	// Last is the last occurrence handled (posted or skipped); nil before the first one.
	Last *Occurrence `json:"last,omitempty"`
	// Posted is when Last was posted (wall time); zero if Last was skipped.
	Posted time.Time `json:"posted,omitzero"`
	// Skip is the pending "!remind skip": the one occurrence not to post; nil when none.
	Skip *Occurrence `json:"skip,omitempty"`
}

// sameDefinition reports whether a and b schedule and say the same thing.
func (r Reminder) sameDefinition(o Reminder) bool {
	return r.Schedule == o.Schedule && r.Channel == o.Channel && r.Text == o.Text && r.Agenda == o.Agenda && r.Source == o.Source
}

// SeedResult says what ReminderSeed changed.
type SeedResult struct {
	Added, Updated, Removed, TookOver []string
}

// ReminderSeed makes the config-owned reminders match cfg, in one transaction: new ones are added (created
// at now, the caller's clock, so past occurrences never fire), changed ones get the new definition and keep their firing state,
// config-owned ones missing from cfg are removed. A chat-owned reminder with the name of a config reminder is
// taken over by the config (its state is kept), so the config file always wins. Chat-owned reminders are
// otherwise untouched.
func (s *Store) ReminderSeed(cfg []Reminder, now time.Time) (SeedResult, error) {
	var res SeedResult
	now = now.UTC()
	err := s.db.Update(func(tx *bolt.Tx) error {
		res = SeedResult{} // a write function may run twice (boltDB.Update)
		b := tx.Bucket(bucketReminders)
		want := map[string]bool{}
		for _, c := range cfg {
			want[c.Name] = true
			c.Source = ReminderConfig
			var old Reminder
			found, err := getJSON(b, []byte(c.Name), &old)
			if err != nil {
				return err
			}
			switch {
			case !found:
				c.Created, c.Last, c.Skip, c.Posted, c.By = now, nil, nil, time.Time{}, ""
				res.Added = append(res.Added, c.Name)
			case old.sameDefinition(c):
				continue
			default:
				if old.Source != ReminderConfig {
					res.TookOver = append(res.TookOver, c.Name)
				} else {
					res.Updated = append(res.Updated, c.Name)
				}
				c.Created, c.Last, c.Skip, c.Posted, c.By = old.Created, old.Last, old.Skip, old.Posted, ""
				if c.Schedule != old.Schedule {
					// A new schedule starts now: counted from the old one's last occurrence, it would post
					// an occurrence from before it existed, as late.
					c.Created, c.Last, c.Skip = now, nil, nil
				}
			}
			if err := putJSON(b, []byte(c.Name), c); err != nil {
				return err
			}
		}
		var gone [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var r Reminder
			if err := jsonUnmarshal(v, &r); err != nil {
				return err
			}
			if r.Source == ReminderConfig && !want[r.Name] {
				gone = append(gone, append([]byte(nil), k...))
				res.Removed = append(res.Removed, r.Name)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range gone {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return SeedResult{}, fmt.Errorf("store: seed reminders: %w", err)
	}
	return res, nil
}

// ReminderAdd stores a new chat-owned reminder; a reminder with that name is ErrExists.
func (s *Store) ReminderAdd(r Reminder) (Reminder, error) {
	r.Source = ReminderChat
	r.Last, r.Skip, r.Posted = nil, nil, time.Time{}
	if r.Created.IsZero() {
		r.Created = s.Now().UTC()
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketReminders)
		if b.Get([]byte(r.Name)) != nil {
			return ErrExists
		}
		return putJSON(b, []byte(r.Name), r)
	})
	if err != nil {
		return r, fmt.Errorf("store: add reminder %s: %w", r.Name, err)
	}
	return r, nil
}

// ReminderRemove deletes a reminder and returns it; unknown names are ErrNotFound.
func (s *Store) ReminderRemove(name string) (Reminder, error) {
	var r Reminder
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketReminders)
		var err error
		if r, err = getReminder(b, name); err != nil {
			return err
		}
		return b.Delete([]byte(name))
	})
	if err != nil {
		return r, fmt.Errorf("store: remove reminder %s: %w", name, err)
	}
	return r, nil
}

// Reminder returns one reminder; unknown names are ErrNotFound.
func (s *Store) Reminder(name string) (Reminder, error) {
	var r Reminder
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		r, err = getReminder(tx.Bucket(bucketReminders), name)
		return err
	})
	if err != nil {
		return r, fmt.Errorf("store: reminder %s: %w", name, err)
	}
	return r, nil
}

// Reminders returns every reminder, by name.
func (s *Store) Reminders() ([]Reminder, error) {
	var out []Reminder
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketReminders).ForEach(func(_, v []byte) error {
			var r Reminder
			if err := jsonUnmarshal(v, &r); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: reminders: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ReminderSetSkip sets (skip non-nil) or clears (nil) the pending skip and returns the reminder.
func (s *Store) ReminderSetSkip(name string, skip *Occurrence) (Reminder, error) {
	r, err := s.updateReminder(name, func(r *Reminder) error { r.Skip = skip; return nil })
	if err != nil {
		return r, fmt.Errorf("store: skip reminder %s: %w", name, err)
	}
	return r, nil
}

// ErrStale is returned by ReminderAdvance when the reminder's last occurrence is no longer the one the
// caller computed from (another run already handled it).
var ErrStale = errors.New("store: reminder state changed")

// ReminderAdvance records that occurrence to was handled: posted at posted (zero: skipped). It is a
// compare-and-set on the last occurrence: if the stored Last is not from (both nil, or the same instant), it
// changes nothing and returns ErrStale, so an occurrence is never handled twice. A pending skip at or before
// to is cleared (its occurrence has passed). It returns the reminder as it was before.
func (s *Store) ReminderAdvance(name string, from *Occurrence, to Occurrence, posted time.Time) (Reminder, error) {
	var before Reminder
	_, err := s.updateReminder(name, func(r *Reminder) error {
		before = *r
		if !sameOccurrence(r.Last, from) {
			return ErrStale
		}
		r.Last, r.Posted = &to, posted
		if r.Skip != nil && !r.Skip.At.After(to.At) {
			r.Skip = nil
		}
		return nil
	})
	if err != nil {
		return before, fmt.Errorf("store: advance reminder %s: %w", name, err)
	}
	return before, nil
}

// ReminderUndoAdvance reverts a ReminderAdvance to the state before (its returned reminder) when nothing was
// posted, so the occurrence is tried again. It does nothing unless Last is still to.
func (s *Store) ReminderUndoAdvance(name string, to Occurrence, before Reminder) error {
	_, err := s.updateReminder(name, func(r *Reminder) error {
		if !sameOccurrence(r.Last, &to) {
			return ErrStale
		}
		r.Last, r.Posted = before.Last, before.Posted
		if r.Skip == nil {
			r.Skip = before.Skip
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: undo reminder %s: %w", name, err)
	}
	return nil
}

func sameOccurrence(a, b *Occurrence) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.At.Equal(b.At)
}

// updateReminder applies f to the stored reminder in one transaction; f's error aborts it.
func (s *Store) updateReminder(name string, f func(*Reminder) error) (Reminder, error) {
	var r Reminder
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketReminders)
		var err error
		if r, err = getReminder(b, name); err != nil {
			return err
		}
		if err := f(&r); err != nil {
			return err
		}
		return putJSON(b, []byte(name), r)
	})
	return r, err
}

// getReminder decodes the reminder name from b; ErrNotFound when there is none.
func getReminder(b *bolt.Bucket, name string) (Reminder, error) {
	var r Reminder
	found, err := getJSON(b, []byte(name), &r)
	if err == nil && !found {
		err = ErrNotFound
	}
	return r, err
}
