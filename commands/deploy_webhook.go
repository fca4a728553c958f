package commands

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// webhookWindow is how far a webhook's timestamp may be from the bot's clock.
const webhookWindow = 5 * time.Minute

// webhook is POST /hooks/deploy: CI/CD reports a rollout step. The signature is checked on the raw body
// before anything is parsed; the event then goes through the same checks and state machine as chat and is
// announced.
func (p *Deploys) webhook(w http.ResponseWriter, r *http.Request) {
	if len(p.cfg.WebhookSecrets) == 0 {
		WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "webhook not configured: set http.webhook_secret (or OPSBOT_HTTP_WEBHOOK_SECRET)"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		WriteJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": fmt.Sprintf("body larger than %d bytes", MaxBody)})
		return
	case err != nil:
		WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "reading body: " + err.Error()})
		return
	}
	if msg := p.verifySignature(r.Header, body); msg != "" {
		WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": msg})
		return
	}
	hook, bad := decodeDeployHook(body)
	if bad == nil {
		var ev store.DeployEvent
		ev, bad, err = p.HookEvent(hook)
		if err == nil && bad == nil {
			p.applyHook(w, ev)
			return
		}
	}
	if err != nil {
		p.rt.fail(w, "deploy webhook", err)
		return
	}
	WriteJSON(w, http.StatusBadRequest, map[string]any{"errors": bad})
}

// applyHook records and announces a valid event; a refusal of the state machine is 409 with its reason.
func (p *Deploys) applyHook(w http.ResponseWriter, ev store.DeployEvent) {
	text, res, err := p.Apply(ev, "")
	var ue *UserError
	if errors.As(err, &ue) {
		msg := strings.ReplaceAll(strings.TrimPrefix(ue.Msg, "error: "), "\u200b", "")
		replay := errors.Is(err, store.ErrDeliveryRefused)
		if !replay {
			// The delivery id is spent: replaying these signed bytes once the refusal's cause is gone (the
			// rollout in the way has ended) must not be accepted; CI sends a new delivery to try again.
			if err := p.st.RefuseDelivery(ev.Delivery, msg); err != nil {
				p.rt.fail(w, "deploy webhook", err)
				return
			}
		}
		p.rt.Log.Info("deploy webhook refused", "delivery", ev.Delivery, "replay", replay, "reason", msg)
		WriteJSON(w, http.StatusConflict, map[string]any{"error": msg, "duplicate": replay})
		return
	}
	if err != nil {
		p.rt.fail(w, "deploy webhook", err)
		return
	}
	p.rt.Log.Info("deploy webhook", "delivery", ev.Delivery, "deploy", res.Deploy.ID, "state", res.Deploy.State, "duplicate", res.Duplicate)
	WriteJSON(w, http.StatusOK, map[string]any{"ok": true, "deploy": chat.FormatID(chat.KindDeploy, res.Deploy.ID),
		"state": res.Deploy.State, "duplicate": res.Duplicate, "text": strings.ReplaceAll(text, "\u200b", "")})
}

// verifySignature checks X-Opsbot-Signature (sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">) against
// each configured secret with hmac.Equal, then the timestamp's window. It returns "" when the request is
// authentic, else why not.
func (p *Deploys) verifySignature(h http.Header, body []byte) string {
	ts := h.Get("X-Opsbot-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "missing or malformed X-Opsbot-Timestamp (unix seconds)"
	}
	hexSig, ok := strings.CutPrefix(h.Get("X-Opsbot-Signature"), "sha256=")
	got, err := hex.DecodeString(hexSig)
	if !ok || err != nil || len(got) != sha256.Size {
		return "missing or malformed X-Opsbot-Signature (want sha256=<hex HMAC-SHA256 of timestamp.body>)"
	}
	valid := false
	for _, secret := range p.cfg.WebhookSecrets {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(ts + "."))
		mac.Write(body)
		if hmac.Equal(mac.Sum(nil), got) {
			valid = true
		}
	}
	if !valid {
		return "signature does not match"
	}
	if d := p.rt.Now().Sub(time.Unix(sec, 0)); d > webhookWindow || d < -webhookWindow {
		return fmt.Sprintf("timestamp is %s off the bot's clock (at most %s): a replay, or a clock to fix", d.Abs().Round(time.Second), webhookWindow)
	}
	return ""
}

// hookFields are the webhook's JSON fields, in the order an error lists them.
var hookFields = []string{"id", "service", "version", "environment", "status", "percent", "sites", "actor", "url", "message"}

// decodeDeployHook decodes the JSON body field by field, so that a wrong type is reported under its field.
// An unknown field is an error: a misspelled "enviroment" (or "env") would otherwise be dropped and the
// event applied to prod. null is the same as absent.
func decodeDeployHook(body []byte) (DeployHook, map[string]string) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return DeployHook{}, map[string]string{"body": "not a JSON object: " + err.Error()}
	}
	var h DeployHook
	bad := map[string]string{}
	for name := range raw {
		if !slices.Contains(hookFields, name) {
			bad[name] = "unknown field (the fields are " + strings.Join(hookFields, ", ") + ")"
		}
	}
	field := func(name string, into any, msg string) {
		if v, ok := raw[name]; ok && string(v) != "null" {
			if err := json.Unmarshal(v, into); err != nil {
				bad[name] = msg
			}
		}
	}
	for name, p := range map[string]*string{"id": &h.ID, "service": &h.Service, "version": &h.Version,
		"environment": &h.Environment, "status": &h.Status, "actor": &h.Actor, "url": &h.URL, "message": &h.Message} {
		field(name, p, "must be a string")
	}
	field("percent", &h.Percent, "must be an integer from 0 to 100")
	if v := raw["sites"]; len(v) > 0 && v[0] == '"' {
		var s string
		field("sites", &s, "must be an array of strings")
		h.Sites = strings.Split(s, ",")
	} else {
		field("sites", &h.Sites, "must be an array of strings")
	}
	if len(bad) > 0 {
		return h, bad
	}
	return h, nil
}
