package bot

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/opsbot/opsbot/commands"
)

// mountReminders serves the reminders read-only: GET /api/v1/reminders lists them with their next
// occurrence, GET /api/v1/reminders/{name}/agenda renders one now with its full live agenda (what
// !remind show sends in private).
func (b *Bot) mountReminders(mux *http.ServeMux) {
	f := commands.NewReminders(commands.Deps{Store: b.store, Prefix: b.o.Prefix, Now: b.o.Now, Location: b.o.Location,
		Channel: b.o.Channels[0], Channels: b.o.Channels, MaxLines: b.o.MaxLines, Log: b.o.Log, Agenda: b.o.Agenda})
	mux.Handle("GET /api/v1/reminders", b.requireToken(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		list, err := f.List(b.o.Now())
		b.writeReminderJSON(w, map[string]any{"reminders": list}, err)
	})))
	mux.Handle("GET /api/v1/reminders/{name}/agenda", b.requireToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := f.Render(r.PathValue("name"), b.o.Now())
		b.writeReminderJSON(w, a, err)
	})))
}

// writeReminderJSON answers v as JSON, or the error: 404 for an unknown reminder, 500 (logged) otherwise.
func (b *Bot) writeReminderJSON(w http.ResponseWriter, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	var ue *commands.UserError
	switch {
	case errors.As(err, &ue):
		w.WriteHeader(http.StatusNotFound)
		v = map[string]string{"error": ue.Msg}
	case err != nil:
		b.o.Log.Error("http: reminders", "err", err)
		w.WriteHeader(http.StatusInternalServerError)
		v = map[string]string{"error": "internal error (see log)"}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
