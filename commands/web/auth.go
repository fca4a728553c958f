package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/store"
)

// SessionCookie is the name of the cookie that carries a browser's session id.
const SessionCookie = "opsbot_session"

// csp is the pages' Content-Security-Policy: no script at all, styles only from the bot's own stylesheet
// (so no inline style attribute either), images from the bot or data: URLs, forms only to the bot, and no
// framing.
const csp = "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// viewer is who is looking at a team page, and how they got in.
type viewer struct {
	Account string // the services account of a session; "" for loopback or the API token
	How     string // "session", "loopback" or "token"
}

// Name is how the page header names the viewer.
func (v viewer) Name() string {
	switch v.How {
	case "session":
		return v.Account
	case "token":
		return "API token"
	}
	return "local access"
}

// pageHandler serves a team page for a viewer who may see it.
type pageHandler func(w http.ResponseWriter, r *http.Request, v viewer)

// securityHeaders are sent with every answer of the family.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// secured adds the security headers to h's answers.
func (x *Web) secured(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w.Header())
		h.ServeHTTP(w, r)
	})
}

// team serves h to a viewer with a session, the API token, or (with web.trust_loopback) a local request;
// anyone else is sent to the page that says how to get a login link.
func (x *Web) team(h pageHandler) http.Handler {
	return x.secured(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, ok, err := x.viewer(r)
		if err != nil {
			x.fail(w, r, "session", err)
			return
		}
		if !ok {
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		w.Header().Set("Cache-Control", "private, no-store")
		h(w, r, v)
	}))
}

// viewer authenticates a request: a valid session cookie, then the API's Bearer token, then a local
// request when loopback is trusted.
func (x *Web) viewer(r *http.Request) (viewer, bool, error) {
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		ws, err := x.st.WebSession(c.Value, x.rt.Now())
		switch {
		case err == nil:
			return viewer{Account: ws.Account, How: "session"}, true, nil
		case !errors.Is(err, store.ErrNotFound):
			return viewer{}, false, err
		}
	}
	if tok := x.cfg.APIToken; tok != "" {
		scheme, got, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if strings.EqualFold(scheme, "Bearer") && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(tok)) == 1 {
			return viewer{How: "token"}, true, nil
		}
	}
	if x.cfg.TrustLoopback && commands.LocalRequest(r) {
		return viewer{How: "loopback"}, true, nil
	}
	return viewer{}, false, nil
}

// newSecret is a random 32-byte secret, URL-safe: login links, session ids and calendar tokens.
func newSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// sameOrigin reports whether a form post comes from the pages themselves. Browsers say so in
// Sec-Fetch-Site; Origin cannot be relied on, since with Referrer-Policy: no-referrer a browser sends
// "Origin: null" even from the same origin. A client that sends neither (an old browser, curl) is let
// through: what this guards against is another site's form in a current browser.
func (x *Web) sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin":
		return true
	case "":
	default: // cross-site, same-site (another subdomain), none
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return true
	}
	if x.cfg.BaseURL != "" && strings.EqualFold(origin, strings.TrimRight(x.cfg.BaseURL, "/")) {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// askForLink is where a team page sends a browser without a session: how to get a login link.
func (x *Web) askForLink(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	x.render(w, r, http.StatusOK, "login.html", page{Title: "Log in", Bare: true}, loginView{Nick: x.cfg.Nick,
		TTL: x.cfg.SessionTTL, Prefix: x.rt.Prefix})
}

// loginView is what the login pages show.
type loginView struct {
	Nick    string
	Prefix  string
	Account string        // the link's account (the confirm page)
	Token   string        // the link's token, posted back by the confirm page
	Refused bool          // the link is unknown, used or expired
	TTL     time.Duration // how long a session lasts
}

// loginPage shows a valid link's account with a button that logs in. Opening the link does not use it up:
// chat clients and link previewers fetch URLs they see, and must not spend the link (or get the session).
func (x *Web) loginPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	token := r.PathValue("token")
	account, err := x.st.WebLogin(token, x.rt.Now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		x.render(w, r, http.StatusForbidden, "login.html", page{Title: "Log in", Bare: true},
			loginView{Nick: x.cfg.Nick, Prefix: x.rt.Prefix, Refused: true, TTL: x.cfg.SessionTTL})
		return
	case err != nil:
		x.fail(w, r, "login", err)
		return
	}
	x.render(w, r, http.StatusOK, "login.html", page{Title: "Log in", Bare: true},
		loginView{Nick: x.cfg.Nick, Prefix: x.rt.Prefix, Account: account, Token: token, TTL: x.cfg.SessionTTL})
}

// login uses up a link and opens a session: the cookie holds a fresh random id (the store keeps its hash),
// and the browser goes to the overview. A link that is unknown, used or expired is refused.
func (x *Web) login(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !x.sameOrigin(r) { // another site's form must not log this browser in to someone else's session
		http.Error(w, "forbidden: a login is posted from opsbot's own page", http.StatusForbidden)
		return
	}
	session := newSecret()
	ws, err := x.st.ConsumeWebLogin(r.PathValue("token"), session, x.rt.Now(), x.cfg.SessionTTL)
	switch {
	case errors.Is(err, store.ErrNotFound):
		x.render(w, r, http.StatusForbidden, "login.html", page{Title: "Log in", Bare: true},
			loginView{Nick: x.cfg.Nick, Prefix: x.rt.Prefix, Refused: true, TTL: x.cfg.SessionTTL})
		return
	case err != nil:
		x.fail(w, r, "login", err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: session, Path: "/", Expires: ws.Expires,
		MaxAge: int(x.cfg.SessionTTL.Seconds()), HttpOnly: true, Secure: x.secure(), SameSite: http.SameSiteLaxMode})
	x.rt.Log.Info("web: logged in", "account", ws.Account, "until", ws.Expires)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
