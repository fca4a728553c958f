package commands

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// Bounds on what one webhook message may make the store keep.
const (
	maxAlertsKept    = 500  // alerts of one group stored (the count of firing ones stays exact)
	maxLabels        = 40   // labels (or annotations) of one alert
	maxLabelBytes    = 256  // a label's name or value
	maxAnnotationLen = 1000 // an annotation's value
	maxGroupKey      = 1000 // a groupKey stored as it is (a longer one: see groupKey)
)

// amMessage is Alertmanager's webhook body (version 4). Pointers tell a missing field from an empty one.
type amMessage struct {
	Version           *string           `json:"version"`
	GroupKey          *string           `json:"groupKey"`
	Status            *string           `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            *[]amAlert        `json:"alerts"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
}

// amAlert is one alert of a webhook body.
type amAlert struct {
	Status       *string           `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// webhook is POST /hooks/alertmanager. Alertmanager retries a 5xx and not a 4xx, so: 401 for a wrong or
// missing token, 413 for a body over 1 MiB, 400 naming the field for a body that can never be accepted, 5xx
// when the store failed, and 2xx only once the alert state is committed (and the group's page opened).
func (a *Alerts) webhook(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Token == "" {
		WriteError(w, http.StatusNotFound, "alert intake is off: set alerts.token (or OPSBOT_ALERTS_TOKEN)")
		return
	}
	scheme, got, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(a.cfg.Token)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="opsbot"`)
		WriteError(w, http.StatusUnauthorized, "unauthorized: send Authorization: Bearer <alerts.token> (http_config.authorization in Alertmanager)")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		WriteError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", MaxBody))
		return
	case err != nil:
		WriteError(w, http.StatusBadRequest, "reading body: "+err.Error())
		return
	}
	hm, msg := a.decode(body)
	if msg != "" {
		WriteError(w, http.StatusBadRequest, msg)
		return
	}
	for status, n := range hm.received {
		a.received.WithLabelValues(status).Add(float64(n))
	}
	u := hm.update
	if hm.heartbeat {
		if err := a.seeHeartbeat(u.Now); err != nil {
			a.rt.fail(w, "alertmanager webhook: heartbeat", err)
			return
		}
	}
	if len(u.Alerts) == 0 { // the heartbeat alone: no group
		WriteJSON(w, http.StatusOK, map[string]any{"ok": true, "heartbeat": hm.heartbeat})
		return
	}
	service := u.Service
	if !store.ValidServiceName(service) {
		service = ""
	}
	req, err := a.pager.PageRequest(alertSource, service)
	if err != nil {
		a.rt.fail(w, "alertmanager webhook: route", err)
		return
	}
	u.Page = &store.AlertPage{Request: req, Text: alertText}
	if a.windows != nil {
		ref, _, ok, err := a.windows.During(u.Service, u.Now)
		if err != nil {
			a.rt.fail(w, "alertmanager webhook: maintenance windows", err)
			return
		}
		if ok {
			u.Suppressed = ref // stored and listed, not paged
		}
	}
	ch, err := a.st.ApplyAlerts(u) // the group, its page opened, updated or resolved with it: one commit
	if err != nil {
		a.rt.fail(w, "alertmanager webhook", err)
		return
	}
	if ch.Ignored {
		WriteJSON(w, http.StatusOK, map[string]any{"ok": true, "ignored": "no firing record of this group"})
		return
	}
	g := ch.Group
	if ch.Opened || ch.Resolved {
		a.pager.Paged()
	}
	out := map[string]any{"ok": true, "group": g.Ref(), "action": g.Action, "firing": g.Firing}
	if g.Page != 0 {
		out["page"] = pageID(g.Page)
	}
	if hm.heartbeat {
		out["heartbeat"] = true
	}
	WriteJSON(w, http.StatusOK, out)
	if f, ok := w.(http.Flusher); ok {
		f.Flush() // Alertmanager has its answer; the page's lines follow
	}
	if ch.Opened && a.quiet() { // urgent: told now, unless a storm is on (then the news job sums it up)
		if err := a.pager.SendNoticesOf([]uint64{g.Page}); err != nil {
			a.rt.Log.Error("alerts: page notices wait for the news job", "page", pageID(g.Page), "err", err)
		}
	}
}

// hookMessage is a webhook body checked and sanitised.
type hookMessage struct {
	update    store.AlertUpdate // the group's, without the heartbeat alerts
	heartbeat bool              // a heartbeat alert (alerts.heartbeat) fires in it
	received  map[string]int    // the alerts by status, every one (past maxAlertsKept too)
}

// decode checks and sanitises a webhook body; msg is the 400's text, naming the field at fault.
func (a *Alerts) decode(body []byte) (hm hookMessage, msg string) {
	u := &hm.update
	var m amMessage
	if err := json.Unmarshal(body, &m); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return hm, fmt.Sprintf("%s: must be %s", te.Field, jsonKind(te.Type))
		}
		return hm, "body: not a JSON object: " + err.Error()
	}
	switch {
	case m.Version == nil:
		return hm, "version: missing (Alertmanager's webhook sends \"4\")"
	case *m.Version != "4":
		return hm, fmt.Sprintf("version: %q is not supported (want \"4\")", chat.Truncate(*m.Version, 20))
	case m.GroupKey == nil || *m.GroupKey == "":
		return hm, "groupKey: missing"
	case m.Status == nil || (*m.Status != store.AlertFiring && *m.Status != store.AlertResolved):
		return hm, "status: missing, or not firing or resolved"
	case m.Alerts == nil:
		return hm, "alerts: missing"
	}
	u.Key, u.Now = groupKey(*m.GroupKey), a.rt.Now()
	if u.Key != *m.GroupKey {
		u.FormerKey = chat.Truncate(*m.GroupKey, maxGroupKey) // what opsbot stored such a group under before
	}
	hm.received = map[string]int{}
	var action []string
	for i, in := range *m.Alerts {
		if in.Status == nil || (*in.Status != store.AlertFiring && *in.Status != store.AlertResolved) {
			return hm, fmt.Sprintf("alerts[%d].status: missing, or not firing or resolved", i)
		}
		if len(in.Labels) == 0 {
			return hm, fmt.Sprintf("alerts[%d].labels: missing", i)
		}
		hm.received[*in.Status]++
		if in.Labels["alertname"] == a.cfg.Heartbeat { // told apart alert by alert: a route may group it with others
			hm.heartbeat = hm.heartbeat || *in.Status == store.AlertFiring
			continue
		}
		if len(action) >= maxAlertsKept {
			if *in.Status == store.AlertFiring {
				u.Alerts = append(u.Alerts, store.Alert{Status: store.AlertFiring, Fingerprint: fmt.Sprintf("more-%d", i)}) // counted, not kept whole
			}
			continue
		}
		al := store.Alert{Status: *in.Status, Labels: cleanMap(in.Labels, maxLabelBytes), Annotations: cleanMap(in.Annotations, maxAnnotationLen),
			StartsAt: in.StartsAt, EndsAt: in.EndsAt, Fingerprint: chat.Truncate(chat.Sanitize(in.Fingerprint), 64)}
		if in.GeneratorURL != "" && checkURL(in.GeneratorURL) == "" {
			al.GeneratorURL = in.GeneratorURL
		}
		if al.Fingerprint == "" {
			al.Fingerprint = labelPrint(al.Labels)
		}
		u.Alerts = append(u.Alerts, al)
		action = append(action, a.action(al.Labels["severity"]))
	}
	group := cleanMap(m.GroupLabels, maxLabelBytes)
	common := cleanMap(m.CommonLabels, maxLabelBytes)
	first := map[string]string{}
	if len(u.Alerts) > 0 {
		first = u.Alerts[0].Labels
	}
	u.Name = orString(group["alertname"], orString(common["alertname"], first["alertname"]))
	u.Service = strings.ToLower(orString(group[a.cfg.ServiceLabel], orString(common[a.cfg.ServiceLabel], first[a.cfg.ServiceLabel])))
	// The group takes the strongest action of its firing alerts (of all, once none fires).
	firing := func(i int) bool { return u.Alerts[i].Status == store.AlertFiring }
	best := -1
	for i := range action { // the alerts kept whole, in order
		if best < 0 || firing(i) && !firing(best) || firing(i) == firing(best) && store.ActionRank(action[i]) > store.ActionRank(action[best]) {
			best = i
		}
	}
	if best >= 0 {
		u.Action, u.Severity = action[best], u.Alerts[best].Labels["severity"]
	}
	notes := cleanMap(m.CommonAnnotations, maxAnnotationLen)
	u.Summary = summaryOf(notes)
	u.Runbook = runbookOf(notes)
	for i := len(u.Alerts) - 1; i >= 0 && (u.Summary == "" || u.Runbook == ""); i-- { // the newest alert's
		if u.Summary == "" {
			u.Summary = summaryOf(u.Alerts[i].Annotations)
		}
		if u.Runbook == "" {
			u.Runbook = runbookOf(u.Alerts[i].Annotations)
		}
	}
	return hm, ""
}

// groupKey is what a group is stored under: Alertmanager's groupKey as it is, or for one longer than
// maxGroupKey (group_by on many or long labels) its start, for people to read, and the SHA-256 of the whole,
// so that groups alike in their first bytes stay apart. The same groupKey gives the same key after a restart.
func groupKey(key string) string {
	if len(key) <= maxGroupKey {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return chat.Truncate(key, 200) + " sha256:" + hex.EncodeToString(sum[:])
}

// jsonKind names in words the JSON a Go type is decoded from: "a string", "an array". A type error's
// message names the type wanted, not the one sent.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return jsonKind(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Bool:
		return "true or false"
	}
	return "a number"
}

// action maps a severity label to page, notify or ignore.
func (a *Alerts) action(severity string) string {
	if act, ok := a.cfg.Severity[strings.ToLower(severity)]; ok {
		return act
	}
	return a.cfg.DefaultAction
}

// cleanMap sanitises labels or annotations like any user text (no control codes, no CR/LF), each cut to max
// bytes, at most maxLabels of them.
func cleanMap(in map[string]string, max int) map[string]string {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]string, min(len(in), maxLabels))
	for _, k := range sortedKeys(in) {
		if len(out) == maxLabels {
			break
		}
		if ck := chat.Truncate(chat.Sanitize(k), maxLabelBytes); ck != "" {
			out[ck] = chat.Truncate(chat.Sanitize(in[k]), max)
		}
	}
	return out
}

// labelPrint stands in for a missing fingerprint: the sorted labels.
func labelPrint(labels map[string]string) string {
	var b strings.Builder
	for _, k := range sortedKeys(labels) {
		b.WriteString(k + "=" + labels[k] + ",")
	}
	return chat.Truncate(b.String(), 64)
}

// summaryOf is an alert's summary annotation (else description, else message).
func summaryOf(notes map[string]string) string {
	return orString(notes["summary"], orString(notes["description"], notes["message"]))
}

// runbookOf is the runbook_url annotation when it is an http(s) URL.
func runbookOf(notes map[string]string) string {
	for _, k := range []string{"runbook_url", "runbook"} {
		if u := notes[k]; u != "" && checkURL(u) == "" {
			return u
		}
	}
	return ""
}

// apiAlerts is GET /api/v1/alerts: the alert groups firing now, each with its page.
func (a *Alerts) apiAlerts(w http.ResponseWriter, _ *http.Request) {
	groups, err := a.st.FiringAlertGroups()
	if err != nil {
		a.rt.fail(w, "alerts", err)
		return
	}
	type view struct {
		Ref string `json:"ref"`
		store.AlertGroup
	}
	views := make([]view, 0, len(groups))
	for _, g := range groups {
		views = append(views, view{Ref: groupRef(g), AlertGroup: g})
	}
	WriteJSON(w, http.StatusOK, map[string]any{"groups": views})
}
