package bot

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// maxBody bounds every request body (webhooks are small).
const maxBody = 1 << 20

func (b *Bot) httpServer() *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", b.healthz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(b.metrics.Registry, promhttp.HandlerOpts{}))
	mux.Handle("GET /api/v1/backup", b.requireToken(http.HandlerFunc(b.backup)))
	b.mountServices(mux)
	b.mountReminders(mux)
	b.mountDeploys(mux)
	b.mountIncidents(mux)
	b.mountOnCall(mux)
	b.mountRequests(mux)
	return &http.Server{
		Handler: http.MaxBytesHandler(mux, maxBody),
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
	}
	if err := b.store.Healthy(); err != nil {
		problems = append(problems, "store: "+err.Error())
	}
	if err := b.store.WriteHealth(); err != nil {
		problems = append(problems, "store: "+err.Error())
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if len(problems) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, strings.Join(problems, "; "))
		return
	}
	fmt.Fprintln(w, "ok")
}

// requireToken enforces http.api_token (Bearer) when one is configured.
func (b *Bot) requireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := b.o.APIToken; tok != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(tok)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="opsbot"`)
				http.Error(w, "unauthorized: this endpoint needs Authorization: Bearer <http.api_token>", http.StatusUnauthorized)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// backup writes a consistent hot copy next to the database (temp file, fsync, rename) and serves it.
func (b *Bot) backup(w http.ResponseWriter, r *http.Request) {
	path, err := b.store.Backup(3)
	if err != nil {
		b.metrics.storeFailed(err)
		b.o.Log.Error("http: backup failed", "err", err)
		http.Error(w, "backup failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		http.Error(w, "backup failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", filepath.Base(path)))
	w.Header().Set("X-Opsbot-Backup-Path", path)
	st, _ := f.Stat()
	http.ServeContent(w, r, filepath.Base(path), st.ModTime(), f)
}
