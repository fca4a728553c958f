package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Maintenance buckets: windows by id, the windows not over yet (upcoming or in progress), and the series of
// recurring windows.
var (
	bucketMaint       = []byte("maint_windows") // id -> Window
	bucketMaintOpen   = []byte("maint_open")    // id -> "": windows not ended, cancelled or past
	bucketMaintSeries = []byte("maint_series")  // id -> Series
)

var _ = registerBuckets(bucketMaint, bucketMaintOpen, bucketMaintSeries)

// AllServices is the service name of a window that covers every service.
const AllServices = "all"

// Silence states of a window's Alertmanager silence.
const (
	SilenceCreate = "create" // to be created (or updated, when SilenceID is set)
	SilenceActive = "active" // created; Alertmanager has it
	SilenceExpire = "expire" // to be expired
	SilenceDone   = "expired"
)

// Window is a maintenance window M-n: planned work on a service (or all) from Start to End.
type Window struct {
	ID      uint64    `json:"id"`
	Service string    `json:"service"` // a service, or AllServices
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Reason  string    `json:"reason"`
	By      string    `json:"by"`
	Added   time.Time `json:"added"`
	Freeze  bool      `json:"freeze,omitempty"`  // deploys of the service are refused during it
	Silence bool      `json:"silence,omitempty"` // an Alertmanager silence covers it
	Series  uint64    `json:"series,omitempty"`  // the recurring series it is an occurrence of
	// Ended is when it was ended early (!maint end) and by whom; Cancelled when it was cancelled before it
	// began.
	EndedBy   string    `json:"ended_by,omitempty"`
	Cancelled time.Time `json:"cancelled,omitzero"`
	// The Alertmanager silence: its id, what remains to be done (SilenceCreate, SilenceExpire) or its state,
	// the last error, the attempts so far and when to try again.
	SilenceID    string    `json:"silence_id,omitempty"`
	SilenceState string    `json:"silence_state,omitempty"`
	SilenceError string    `json:"silence_error,omitempty"`
	SilenceTries int       `json:"silence_tries,omitempty"`
	SilenceRetry time.Time `json:"silence_retry,omitzero"`
	// Told are the announcements made (once each, across restarts): added, started, ending soon, ended.
	Told WindowTold `json:"told"`
}

// WindowTold records which of a window's announcements were made.
type WindowTold struct {
	Added, Started, Ending, Ended bool
}

// Ref is the window's id as people write it: M-3.
func (w Window) Ref() string { return fmt.Sprintf("M-%d", w.ID) }

// Covers reports whether the window is about service (or about all).
func (w Window) Covers(service string) bool { return w.Service == AllServices || w.Service == service }

// Active reports whether the window is in progress at t.
func (w Window) Active(t time.Time) bool {
	return w.Cancelled.IsZero() && !t.Before(w.Start) && t.Before(w.End)
}

// Over reports whether the window is over at t: ended, past or cancelled.
func (w Window) Over(t time.Time) bool { return !w.Cancelled.IsZero() || !t.Before(w.End) }

// Series is a recurring maintenance window: one window of Duration at every occurrence of Schedule (a cron
// spec), created ahead of time as the occurrences come.
type Series struct {
	ID       uint64        `json:"id"`
	Schedule string        `json:"schedule"`
	Duration time.Duration `json:"duration"`
	Template Window        `json:"template"` // service, reason, by, freeze, silence
	Last     time.Time     `json:"last"`     // the start of the newest occurrence created
	Stopped  bool          `json:"stopped,omitempty"`
}

// ErrWindowOver refuses a change to a window that is over (ended, past or cancelled).
var ErrWindowOver = errors.New("store: the maintenance window is over")

// AddWindow stores a new window (and, with series, the series it starts).
func (s *Store) AddWindow(w Window, series *Series) (Window, error) {
	err := s.db.Update(func(tx *bolt.Tx) error {
		if series != nil {
			b := tx.Bucket(bucketMaintSeries)
			id, err := b.NextSequence()
			if err != nil {
				return err
			}
			sr := *series // a write function may run twice (boltDB.Update): the argument stays as given
			sr.ID, sr.Last = id, w.Start
			w.Series = id
			if err := putJSON(b, itob(id), sr); err != nil {
				return err
			}
		}
		var err error
		w, err = addWindowTx(tx, w)
		return err
	})
	if err != nil {
		err = fmt.Errorf("store: add maintenance window: %w", err)
	}
	return w, err
}

func addWindowTx(tx *bolt.Tx, w Window) (Window, error) {
	b := tx.Bucket(bucketMaint)
	id, err := b.NextSequence()
	if err != nil {
		return w, err
	}
	w.ID = id
	if w.Silence {
		w.SilenceState = SilenceCreate
	}
	if err := putJSON(b, itob(id), w); err != nil {
		return w, err
	}
	return w, tx.Bucket(bucketMaintOpen).Put(itob(id), nil)
}

// ChangeWindow loads window id, lets change modify it (an error leaves it as it was) and stores it; a window
// that is over leaves the open index.
func (s *Store) ChangeWindow(id uint64, now time.Time, change func(w *Window) error) (Window, error) {
	var w Window
	err := s.db.Update(func(tx *bolt.Tx) error {
		w = Window{}
		found, err := getJSON(tx.Bucket(bucketMaint), itob(id), &w)
		if err != nil {
			return err
		}
		if !found {
			return ErrNotFound
		}
		if err := change(&w); err != nil {
			return err
		}
		return putWindowTx(tx, w, now)
	})
	return w, err
}

// putWindowTx stores w and keeps the open index: a window stays there until it is over and every announcement
// and silence task of it is done.
func putWindowTx(tx *bolt.Tx, w Window, now time.Time) error {
	if err := putJSON(tx.Bucket(bucketMaint), itob(w.ID), w); err != nil {
		return err
	}
	settled := w.Over(now) && (w.Told.Ended || !w.Cancelled.IsZero()) && w.SilenceState != SilenceCreate && w.SilenceState != SilenceExpire
	if settled {
		return tx.Bucket(bucketMaintOpen).Delete(itob(w.ID))
	}
	return tx.Bucket(bucketMaintOpen).Put(itob(w.ID), nil)
}

// Window returns window id.
func (s *Store) Window(id uint64) (Window, error) {
	var w Window
	err := s.db.View(func(tx *bolt.Tx) error {
		found, err := getJSON(tx.Bucket(bucketMaint), itob(id), &w)
		if err == nil && !found {
			err = ErrNotFound
		}
		return err
	})
	return w, err
}

// OpenWindows returns the windows with something still to happen (upcoming, in progress, or with an
// announcement or silence task left), by start.
func (s *Store) OpenWindows() ([]Window, error) {
	var out []Window
	err := s.db.View(func(tx *bolt.Tx) error {
		out = nil
		b := tx.Bucket(bucketMaint)
		return tx.Bucket(bucketMaintOpen).ForEach(func(k, _ []byte) error {
			var w Window
			if _, err := getJSON(b, k, &w); err != nil {
				return err
			}
			out = append(out, w)
			return nil
		})
	})
	slices.SortFunc(out, func(a, b Window) int { return a.Start.Compare(b.Start) })
	return out, err
}

// RecentWindows returns up to n windows, newest first.
func (s *Store) RecentWindows(n int) ([]Window, error) {
	var out []Window
	err := s.db.View(func(tx *bolt.Tx) error {
		out = nil
		c := tx.Bucket(bucketMaint).Cursor()
		for k, v := c.Last(); k != nil && len(out) < n; k, v = c.Prev() {
			var w Window
			if err := json.Unmarshal(v, &w); err != nil {
				return err
			}
			out = append(out, w)
		}
		return nil
	})
	return out, err
}

// ActiveWindow returns the window in progress at t that covers service (an "all" one counts), the one that
// ends last when several do; ok is false when none does.
func (s *Store) ActiveWindow(service string, t time.Time) (w Window, ok bool, err error) {
	open, err := s.OpenWindows()
	for _, x := range open {
		if x.Active(t) && x.Covers(service) && (!ok || x.End.After(w.End)) {
			w, ok = x, true
		}
	}
	return w, ok, err
}

// AllSeries returns the series still running (not stopped).
func (s *Store) AllSeries() ([]Series, error) {
	var out []Series
	err := s.db.View(func(tx *bolt.Tx) error {
		out = nil
		return tx.Bucket(bucketMaintSeries).ForEach(func(_, v []byte) error {
			var sr Series
			if err := json.Unmarshal(v, &sr); err != nil {
				return err
			}
			if !sr.Stopped {
				out = append(out, sr)
			}
			return nil
		})
	})
	return out, err
}

// AddOccurrence creates the window of series id starting at start, unless the series has one at or after it
// already (a job run twice) or is stopped; ok is false then.
func (s *Store) AddOccurrence(id uint64, start time.Time, added time.Time) (w Window, ok bool, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		w, ok = Window{}, false
		b := tx.Bucket(bucketMaintSeries)
		var sr Series
		found, err := getJSON(b, itob(id), &sr)
		if err != nil || !found || sr.Stopped || !start.After(sr.Last) {
			return err
		}
		w = sr.Template
		w.Start, w.End, w.Series, w.Added = start, start.Add(sr.Duration), id, added
		w.Told = WindowTold{Added: true} // an occurrence is announced when it starts, not when it is created
		if w, err = addWindowTx(tx, w); err != nil {
			return err
		}
		sr.Last, ok = start, true
		return putJSON(b, itob(id), sr)
	})
	return w, ok, err
}

// StopSeries stops series id: no more occurrences are created.
func (s *Store) StopSeries(id uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMaintSeries)
		var sr Series
		found, err := getJSON(b, itob(id), &sr)
		if err != nil || !found {
			return err
		}
		sr.Stopped = true
		return putJSON(b, itob(id), sr)
	})
}

// windowsCovering returns the windows (over or not, but not cancelled) about service that overlap [from, to).
func windowsCovering(tx *bolt.Tx, service string, from, to time.Time) ([]Window, error) {
	var out []Window
	err := tx.Bucket(bucketMaint).ForEach(func(_, v []byte) error {
		var w Window
		if err := json.Unmarshal(v, &w); err != nil {
			return err
		}
		if w.Cancelled.IsZero() && w.Covers(service) && w.Start.Before(to) && w.End.After(from) {
			out = append(out, w)
		}
		return nil
	})
	return out, err
}
