package commands

import (
	"errors"
	"net/http"
	"strings"
)

// apiList is GET /api/v1/reminders: every reminder with its next occurrence.
func (f *Reminders) apiList(w http.ResponseWriter, _ *http.Request) {
	list, err := f.List(f.rt.Now())
	f.answer(w, map[string]any{"reminders": list}, err)
}

// apiAgenda is GET /api/v1/reminders/{name}/agenda: the reminder rendered now with its full live agenda
// (what !remind show sends in private).
func (f *Reminders) apiAgenda(w http.ResponseWriter, r *http.Request) {
	a, err := f.Render(r.PathValue("name"), f.rt.Now())
	f.answer(w, a, err)
}

// answer writes v as JSON, or the error: 404 for an unknown reminder, 500 (logged) otherwise.
func (f *Reminders) answer(w http.ResponseWriter, v any, err error) {
	var ue *UserError
	switch {
	case errors.As(err, &ue):
		WriteError(w, http.StatusNotFound, strings.TrimPrefix(ue.Msg, "error: "))
	case err != nil:
		f.rt.fail(w, "reminders", err)
	default:
		WriteJSON(w, http.StatusOK, v)
	}
}
