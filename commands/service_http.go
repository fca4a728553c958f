package commands

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// ServiceList is the body of GET /api/v1/services.
type ServiceList struct {
	Services []store.Service `json:"services"`
}

// ServiceDetail is the body of GET /api/v1/services/<name>: the service (with "dependents", its direct
// dependents) plus "impact" (everything that fails with it, nearest first, each with its path) and "cycles".
type ServiceDetail struct {
	store.Service
	Impact []store.Dependent `json:"impact"`
	Cycles [][]string        `json:"cycles"`
}

// ServiceNotFound is the body of a 404: the error and the nearest known name.
type ServiceNotFound struct {
	Error      string `json:"error"`
	DidYouMean string `json:"did_you_mean,omitempty"`
}

// apiServices is GET /api/v1/services: every service with its direct edges.
func (s *Services) apiServices(w http.ResponseWriter, _ *http.Request) {
	all, err := s.st.Services()
	if err != nil {
		s.rt.fail(w, "services", err)
		return
	}
	WriteJSON(w, http.StatusOK, ServiceList{Services: nonNil(all)})
}

// apiService is GET /api/v1/services/<name>: one service with its impact walk and the cycles met.
func (s *Services) apiService(w http.ResponseWriter, r *http.Request) {
	name := strings.ToLower(r.PathValue("name")) // as in chat and the deploy API: names are lower case
	svc, im, err := s.st.ServiceReport(name)
	if errors.Is(err, store.ErrNotFound) {
		body := ServiceNotFound{Error: fmt.Sprintf("no service %q", chat.Truncate(name, 70))}
		if names, lerr := s.st.ServiceNames(); lerr == nil {
			body.DidYouMean = SuggestService(name, names)
		}
		WriteJSON(w, http.StatusNotFound, body)
		return
	}
	if err != nil {
		s.rt.fail(w, "service", err)
		return
	}
	WriteJSON(w, http.StatusOK, ServiceDetail{Service: svc, Impact: im.Dependents, Cycles: im.Cycles})
}
