package bot

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// mountServices serves the service catalogue read-only as JSON, behind http.api_token:
// GET /api/v1/services lists every service with its direct edges; GET /api/v1/services/<name> adds the
// impact walk (everything that fails with it, nearest first, each with its path) and the cycles met.
func (b *Bot) mountServices(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/services", b.requireToken(http.HandlerFunc(b.apiServices)))
	mux.Handle("GET /api/v1/services/{name}", b.requireToken(http.HandlerFunc(b.apiService)))
}

// serviceList is the body of GET /api/v1/services.
type serviceList struct {
	Services []store.Service `json:"services"`
}

// serviceDetail is the body of GET /api/v1/services/<name>: the service (with "dependents", its direct
// dependents) plus "impact" and "cycles".
type serviceDetail struct {
	store.Service
	Impact []store.Dependent `json:"impact"`
	Cycles [][]string        `json:"cycles"`
}

// serviceAPIError is the body of an error answer.
type serviceAPIError struct {
	Error      string `json:"error"`
	DidYouMean string `json:"did_you_mean,omitempty"`
}

func (b *Bot) apiServices(w http.ResponseWriter, _ *http.Request) {
	all, err := b.store.Services()
	if err != nil {
		b.serviceAPIFailed(w, err)
		return
	}
	if all == nil {
		all = []store.Service{}
	}
	writeJSON(w, http.StatusOK, serviceList{Services: all})
}

func (b *Bot) apiService(w http.ResponseWriter, r *http.Request) {
	name := strings.ToLower(r.PathValue("name")) // as in chat and the deploy API: names are lower case
	svc, im, err := b.store.ServiceReport(name)
	if errors.Is(err, store.ErrNotFound) {
		body := serviceAPIError{Error: fmt.Sprintf("no service %q", chat.Truncate(name, 70))}
		if names, lerr := b.store.ServiceNames(); lerr == nil {
			body.DidYouMean = commands.SuggestService(name, names)
		}
		writeJSON(w, http.StatusNotFound, body)
		return
	}
	if err != nil {
		b.serviceAPIFailed(w, err)
		return
	}
	writeJSON(w, http.StatusOK, serviceDetail{Service: svc, Impact: im.Dependents, Cycles: im.Cycles})
}

func (b *Bot) serviceAPIFailed(w http.ResponseWriter, err error) {
	b.metrics.storeFailed(err)
	b.o.Log.Error("http: services api", "err", err)
	writeJSON(w, http.StatusInternalServerError, serviceAPIError{Error: "internal error (see log)"})
}
