package commands

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/opsbot/opsbot/store"
)

// apiGate answers a pipeline's "may I deploy now?": 200 {"ok":true}, or 423 with the reason when the
// service is locked or frozen.
func (p *Deploys) apiGate(w http.ResponseWriter, r *http.Request) {
	svc, ok := p.apiService(w, r.PathValue("service"))
	if !ok {
		return
	}
	locks, frozen, err := p.Gate(svc)
	if err != nil {
		p.rt.fail(w, "deploys", err)
		return
	}
	if len(locks) == 0 && frozen == "" {
		WriteJSON(w, http.StatusOK, map[string]any{"ok": true, "service": svc})
		return
	}
	var why []string
	for _, l := range locks {
		what := l.Service + " is"
		if l.Service == store.LockAll {
			what = "all deploys are"
		}
		why = append(why, fmt.Sprintf("%s locked by %s since %s: %s", what, l.By, l.At.UTC().Format(time.RFC3339), l.Reason))
	}
	if frozen != "" {
		why = append(why, "frozen: "+frozen)
	}
	WriteJSON(w, http.StatusLocked, map[string]any{"ok": false, "service": svc, "reason": strings.Join(why, "; "),
		"locks": nonNil(locks), "frozen": frozen})
}

// apiOverview lists every rollout in progress, every lock and the newest deploys.
func (p *Deploys) apiOverview(w http.ResponseWriter, _ *http.Request) {
	active, locks, err := p.st.DeployOverview()
	if err != nil {
		p.rt.fail(w, "deploys", err)
		return
	}
	recent, err := p.st.RecentDeploys(20)
	if err != nil {
		p.rt.fail(w, "deploys", err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"in_progress": nonNil(active), "locks": nonNil(locks), "recent": nonNil(recent)})
}

// apiHistory is a service's versions per environment, its rollouts in progress, its locks and its newest
// deploys (?n=, default 20, at most 500).
func (p *Deploys) apiHistory(w http.ResponseWriter, r *http.Request) {
	svc, ok := p.apiService(w, r.PathValue("service"))
	if !ok {
		return
	}
	n := 20
	if q := r.URL.Query().Get("n"); q != "" {
		v, err := strconv.Atoi(q)
		if err != nil || v < 1 || v > 500 {
			WriteJSON(w, http.StatusBadRequest, map[string]any{"errors": map[string]string{"n": "must be an integer from 1 to 500"}})
			return
		}
		n = v
	}
	st, err := p.st.DeployStatusOf(svc)
	if err != nil {
		p.rt.fail(w, "deploys", err)
		return
	}
	hist, err := p.st.DeployHistory(svc, n)
	if err != nil {
		p.rt.fail(w, "deploys", err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"service": svc, "current": nonNil(st.Current),
		"in_progress": nonNil(st.Active), "locks": nonNil(st.Locks), "deploys": nonNil(hist)})
}

// deployService validates the {service} path element; a bad or unknown name is answered with 404.
func (p *Deploys) apiService(w http.ResponseWriter, name string) (string, bool) {
	svc, err := p.Service(name, false)
	if err == nil {
		return svc, true
	}
	var bad Invalid
	if errors.As(err, &bad) {
		WriteError(w, http.StatusNotFound, string(bad))
	} else {
		p.rt.fail(w, "deploys", err)
	}
	return "", false
}
