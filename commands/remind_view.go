package commands

import (
	"time"

	"github.com/opsbot/opsbot/store"
)

// ReminderView is a reminder as the HTTP API shows it.
type ReminderView struct {
	Name     string            `json:"name"`
	Schedule string            `json:"schedule"`
	Zone     string            `json:"zone"`
	Channel  string            `json:"channel"`
	Text     string            `json:"text"`
	Agenda   string            `json:"agenda,omitempty"`
	Source   string            `json:"source"`
	Next     *time.Time        `json:"next,omitempty"`      // the next occurrence that will post
	Skipping *time.Time        `json:"skipping,omitempty"`  // the next occurrence, when !remind skip skips it
	Last     *store.Occurrence `json:"last,omitempty"`      // the last occurrence handled (posted or skipped)
	Posted   *time.Time        `json:"posted_at,omitempty"` // when Last was posted; absent if it was skipped
	Error    string            `json:"error,omitempty"`     // a schedule that no longer parses
}

// ReminderAgenda is a reminder rendered now: the full message and its agenda.
type ReminderAgenda struct {
	Name    string   `json:"name"`
	Message []string `json:"message"`
	Agenda  *Agenda  `json:"agenda,omitempty"`
}

// List describes every reminder at now.
func (f *Reminders) List(now time.Time) ([]ReminderView, error) {
	rs, err := f.all()
	if err != nil {
		return nil, err
	}
	out := make([]ReminderView, 0, len(rs))
	for _, r := range rs {
		v := ReminderView{Name: r.Name, Schedule: r.Schedule, Channel: r.Channel, Text: r.Text, Agenda: r.Agenda, Source: r.Source, Last: r.Last}
		if !r.Posted.IsZero() {
			v.Posted = &r.Posted
		}
		sc, err := f.schedule(r)
		if err != nil {
			v.Error = err.Error()
			out = append(out, v)
			continue
		}
		v.Zone = sc.zone()
		ups := sc.upcoming(sc.reference(r), now, 2)
		if len(ups) > 0 && r.Skip != nil && r.Skip.At.Equal(ups[0]) {
			v.Skipping, ups = &ups[0], ups[1:]
		}
		if len(ups) > 0 {
			v.Next = &ups[0]
		}
		out = append(out, v)
	}
	return out, nil
}

// Render renders the named reminder at now, as !remind show does. An unknown name is a *UserError.
func (f *Reminders) Render(name string, now time.Time) (ReminderAgenda, error) {
	r, sc, err := f.lookup(name)
	if err != nil {
		return ReminderAgenda{}, err
	}
	a := f.agendaFor(r, now)
	return ReminderAgenda{Name: r.Name, Message: f.fullMessage(r, sc, now, a), Agenda: a}, nil
}
