package web

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// pageTemplates are the pages, each rendered inside templates/layout.html.
var pageTemplates = []string{"login.html", "error.html", "overview.html", "board.html", "request.html", "incidents.html",
	"incident.html", "postmortem.html", "availability.html", "services.html", "service.html", "deploys.html", "oncall.html",
	"status.html"}

// parseTemplates parses each page with the layout and the shared parts.
func parseTemplates(funcs template.FuncMap) (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	for _, name := range pageTemplates {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/parts.html", "templates/"+name)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// page is what the layout shows around a page's content.
type page struct {
	Title  string
	Nav    string  // the navigation entry to mark as current
	Viewer *viewer // who is looking (team pages)
	Bare   bool    // no navigation: the login pages
	Public bool    // the public status page: its own header, no navigation
	Now    time.Time
}

// view is what a page template executes with.
type view struct {
	Page page
	Data any
}

// render executes a page into a buffer first, so that a failing template answers 500, not half a page.
func (x *Web) render(w http.ResponseWriter, r *http.Request, status int, name string, p page, data any) {
	t, ok := x.pages[name]
	if !ok {
		x.fail(w, r, "render", fmt.Errorf("no template %s", name))
		return
	}
	p.Now = x.rt.Now()
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", view{Page: p, Data: data}); err != nil {
		x.fail(w, r, "render "+name, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// errorView is what the error page shows.
type errorView struct {
	Status  int
	Message string
	Ref     string
}

// fail logs an internal error under a reference, tells rt.Failed and answers 500 with the reference.
func (x *Web) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	var b [3]byte
	_, _ = rand.Read(b[:])
	ref := hex.EncodeToString(b[:])
	x.rt.Failed(err)
	x.rt.Log.Error("web: "+what, "ref", ref, "path", r.URL.Path, "err", err)
	t := x.pages["error.html"]
	var buf bytes.Buffer
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	if t == nil || t.ExecuteTemplate(&buf, "layout", view{Page: page{Title: "Error", Bare: true, Now: x.rt.Now()},
		Data: errorView{Status: 500, Message: "internal error", Ref: ref}}) != nil {
		fmt.Fprintf(w, "internal error (ref %s)\n", ref)
		return
	}
	_, _ = buf.WriteTo(w)
}

// notFound answers 404 with a page that says what was not found.
func (x *Web) notFound(w http.ResponseWriter, r *http.Request, v *viewer, msg string) {
	x.render(w, r, http.StatusNotFound, "error.html", page{Title: "Not found", Viewer: v}, errorView{Status: 404, Message: msg})
}

// funcs are the templates' helpers; times are shown in bot.timezone.
func (x *Web) funcs() template.FuncMap {
	loc := x.zone()
	return template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(loc).Format("Mon 2 Jan 15:04")
		},
		"whenz": func(t time.Time) string { return t.In(loc).Format("Mon 2 Jan 15:04 MST") },
		// entry is a timeline entry's text, its times in the page's zone.
		"entry": func(e store.TimelineEntry) string { return e.Render(nil, x.stamp) },
		"day":   func(t time.Time) string { return t.In(loc).Format("Mon 2 Jan") },
		"clock": func(t time.Time) string { return t.In(loc).Format("15:04") },
		"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"ago":   func(t time.Time) string { return chat.FormatDuration(x.rt.Now().Sub(t).Round(time.Minute)) },
		"until": func(t time.Time) string { return chat.FormatDuration(t.Sub(x.rt.Now()).Round(time.Minute)) },
		"dur":   func(d time.Duration) string { return chat.FormatDuration(d.Round(time.Second)) },
		"pct":   commands.FormatPercent,
		"slo": func(f float64) string {
			return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", f), "0"), ".") + "%"
		},
		"inc":   func(id uint64) string { return chat.FormatID(chat.KindIncident, id) },
		"req":   func(id uint64) string { return chat.FormatID(chat.KindRequest, id) },
		"dep":   func(id uint64) string { return chat.FormatID(chat.KindDeploy, id) },
		"pg":    func(id uint64) string { return chat.FormatID(chat.KindPage, id) },
		"join":  strings.Join,
		"zone":  func() string { return loc.String() },
		"add":   func(a, b int) int { return a + b },
		"list4": func() []int { return []int{1, 2, 3, 4} },
		"event": eventText,
		"neg":   func(d time.Duration) time.Duration { return -d },
	}
}
