package store

import (
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Alert buckets. A group is Alertmanager's notion: the alerts its route puts together under one groupKey. The
// store keeps one record per firing of a group: a group that fires again after it was resolved is a new
// record (and a new page).
var (
	bucketAlertGroups = []byte("alert_groups")         // id -> AlertGroup
	bucketAlertActive = []byte("alert_groups_by_key")  // groupKey -> id of the group's newest record
	bucketAlertFiring = []byte("alert_groups_firing")  // id -> "": records with alerts firing
	bucketAlertUntold = []byte("alert_groups_untold")  // id -> "": records with news the channel has not had
	bucketAlertByPage = []byte("alert_groups_by_page") // page id -> id of the record the page is for
	bucketAlertState  = []byte("alert_state")          // keyHeartbeat -> Heartbeat
)

var _ = registerBuckets(bucketAlertGroups, bucketAlertActive, bucketAlertFiring, bucketAlertUntold, bucketAlertByPage, bucketAlertState)

var keyHeartbeat = []byte("heartbeat")

// Alert statuses, as Alertmanager sends them.
const (
	AlertFiring   = "firing"
	AlertResolved = "resolved"
)

// What happens to an alert group, by severity (alerts.severity): a page with escalation, one channel line, or
// nothing but the record.
const (
	ActionPage   = "page"
	ActionNotify = "notify"
	ActionIgnore = "ignore"
)

// ActionRank orders actions: a group takes the strongest action of its alerts.
func ActionRank(a string) int {
	switch a {
	case ActionPage:
		return 3
	case ActionNotify:
		return 2
	case ActionIgnore:
		return 1
	}
	return 0
}

// Alert is one alert of a group, as Alertmanager last sent it (labels and annotations sanitised by the caller).
type Alert struct {
	Fingerprint  string            `json:"fingerprint"`
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"starts_at"`
	EndsAt       time.Time         `json:"ends_at,omitzero"`
	GeneratorURL string            `json:"generator_url,omitempty"`
}

// AlertNews is what changed in a group since the channel was last told: the line (or summary) still owed.
type AlertNews struct {
	Opened   bool `json:"opened,omitempty"`   // the group started firing
	Added    int  `json:"added,omitempty"`    // alerts that joined it while it fired
	Resolved bool `json:"resolved,omitempty"` // every alert of it is resolved
}

// Empty reports whether there is nothing to tell.
func (n AlertNews) Empty() bool { return !n.Opened && n.Added == 0 && !n.Resolved }

// AlertGroup is one firing of an Alertmanager alert group, from its first firing alert to its last resolve.
type AlertGroup struct {
	ID       uint64    `json:"id"`
	Key      string    `json:"group_key"`
	Name     string    `json:"name"`               // the alertname
	Service  string    `json:"service,omitempty"`  // the service label's value
	Severity string    `json:"severity,omitempty"` // the most severe action's severity label
	Action   string    `json:"action"`             // page, notify or ignore
	Alerts   []Alert   `json:"alerts"`
	Firing   int       `json:"firing"`
	Summary  string    `json:"summary,omitempty"` // the newest summary (or description) annotation
	Runbook  string    `json:"runbook_url,omitempty"`
	Opened   time.Time `json:"opened"`
	Updated  time.Time `json:"updated"`
	Resolved time.Time `json:"resolved,omitzero"`
	// Page is the page opened for the group (0: none yet, or its action is not page); PageNote says why a
	// page was not opened ("nobody on call").
	Page     uint64 `json:"page,omitempty"`
	PageNote string `json:"page_note,omitempty"`
	// SuppressedBy names the maintenance window that kept the group from paging ("M-3").
	SuppressedBy string `json:"suppressed_by,omitempty"`
	// News is what the channel has not been told yet; Rev counts the changes, so telling news that changed
	// meanwhile does not clear them.
	News AlertNews `json:"news,omitzero"`
	Rev  int       `json:"rev"`
}

// Ref is the record's id as people write it when it has no page: A-7.
func (g AlertGroup) Ref() string { return fmt.Sprintf("A-%d", g.ID) }

// AlertUpdate is one webhook message about a group, decoded, sanitised and classified by the caller.
type AlertUpdate struct {
	Key      string
	Name     string
	Service  string
	Severity string
	Action   string
	Alerts   []Alert
	Summary  string
	Runbook  string
	Now      time.Time
	// FormerKey, when set, is the key an older opsbot stored the group under: a record found only under it
	// is moved to Key (once: another group alike in its start then opens a record of its own).
	FormerKey string
	// Suppressed names the maintenance window in progress that holds the group's page back ("M-3"): the
	// group is stored and listed, but not paged while it is set (it is set afresh at every update).
	Suppressed string
	// Page, when set, lets the group's page follow it in the same transaction: opened (Request with Key
	// "alert:<id>" and Text(group)) when a firing group that pages has no page, no note and no window
	// suppressing it; its text kept to Text(group) while it fires; resolved by Request.By with the group.
	Page *AlertPage
}

// AlertPage is how an alert group's page is opened and worded.
type AlertPage struct {
	Request PageRequest
	Text    func(AlertGroup) string
}

// AlertChange says what ApplyAlerts did.
type AlertChange struct {
	Group AlertGroup
	// Page is the group's page as the update left it (zero without one); Opened is true when the update
	// opened it, Resolved when the update resolved it.
	Page             Page
	Opened, Resolved bool
	// New is true when the update opened a record (the group's first firing, or a firing after a resolve).
	New bool
	// Ignored is true for an update with nothing firing about a group not firing: nothing was stored.
	Ignored bool
}

// ApplyAlerts records a webhook message: a firing group without a firing record opens one; a re-send updates
// the record (alerts, count, newest summary, the stronger action) and notes the alerts that joined; a message
// with every alert resolved resolves the record. What the channel must be told is kept in the record's News
// until AlertsTold.
func (s *Store) ApplyAlerts(u AlertUpdate) (AlertChange, error) {
	var ch AlertChange
	err := s.db.Update(func(tx *bolt.Tx) error {
		ch = AlertChange{} // a write function may run twice (boltDB.Update)
		groups := tx.Bucket(bucketAlertGroups)
		firing := 0
		for _, a := range u.Alerts {
			if a.Status == AlertFiring {
				firing++
			}
		}
		raw, err := activeAlertGroup(tx, u)
		if err != nil {
			return err
		}
		var g AlertGroup
		current := false
		if raw != nil {
			if _, err := getJSON(groups, raw, &g); err != nil {
				return err
			}
			g.Key, current = u.Key, g.Resolved.IsZero()
		}
		switch {
		case !current && firing == 0:
			ch.Ignored = true // a resolve of a group we have no firing record of (resolved before, or never seen)
			return nil
		case !current:
			id, err := groups.NextSequence()
			if err != nil {
				return err
			}
			g = AlertGroup{ID: id, Key: u.Key, Opened: u.Now, News: AlertNews{Opened: true}}
			ch.New = true
			if err := tx.Bucket(bucketAlertActive).Put([]byte(u.Key), itob(id)); err != nil {
				return err
			}
		default:
			if added := joined(g.Alerts, u.Alerts); added > 0 && !g.News.Opened {
				g.News.Added += added
			}
		}
		g.Name, g.Service, g.Alerts, g.Firing, g.Updated = u.Name, u.Service, u.Alerts, firing, u.Now
		if u.Summary != "" {
			g.Summary = u.Summary
		}
		if u.Runbook != "" {
			g.Runbook = u.Runbook
		}
		if ActionRank(u.Action) > ActionRank(g.Action) {
			g.Action, g.Severity = u.Action, u.Severity
		}
		if firing == 0 {
			g.Resolved, g.News.Resolved = u.Now, true
			if err := tx.Bucket(bucketAlertFiring).Delete(itob(g.ID)); err != nil {
				return err
			}
		} else if err := tx.Bucket(bucketAlertFiring).Put(itob(g.ID), nil); err != nil {
			return err
		}
		if g.Page == 0 {
			g.SuppressedBy = u.Suppressed
		}
		g.Rev++
		if u.Page != nil {
			if err := followPageTx(tx, &g, &ch, u); err != nil {
				return err
			}
		}
		ch.Group = g
		return putAlertGroup(tx, g)
	})
	if err != nil {
		err = fmt.Errorf("store: apply alerts of %q: %w", u.Key, err)
	}
	return ch, err
}

// activeAlertGroup is the id of the newest record of u's group, nil for none; a record found under
// u.FormerKey is moved to u.Key.
func activeAlertGroup(tx *bolt.Tx, u AlertUpdate) ([]byte, error) {
	active := tx.Bucket(bucketAlertActive)
	if raw := active.Get([]byte(u.Key)); raw != nil || u.FormerKey == "" {
		return raw, nil
	}
	raw := active.Get([]byte(u.FormerKey))
	if raw == nil {
		return nil, nil
	}
	raw = slices.Clone(raw) // valid only until the bucket changes
	if err := active.Delete([]byte(u.FormerKey)); err != nil {
		return nil, err
	}
	return raw, active.Put([]byte(u.Key), raw)
}

// followPageTx makes the group's page follow the group, in the group's transaction (see AlertUpdate.Page).
func followPageTx(tx *bolt.Tx, g *AlertGroup, ch *AlertChange, u AlertUpdate) error {
	req := u.Page.Request
	if g.Page == 0 {
		if !g.Resolved.IsZero() || g.Action != ActionPage || g.PageNote != "" || g.SuppressedBy != "" {
			return nil
		}
		req.Key, req.Text, req.Now = fmt.Sprintf("alert:%d", g.ID), u.Page.Text(*g), u.Now
		p, _, err := openPageTx(tx, req)
		switch {
		case errors.Is(err, ErrNobodyOnCall):
			g.PageNote = "nobody on call"
			return nil
		case err != nil:
			return err
		}
		g.Page, ch.Page, ch.Opened = p.ID, p, true
		return tx.Bucket(bucketAlertByPage).Put(itob(p.ID), itob(g.ID))
	}
	pages := tx.Bucket(bucketPages)
	var p Page
	if found, err := getJSON(pages, pageKey(g.Page), &p); err != nil || !found {
		return err
	}
	ch.Page = p
	if p.State == PageResolved {
		return nil
	}
	if !g.Resolved.IsZero() {
		if err := resolveTx(tx, &p, req.By, u.Now); err != nil {
			return err
		}
		ch.Page, ch.Resolved = p, true
		if err := putPage(tx, p); err != nil {
			return err
		}
		return enqueueTx(tx, req.Notifiers, "resolve", p, "", u.Now)
	}
	if text := u.Page.Text(*g); text != p.Text {
		p.Text = text
		ch.Page = p
		return putPage(tx, p)
	}
	return nil
}

// joined counts the alerts firing in next that were not firing in before.
func joined(before, next []Alert) int {
	n := 0
	for _, a := range next {
		if a.Status != AlertFiring {
			continue
		}
		if !slices.ContainsFunc(before, func(b Alert) bool { return b.Fingerprint == a.Fingerprint && b.Status == AlertFiring }) {
			n++
		}
	}
	return n
}

// putAlertGroup stores g and keeps the untold index in step with its news.
func putAlertGroup(tx *bolt.Tx, g AlertGroup) error {
	if err := putJSON(tx.Bucket(bucketAlertGroups), itob(g.ID), g); err != nil {
		return err
	}
	if g.News.Empty() {
		return tx.Bucket(bucketAlertUntold).Delete(itob(g.ID))
	}
	return tx.Bucket(bucketAlertUntold).Put(itob(g.ID), nil)
}

// changeAlertGroup loads record id, lets change modify it and stores it, in one transaction.
func (s *Store) changeAlertGroup(id uint64, change func(tx *bolt.Tx, g *AlertGroup) error) (AlertGroup, error) {
	var g AlertGroup
	err := s.db.Update(func(tx *bolt.Tx) error {
		g = AlertGroup{}
		found, err := getJSON(tx.Bucket(bucketAlertGroups), itob(id), &g)
		if err != nil {
			return err
		}
		if !found {
			return ErrNotFound
		}
		if err := change(tx, &g); err != nil {
			return err
		}
		return putAlertGroup(tx, g)
	})
	return g, err
}

// ReleaseAlertGroup lifts record id's suppression (its maintenance window ended while it still fires) and
// opens its page as ApplyAlerts would; the change says whether it did.
func (s *Store) ReleaseAlertGroup(id uint64, page AlertPage, now time.Time) (AlertChange, error) {
	var ch AlertChange
	err := s.db.Update(func(tx *bolt.Tx) error {
		ch = AlertChange{}
		var g AlertGroup
		found, err := getJSON(tx.Bucket(bucketAlertGroups), itob(id), &g)
		if err != nil || !found || g.SuppressedBy == "" || !g.Resolved.IsZero() {
			return err
		}
		g.SuppressedBy = ""
		g.Rev++
		if err := followPageTx(tx, &g, &ch, AlertUpdate{Now: now, Page: &page}); err != nil {
			return err
		}
		ch.Group = g
		return putAlertGroup(tx, g)
	})
	return ch, err
}

// AlertsTold clears the news of the records told (each at the Rev it was read with: news that arrived
// meanwhile stay owed).
func (s *Store) AlertsTold(told []AlertGroup) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, t := range told {
			var g AlertGroup
			found, err := getJSON(tx.Bucket(bucketAlertGroups), itob(t.ID), &g)
			if err != nil {
				return err
			}
			if !found || g.Rev != t.Rev {
				continue
			}
			g.News = AlertNews{}
			if err := putAlertGroup(tx, g); err != nil {
				return err
			}
		}
		return nil
	})
}

// readGroups decodes the records whose ids are the keys of index.
func (s *Store) readGroups(index []byte, limit int) ([]AlertGroup, error) {
	var out []AlertGroup
	err := s.db.View(func(tx *bolt.Tx) error {
		out = nil
		groups := tx.Bucket(bucketAlertGroups)
		c := tx.Bucket(index).Cursor()
		for k, _ := c.First(); k != nil && (limit <= 0 || len(out) < limit); k, _ = c.Next() {
			var g AlertGroup
			found, err := getJSON(groups, k, &g)
			if err != nil {
				return err
			}
			if found {
				out = append(out, g)
			}
		}
		return nil
	})
	return out, err
}

// FiringAlertGroups returns the records with alerts firing, oldest first.
func (s *Store) FiringAlertGroups() ([]AlertGroup, error) { return s.readGroups(bucketAlertFiring, 0) }

// UntoldAlertGroups returns up to limit records with news for the channel, oldest first.
func (s *Store) UntoldAlertGroups(limit int) ([]AlertGroup, error) {
	return s.readGroups(bucketAlertUntold, limit)
}

// AlertGroup returns record id.
func (s *Store) AlertGroup(id uint64) (AlertGroup, error) {
	var g AlertGroup
	err := s.db.View(func(tx *bolt.Tx) error {
		found, err := getJSON(tx.Bucket(bucketAlertGroups), itob(id), &g)
		if err == nil && !found {
			err = ErrNotFound
		}
		return err
	})
	return g, err
}

// AlertGroupOfPage returns the record page id was opened for; ErrNotFound when the page is not an alert's.
func (s *Store) AlertGroupOfPage(page uint64) (AlertGroup, error) {
	var g AlertGroup
	err := s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketAlertByPage).Get(itob(page))
		if raw == nil {
			return ErrNotFound
		}
		found, err := getJSON(tx.Bucket(bucketAlertGroups), raw, &g)
		if err == nil && !found {
			err = ErrNotFound
		}
		return err
	})
	return g, err
}

// FiringAlertCount counts the records with alerts firing (for the metrics).
func (s *Store) FiringAlertCount() (int, error) {
	var n int
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketAlertFiring).Stats().KeyN
		return nil
	})
	return n, err
}

// Heartbeat is the state of the alert pipeline's dead man's switch: when the heartbeat alert (Watchdog) was
// last received, and the page opened while it was missing.
type Heartbeat struct {
	LastSeen time.Time `json:"last_seen,omitzero"`
	Page     uint64    `json:"page,omitempty"`
}

// AlertHeartbeat returns the dead man's switch's state.
func (s *Store) AlertHeartbeat() (Heartbeat, error) {
	var h Heartbeat
	err := s.db.View(func(tx *bolt.Tx) error {
		_, err := getJSON(tx.Bucket(bucketAlertState), keyHeartbeat, &h)
		return err
	})
	return h, err
}

// SeeHeartbeat records the heartbeat at now and returns the state before (its Page is the page to resolve,
// if any: the state after has none).
func (s *Store) SeeHeartbeat(now time.Time) (Heartbeat, error) {
	var before Heartbeat
	err := s.db.Update(func(tx *bolt.Tx) error {
		before = Heartbeat{}
		b := tx.Bucket(bucketAlertState)
		if _, err := getJSON(b, keyHeartbeat, &before); err != nil {
			return err
		}
		return putJSON(b, keyHeartbeat, Heartbeat{LastSeen: now})
	})
	return before, err
}

// ErrHeartbeatPaged refuses a second page for the same silence.
var ErrHeartbeatPaged = errors.New("store: the silent alert pipeline is paged already")

// HeartbeatPaged records page as the page about the pipeline silent since lastSeen, unless a heartbeat came
// meanwhile (ErrHeartbeatPaged is returned too when another page is recorded).
func (s *Store) HeartbeatPaged(lastSeen time.Time, page uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAlertState)
		var h Heartbeat
		if _, err := getJSON(b, keyHeartbeat, &h); err != nil {
			return err
		}
		if h.Page != 0 || !h.LastSeen.Equal(lastSeen) {
			return ErrHeartbeatPaged
		}
		h.Page = page
		return putJSON(b, keyHeartbeat, h)
	})
}
