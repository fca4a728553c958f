package bot

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsbot/opsbot/store"
)

// apiServer is the bot's HTTP handler on a real loopback socket, with the given API token.
func apiServer(t *testing.T, token string) (*httptest.Server, *Bot) {
	t.Helper()
	st := openTestStore(t)
	o := testOptions(t, "127.0.0.1:1")
	o.APIToken = token
	b, err := New(o, st)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(b.httpServer().Handler)
	t.Cleanup(srv.Close)
	return srv, b
}

// getFrom serves GET url to a client at remote (host:port) through b's HTTP handler and returns the status.
func getFrom(b *Bot, remote, url string) int {
	req := httptest.NewRequest("GET", url, nil)
	req.RemoteAddr = remote
	rec := httptest.NewRecorder()
	b.httpServer().Handler.ServeHTTP(rec, req)
	return rec.Code
}

// Without http.api_token the API answers only this machine, by a local name: a page whose DNS name was
// rebound to 127.0.0.1 gets nothing through a browser, nor does a client on another host.
func TestAPIWithoutTokenAnswersOnlyLocalRequests(t *testing.T) {
	srv, b := apiServer(t, "")
	for _, tt := range []struct {
		host string
		want int
	}{
		{"", http.StatusOK}, // 127.0.0.1:port
		{"localhost:8080", http.StatusOK},
		{"LOCALHOST", http.StatusOK},
		{"[::1]:8080", http.StatusOK},
		{"rebind.attacker.example:8080", http.StatusForbidden},
		{"127.0.0.1.nip.io", http.StatusForbidden},
	} {
		h := map[string]string{}
		if tt.host != "" {
			h["Host"] = tt.host
		}
		for _, path := range []string{"/api/v1/services", "/api/v1/backup"} {
			if code, body := httpGetWith(t, srv.URL+path, h); code != tt.want {
				t.Errorf("GET %s with Host %q: %d %s, want %d", path, tt.host, code, body, tt.want)
			}
		}
	}
	// From another host (the listener may be 0.0.0.0): refused, while /healthz and /metrics stay open.
	for path, want := range map[string]int{"/api/v1/services": http.StatusForbidden, "/metrics": http.StatusOK} {
		if code := getFrom(b, "192.0.2.99:40000", "http://192.0.2.10:8080"+path); code != want {
			t.Errorf("GET %s from another host: %d, want %d", path, code, want)
		}
	}
}

// Without a token, a request a browser says another site made is not the machine's own: a page on the web
// could otherwise have the browser of someone on the bot's host make backups (and prune the older ones) by
// linking an image to http://127.0.0.1:8080/api/v1/backup. The bot's own pages, a typed URL and clients that
// send no Sec-Fetch-Site (curl, scripts) are served as before.
func TestAPIWithoutTokenRefusesOtherSites(t *testing.T) {
	srv, b := apiServer(t, "")
	backups := func() string { // the backup files, as a set: a new one changes it, pruned or not
		m, _ := filepath.Glob(b.store.Path() + ".backup-*")
		return strings.Join(m, " ")
	}
	for site, want := range map[string]int{"cross-site": http.StatusForbidden, "same-site": http.StatusForbidden,
		"same-origin": http.StatusOK, "none": http.StatusOK, "": http.StatusOK} {
		time.Sleep(2 * time.Millisecond) // backups are named to the millisecond: a new one gets a new name
		before := backups()
		h := map[string]string{}
		if site != "" {
			h["Sec-Fetch-Site"] = site
		}
		if code, body := httpGetWith(t, srv.URL+"/api/v1/backup", h); code != want {
			t.Errorf("GET /api/v1/backup with Sec-Fetch-Site %q: %d %.100q, want %d", site, code, body, want)
		}
		if made := backups() != before; made != (want == http.StatusOK) {
			t.Errorf("Sec-Fetch-Site %q: a backup made: %v, want %v", site, made, want == http.StatusOK)
		}
	}
	// With a token, the token decides: a browser cannot send it for another site's page.
	srv, _ = apiServer(t, "tok")
	if code, _ := httpGetWith(t, srv.URL+"/api/v1/services", map[string]string{"Authorization": "Bearer tok", "Sec-Fetch-Site": "cross-site"}); code != http.StatusOK {
		t.Errorf("with the token and Sec-Fetch-Site cross-site: %d, want 200", code)
	}
}

// Behind a reverse proxy (web.trust_loopback = false) every request comes from loopback, and nginx's and
// Apache's defaults name the upstream, 127.0.0.1:8080, in Host: without http.api_token the API, like the
// pages, lets none of them in.
func TestAPIWithoutTokenDistrustsLoopbackBehindAProxy(t *testing.T) {
	o := testOptions(t, "127.0.0.1:1")
	o.Web.TrustLoopback = false
	b, err := New(o, openTestStore(t))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{"/board": http.StatusSeeOther, "/api/v1/requests": http.StatusForbidden, "/api/v1/backup": http.StatusForbidden} {
		if code := getFrom(b, "127.0.0.1:51234", "http://127.0.0.1:8080"+path); code != want {
			t.Errorf("GET %s through the proxy: %d, want %d", path, code, want)
		}
	}
}

// With a token, the scheme is case-insensitive (RFC 7235) and the token is required from anywhere.
func TestAPITokenScheme(t *testing.T) {
	srv, _ := apiServer(t, "tok")
	for auth, want := range map[string]int{"Bearer tok": 200, "bearer tok": 200, "BEARER  tok": 200, "Bearer nope": 401, "tok": 401, "": 401, "Basic tok": 401} {
		if code, body := httpGetWith(t, srv.URL+"/api/v1/services", map[string]string{"Authorization": auth}); code != want {
			t.Errorf("Authorization %q: %d %s, want %d", auth, code, body, want)
		}
	}
}

// A collector that cannot read the store leaves the other series in the scrape (the alerts need
// opsbot_irc_connected and opsbot_store_errors_total most when the store is in trouble).
func TestMetricsSurviveAFailingCollector(t *testing.T) {
	srv, b := apiServer(t, "")
	b.store.Close() // every store read of the collectors now fails
	code, body := httpGetWith(t, srv.URL+"/metrics", nil)
	if code != http.StatusOK || !strings.Contains(body, "opsbot_irc_connected") || !strings.Contains(body, "opsbot_store_errors_total") {
		t.Fatalf("/metrics with the store closed: %d\n%.600s", code, body)
	}
}

// A gauge read from the store is left out of the scrape when the store cannot be read: an outbox backlog of 0
// would say nothing is waiting while a message is.
func TestMetricsLeaveOutAnUnreadableOutboxBacklog(t *testing.T) {
	srv, b := apiServer(t, "")
	if err := b.Announce("", "INC-9 declared while nobody was connected", false); err != nil {
		t.Fatal(err)
	}
	if _, body := httpGet(t, srv.URL+"/metrics"); !strings.Contains(body, "\nopsbot_outbox_backlog 1\n") {
		t.Fatalf("/metrics with one message waiting lacks opsbot_outbox_backlog 1")
	}
	b.store.Close()
	if code, body := httpGet(t, srv.URL+"/metrics"); code != http.StatusOK || strings.Contains(body, "\nopsbot_outbox_backlog ") {
		t.Errorf("/metrics with the store closed: %d, backlog exported: %v; want 200 and the backlog left out", code, strings.Contains(body, "\nopsbot_outbox_backlog "))
	}
}

// Names are lower case in the API as in chat; an unknown service is 404 rather than 100% available; a page
// number that would overflow the offset is refused.
func TestAPINamesAndBounds(t *testing.T) {
	srv, b := apiServer(t, "")
	owner := "bob"
	if _, err := b.store.AddService("playlist", store.ServiceFields{Owner: &owner}, nil, false, "alice"); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{
		"/api/v1/services/Playlist":                           http.StatusOK,
		"/api/v1/availability?service=PLAYLIST":               http.StatusOK,
		"/api/v1/availability?service=playlsit":               http.StatusNotFound,
		"/api/v1/requests?state=all&page=1000000000":          http.StatusOK,
		"/api/v1/requests?state=all&page=4611686018427387905": http.StatusBadRequest,
	} {
		if code, body := httpGetWith(t, srv.URL+path, nil); code != want {
			t.Errorf("GET %s: %d %s, want %d", path, code, body, want)
		}
	}
}

// Backups asked for at once are made one at a time: each request gets its own complete copy, none a 500
// from a shared file name or a copy pruned before it was served.
func TestConcurrentBackups(t *testing.T) {
	srv, _ := apiServer(t, "")
	var wg sync.WaitGroup
	codes := make([]int, 6)
	for i := range codes {
		wg.Go(func() { codes[i], _ = httpGetWith(t, srv.URL+"/api/v1/backup", nil) })
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("backup %d: %d", i, c)
		}
	}
}
