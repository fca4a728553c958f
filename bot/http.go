package bot

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func (b *Bot) httpServer() *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", b.healthz)
	// A collector that cannot read the store must not take every other series (opsbot_irc_connected,
	// opsbot_store_errors_total) down with it, just when the alerts need them.
	mux.Handle("GET /metrics", promhttp.HandlerFor(b.metrics.Registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	mux.Handle("GET /api/v1/backup", b.requireToken(http.HandlerFunc(b.backup)))
	for _, r := range b.set.Routes { // the families' endpoints
		h := r.Handler
		if !r.Open {
			h = b.requireToken(h)
		}
		mux.Handle(r.Pattern, h)
	}
	return &http.Server{
		Handler: http.MaxBytesHandler(mux, commands.MaxBody),
		// Timeouts so a slow client cannot hold connections forever.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      5 * time.Minute, // backups of a large database take a while
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          nil,
	}
}

// healthz is 200 when the bot is connected and the store answers, else 503 with the reason.
func (b *Bot) healthz(w http.ResponseWriter, _ *http.Request) {
	var problems []string
	if st := b.t.IRCStatus(); !st.Connected {
		problems = append(problems, "irc: not connected to "+st.Server)
	} else if st.NickWanted != "" {
		// Degraded, not down: commands work, but whoever holds the nick can pose as the bot.
		problems = append(problems, fmt.Sprintf("irc: on nick %s, not %s: someone else holds it (NickServ REGAIN/GHOST failing?)", st.Nick, st.NickWanted))
	}
	if err := b.store.Healthy(); err != nil {
		problems = append(problems, "store: "+err.Error())
	}
	if err := b.store.WriteHealth(); err != nil {
		problems = append(problems, "store: "+err.Error())
	}
	if err := b.store.IntegrityStatus().Err(); err != nil {
		problems = append(problems, err.Error())
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if len(problems) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, strings.Join(problems, "; "))
		return
	}
	fmt.Fprintln(w, "ok")
}

// requireToken enforces http.api_token (Bearer) when one is configured. Without one the API answers only
// this machine, and only with web.trust_loopback: a client on a loopback address that names the bot by a
// loopback address or "localhost". The Host check stops a web page whose DNS name was rebound to 127.0.0.1
// from reading the API (and the backup) through the browser of someone on the bot's host. Behind a reverse
// proxy on the same machine (web.trust_loopback = false) every request comes from loopback, often naming
// the upstream 127.0.0.1:port in Host, so without a token nobody is let in. Nor is a request a browser
// says another site's page made (FromAnotherSite): a page on the web could otherwise have the browser of
// someone on the bot's host call GET /api/v1/backup, which writes a backup and prunes the older ones.
func (b *Bot) requireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := b.o.APIToken
		if tok == "" && !b.o.Web.TrustLoopback {
			commands.WriteError(w, http.StatusForbidden, "forbidden: the API needs http.api_token, and none is set (with web.trust_loopback = false no request is trusted without it)")
			return
		}
		if tok == "" && !commands.LocalRequest(r) {
			commands.WriteError(w, http.StatusForbidden, "forbidden: without http.api_token the API answers only local requests (to 127.0.0.1, ::1 or localhost)")
			return
		}
		if tok == "" && commands.FromAnotherSite(r) {
			commands.WriteError(w, http.StatusForbidden, "forbidden: without http.api_token the API does not answer requests another site's page makes (Sec-Fetch-Site)")
			return
		}
		if tok != "" {
			scheme, got, _ := strings.Cut(r.Header.Get("Authorization"), " ")
			if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(tok)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="opsbot"`)
				commands.WriteError(w, http.StatusUnauthorized, "unauthorized: this endpoint needs Authorization: Bearer <http.api_token>")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// newBackup makes a backup and opens it, one at a time: two backups in the same millisecond would share a
// file name, and one could prune another's file (only the newest three are kept) between its making and its
// opening. Once open, the copy can be served even if a later backup prunes it.
func (b *Bot) newBackup() (string, *os.File, error) {
	b.backupMu.Lock()
	defer b.backupMu.Unlock()
	path, err := b.store.Backup(3)
	if err != nil {
		return "", nil, err
	}
	f, err := os.Open(path)
	return path, f, err
}

// backup writes a consistent hot copy next to the database (temp file, fsync, rename) and serves it.
func (b *Bot) backup(w http.ResponseWriter, r *http.Request) {
	path, f, err := b.newBackup()
	if err != nil {
		b.metrics.storeFailed(err)
		b.o.Log.Error("http: backup failed", "err", err)
		commands.WriteError(w, http.StatusInternalServerError, "backup failed: "+err.Error())
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", filepath.Base(path)))
	w.Header().Set("X-Opsbot-Backup-Path", path)
	st, _ := f.Stat()
	http.ServeContent(w, r, filepath.Base(path), st.ModTime(), f)
}
