package bot

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/store"
)

// mountDeploys adds the deploys family's endpoints: the CI webhook (authenticated by its HMAC signature) and
// the read-only API (behind the API token).
func (b *Bot) mountDeploys(mux *http.ServeMux) {
	dp, ok := commands.NewDeployer(b.deps)
	if !ok {
		return
	}
	mux.Handle("POST /hooks/deploy", b.deployHook(dp))
	mux.Handle("GET /api/v1/deploys", b.requireToken(http.HandlerFunc(b.deploysOverview)))
	mux.Handle("GET /api/v1/deploys/{service}/gate", b.requireToken(b.deployGate(dp)))
	mux.Handle("GET /api/v1/deploys/{service}/history", b.requireToken(b.deployHistory(dp)))
}

// deployGate answers a pipeline's "may I deploy now?": 200 {"ok":true}, or 423 with the reason when the
// service is locked or frozen.
func (b *Bot) deployGate(dp *commands.Deployer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		svc, ok := b.deployService(w, dp, r.PathValue("service"))
		if !ok {
			return
		}
		locks, frozen, err := dp.Gate(svc)
		if err != nil {
			b.hookFailed(w, err)
			return
		}
		if len(locks) == 0 && frozen == "" {
			writeJSON(w, http.StatusOK, map[string]any{"ok": true, "service": svc})
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
		writeJSON(w, http.StatusLocked, map[string]any{"ok": false, "service": svc, "reason": strings.Join(why, "; "),
			"locks": nonNil(locks), "frozen": frozen})
	}
}

// deploysOverview lists every rollout in progress, every lock and the newest deploys.
func (b *Bot) deploysOverview(w http.ResponseWriter, _ *http.Request) {
	active, locks, err := b.store.DeployOverview()
	if err != nil {
		b.hookFailed(w, err)
		return
	}
	recent, err := b.store.RecentDeploys(20)
	if err != nil {
		b.hookFailed(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"in_progress": nonNil(active), "locks": nonNil(locks), "recent": nonNil(recent)})
}

// deployHistory is a service's versions per environment, its rollouts in progress, its locks and its newest
// deploys (?n=, default 20, at most 500).
func (b *Bot) deployHistory(dp *commands.Deployer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		svc, ok := b.deployService(w, dp, r.PathValue("service"))
		if !ok {
			return
		}
		n := 20
		if q := r.URL.Query().Get("n"); q != "" {
			v, err := strconv.Atoi(q)
			if err != nil || v < 1 || v > 500 {
				writeJSON(w, http.StatusBadRequest, map[string]any{"errors": map[string]string{"n": "must be an integer from 1 to 500"}})
				return
			}
			n = v
		}
		st, err := b.store.DeployStatusOf(svc)
		if err != nil {
			b.hookFailed(w, err)
			return
		}
		hist, err := b.store.DeployHistory(svc, n)
		if err != nil {
			b.hookFailed(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"service": svc, "current": nonNil(st.Current),
			"in_progress": nonNil(st.Active), "locks": nonNil(st.Locks), "deploys": nonNil(hist)})
	}
}

// deployService validates the {service} path element; a bad or unknown name is answered with 404.
func (b *Bot) deployService(w http.ResponseWriter, dp *commands.Deployer, name string) (string, bool) {
	svc, err := dp.Service(name, false)
	if err == nil {
		return svc, true
	}
	var bad commands.Invalid
	if errors.As(err, &bad) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": string(bad)})
	} else {
		b.hookFailed(w, err)
	}
	return "", false
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
