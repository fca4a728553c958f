package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Buckets of the incidents family. The indexes let open incidents and one service's incidents be read without
// scanning the history.
var (
	bucketIncidents        = []byte("incidents")           // id -> Incident
	bucketIncidentTimeline = []byte("incident_timeline")   // id + seq -> TimelineEntry
	bucketIncidentOpen     = []byte("incident_open")       // id -> nothing: the open incidents
	bucketIncidentService  = []byte("incident_by_service") // service 0x00 start id -> end(8) severity(1)
	bucketIncidentSpan     = []byte("incident_services")   // service -> longest closed impact in ns (8)
	bucketIncidentTopic    = []byte("incident_topic")      // channel -> TopicState
)

var (
	_ = registerBuckets(bucketIncidents, bucketIncidentTimeline, bucketIncidentOpen, bucketIncidentService, bucketIncidentSpan,
		bucketIncidentTopic)
	// By id; the timeline by incident then entry (entries come to the newest incidents).
	_ = registerAppendBuckets(bucketIncidents, bucketIncidentTimeline)
	_ = registerOpenCounter("incidents", countOpenIncidents)
)

// Incident statuses. Resolved is set only by ResolveIncident.
const (
	IncidentInvestigating = "investigating"
	IncidentIdentified    = "identified"
	IncidentMonitoring    = "monitoring"
	IncidentResolved      = "resolved"
)

// Incident is one incident. Its impact window is [Start, End); End is zero while it is open.
type Incident struct {
	ID       uint64 `json:"id"`
	Severity int    `json:"severity"` // 1 (worst) .. 4
	// Worst is the most severe severity the incident has had (0 in records from before it was kept: then
	// Severity). Availability weighs the impact by it: lowering a SEV1 to SEV4 for its follow-up must not
	// erase the outage from the numbers.
	Worst      int       `json:"worst,omitempty"`
	Service    string    `json:"service"`
	Affects    []string  `json:"affects,omitempty"` // further affected services, in the order added
	Summary    string    `json:"summary"`
	Status     string    `json:"status"`
	Commander  string    `json:"commander"`
	DeclaredBy string    `json:"declared_by"`
	Declared   time.Time `json:"declared"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end,omitzero"`
	// Freeze is whether the severity froze deploys of the affected services when last set (the policy is the
	// caller's); it applies only while the incident is open.
	Freeze  bool   `json:"freeze,omitempty"`
	Page    string `json:"page,omitempty"` // the page sent for it ("P-3")
	Entries int    `json:"entries"`        // timeline entries
	// Planned marks planned work (declared --planned): while its whole impact lies inside a maintenance window
	// of its service, it is planned downtime, reported beside availability and not counted against the SLO.
	Planned bool `json:"planned,omitempty"`
}

// Open reports whether the incident is not resolved.
func (i Incident) Open() bool { return i.Status != IncidentResolved }

// Services is the declared service followed by the other affected services.
func (i Incident) Services() []string { return append([]string{i.Service}, i.Affects...) }

// Duration is the impact so far: from Start to End, or to now while open.
func (i Incident) Duration(now time.Time) time.Duration {
	if i.Open() {
		return now.Sub(i.Start)
	}
	return i.End.Sub(i.Start)
}

// Name is "INC-7".
func (i Incident) Name() string { return fmt.Sprintf("INC-%d", i.ID) }

func (i Incident) clone() Incident {
	i.Affects = slices.Clone(i.Affects)
	return i
}

// TimelineEntry is one timestamped line of an incident's timeline.
type TimelineEntry struct {
	Incident uint64    `json:"incident"`
	Seq      uint64    `json:"seq"`
	At       time.Time `json:"at"`
	Author   string    `json:"author"`
	Text     string    `json:"text"`
	// Public marks an update written for the public status page (!incident update --public); every other
	// entry is internal.
	Public bool `json:"public,omitempty"`
}

// The store's own timeline texts that name an account or a time; Render rewrites them for a view.
const (
	commanderText = "commander %s -> %s" // old and new commander
	impactSince   = " (impact since "    // + RFC 3339 + ")", at the end of "declared ..."
	impactEnded   = " (impact ended "    // + RFC 3339 + ")", right after "resolved"
)

// Render is the entry's text as a view shows it. The accounts and times the store wrote into its own entries
// (a change of commander; when the impact started or ended, on a declaration or a resolution) are written by
// name and at, so that chat can keep from highlighting and every view can use its own zone (a nil name leaves
// accounts as they are); anything else is shown as written.
func (e TimelineEntry) Render(name func(string) string, at func(time.Time) string) string {
	text := e.Text
	if rest, ok := strings.CutPrefix(text, "commander "); ok {
		old, account, ok := strings.Cut(rest, " -> ")
		if ok && account != "" && !strings.ContainsAny(old+account, " >") && name != nil {
			return fmt.Sprintf(commanderText, name(old), name(account))
		}
	}
	switch {
	case strings.HasPrefix(text, "declared ") && strings.Contains(text, impactSince):
		return restamp(text, strings.LastIndex(text, impactSince)+len(impactSince), at)
	case strings.HasPrefix(text, "resolved"+impactEnded):
		return restamp(text, len("resolved"+impactEnded), at)
	}
	return text
}

// restamp writes by at the time the store stamped in text from i on (RFC 3339, then ")"); text is as it was
// when there is none.
func restamp(text string, i int, at func(time.Time) string) string {
	stamp, tail, ok := strings.Cut(text[i:], ")")
	t, err := time.Parse(time.RFC3339, stamp)
	if !ok || err != nil {
		return text
	}
	return text[:i] + at(t) + ")" + tail
}

// IncidentChange is an incident before and after a change.
type IncidentChange struct {
	Before, After Incident
}

// IncidentRuleError is a change the incident lifecycle does not allow; Msg is for the person who asked.
type IncidentRuleError struct{ Msg string }

func (e *IncidentRuleError) Error() string { return "store: " + e.Msg }

func ruleErr(format string, a ...any) error {
	return &IncidentRuleError{Msg: fmt.Sprintf(format, a...)}
}

// DeclareIncident stores a new incident from in's Severity, Service, Affects, Summary, DeclaredBy, Commander
// (default: DeclaredBy), Start (default: now), Freeze and Page (the page it grew from, if any), with its first
// timeline entry.
func (s *Store) DeclareIncident(in Incident) (Incident, error) {
	now := s.Now().UTC()
	if in.Severity < 1 || in.Severity > 4 || in.Service == "" || in.DeclaredBy == "" {
		return in, fmt.Errorf("store: declare incident: bad severity %d, service %q or declarer %q", in.Severity, in.Service, in.DeclaredBy)
	}
	if in.Start.IsZero() {
		in.Start = now
	}
	if in.Start.After(now) {
		return in, ruleErr("the impact cannot start in the future (%s)", in.Start.Format(time.RFC3339))
	}
	if in.Start.Before(time.Unix(0, 0)) { // the index keys are nanoseconds since 1970
		return in, ruleErr("the impact cannot start before 1970 (%s)", in.Start.Format(time.RFC3339))
	}
	if in.Commander == "" {
		in.Commander = in.DeclaredBy
	}
	in.Start, in.Declared, in.End = in.Start.UTC(), now, time.Time{}
	in.Status, in.Entries = IncidentInvestigating, 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		id, err := tx.Bucket(bucketIncidents).NextSequence()
		if err != nil {
			return err
		}
		in.ID, in.Entries = id, 0 // a write function may run twice (boltDB.Update)
		text := fmt.Sprintf("declared SEV%d on %s: %s", in.Severity, in.Service, in.Summary)
		if in.Start.Before(now.Add(-time.Minute)) {
			text += impactSince + in.Start.Format(time.RFC3339) + ")"
		}
		return saveIncident(tx, nil, &in, TimelineEntry{At: now, Author: in.DeclaredBy, Text: text})
	})
	if err != nil {
		return in, fmt.Errorf("store: declare incident: %w", err)
	}
	return in, nil
}

// saveIncident writes inc, moves its index entries from old (nil for a new incident) and appends the timeline
// entry e (its incident and sequence number are set here); inc.Entries counts it.
func saveIncident(tx *bolt.Tx, old, inc *Incident, e TimelineEntry) error {
	if old != nil {
		if err := unindexIncident(tx, *old); err != nil {
			return err
		}
	}
	if err := indexIncident(tx, *inc); err != nil {
		return err
	}
	tl := tx.Bucket(bucketIncidentTimeline)
	seq, err := tl.NextSequence()
	if err != nil {
		return err
	}
	inc.Entries++
	e.Incident, e.Seq = inc.ID, seq
	if err := putJSON(tl, timelineKey(inc.ID, seq), e); err != nil {
		return err
	}
	return putJSON(tx.Bucket(bucketIncidents), itob(inc.ID), inc)
}

func timelineKey(id, seq uint64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, id)
	binary.BigEndian.PutUint64(k[8:], seq)
	return k
}

// serviceKey is service 0x00 start(ns) id: one service's incidents sort by impact start.
func serviceKey(service string, start time.Time, id uint64) []byte {
	k := make([]byte, 0, len(service)+17)
	k = append(k, service...)
	k = append(k, 0)
	k = binary.BigEndian.AppendUint64(k, nanos(start))
	return binary.BigEndian.AppendUint64(k, id)
}

// nanos is t in ns since 1970, 0 for earlier times (which opsbot never records).
//
// It saturates: 0 before 1970, the largest int64 after 2262 (UnixNano's range; outside it UnixNano's result is
// undefined, and wraps).
func nanos(t time.Time) uint64 {
	switch {
	case t.Unix() < 0:
		return 0
	case t.After(maxNanosTime):
		return math.MaxInt64
	}
	return uint64(t.UnixNano())
}

// maxNanosTime is the latest time UnixNano can give.
var maxNanosTime = time.Unix(0, math.MaxInt64)

// ImpactSeverity is the severity the incident's impact is weighed at: the worst it has had.
func (inc Incident) ImpactSeverity() int {
	if inc.Worst >= 1 && inc.Worst < inc.Severity {
		return inc.Worst
	}
	return inc.Severity
}

// plannedBit marks a planned incident in the severity byte of its service index entries.
const plannedBit = 0x80

func indexIncident(tx *bolt.Tx, inc Incident) error {
	if inc.Open() {
		if err := tx.Bucket(bucketIncidentOpen).Put(itob(inc.ID), nil); err != nil {
			return err
		}
	}
	var end uint64
	if !inc.Open() {
		end = nanos(inc.End)
	}
	val := binary.BigEndian.AppendUint64(nil, end)
	sev := byte(inc.ImpactSeverity())
	if inc.Planned {
		sev |= plannedBit
	}
	val = append(val, sev)
	byService, spans := tx.Bucket(bucketIncidentService), tx.Bucket(bucketIncidentSpan)
	for _, svc := range inc.Services() {
		if err := byService.Put(serviceKey(svc, inc.Start, inc.ID), val); err != nil {
			return err
		}
		// The longest closed impact per service bounds how far before a window an overlapping incident can
		// start, so availability seeks instead of scanning.
		var span uint64
		if start := nanos(inc.Start); !inc.Open() && end > start {
			span = end - start
		}
		if raw := spans.Get([]byte(svc)); raw != nil && btoi(raw) >= span {
			continue
		}
		if err := spans.Put([]byte(svc), itob(span)); err != nil {
			return err
		}
	}
	return nil
}

func unindexIncident(tx *bolt.Tx, inc Incident) error {
	if err := tx.Bucket(bucketIncidentOpen).Delete(itob(inc.ID)); err != nil {
		return err
	}
	byService := tx.Bucket(bucketIncidentService)
	for _, svc := range inc.Services() {
		if err := byService.Delete(serviceKey(svc, inc.Start, inc.ID)); err != nil {
			return err
		}
	}
	return nil
}

func getIncident(tx *bolt.Tx, id uint64) (Incident, error) {
	var inc Incident
	ok, err := getJSON(tx.Bucket(bucketIncidents), itob(id), &inc)
	if err != nil {
		return inc, err
	}
	if !ok {
		return inc, fmt.Errorf("incident %d: %w", id, ErrNotFound)
	}
	return inc, nil
}

// changeIncident applies f to incident id in one transaction and records the timeline text f returns.
func (s *Store) changeIncident(id uint64, by string, f func(inc *Incident, now time.Time) (string, error)) (IncidentChange, error) {
	return s.changeIncidentEntry(id, by, false, f)
}

// changeIncidentEntry is changeIncident with the timeline entry marked public or not.
func (s *Store) changeIncidentEntry(id uint64, by string, public bool, f func(inc *Incident, now time.Time) (string, error)) (IncidentChange, error) {
	var ch IncidentChange
	now := s.Now().UTC()
	err := s.db.Update(func(tx *bolt.Tx) error {
		inc, err := getIncident(tx, id)
		if err != nil {
			return err
		}
		before := inc.clone()
		text, err := f(&inc, now)
		if err != nil {
			return err
		}
		if err := saveIncident(tx, &before, &inc, TimelineEntry{At: now, Author: by, Text: text, Public: public}); err != nil {
			return err
		}
		ch = IncidentChange{Before: before, After: inc}
		return nil
	})
	if err != nil {
		var re *IncidentRuleError
		if errors.As(err, &re) {
			return ch, err
		}
		return ch, fmt.Errorf("store: change incident %d: %w", id, err)
	}
	return ch, nil
}
