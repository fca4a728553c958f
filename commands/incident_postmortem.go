package commands

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// postmortem serves the incident's postmortem skeleton as markdown.
func (x *Incidents) postmortem(w http.ResponseWriter, r *http.Request) {
	inc, tl, ok := x.incidentParam(w, r)
	if !ok {
		return
	}
	md, err := x.postmortemOf(inc, tl)
	if err != nil {
		x.rt.fail(w, "postmortem", err)
		return
	}
	w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	fmt.Fprint(w, md)
}

// Postmortem returns the postmortem skeleton of incident id as markdown (the web pages show it); an unknown
// incident is an error wrapping store.ErrNotFound.
func (x *Incidents) Postmortem(id uint64) (string, error) {
	inc, err := x.log.Incident(id)
	if err != nil {
		return "", err
	}
	tl, err := x.log.IncidentTimeline(id, 0)
	if err != nil {
		return "", err
	}
	return x.postmortemOf(inc, tl)
}

// postmortemOf renders inc's postmortem skeleton with the deploys before it and its dependents.
func (x *Incidents) postmortemOf(inc store.Incident, tl []store.TimelineEntry) (string, error) {
	var deploys, dependents []string // nil: no data
	var err error
	if x.links.Deploys != nil {
		deploys, err = DeploysBefore(x.links.Deploys, inc, func(d store.Deploy) string {
			return DeployStartLine(d, postmortemStamp(d.Started, x.rt.Location), d.By) // a document: names plain
		})
		if err != nil {
			return "", fmt.Errorf("postmortem: deploys: %w", err)
		}
	}
	if x.links.Catalog != nil {
		dependents = []string{}
		for _, svc := range inc.Services() {
			impact, err := x.links.Catalog.ServiceImpact(svc)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return "", fmt.Errorf("postmortem: impact: %w", err)
			}
			if len(impact) > 0 {
				dependents = append(dependents, fmt.Sprintf("%s: %s", svc, strings.Join(impact, ", ")))
			}
		}
	}
	return renderPostmortem(inc, tl, deploys, dependents, x.rt.Location, x.rt.Now()), nil
}

// postmortemStamp is a time as the postmortem writes it: "2026-03-10 12:00 UTC", in the bot's zone.
func postmortemStamp(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

// renderPostmortem is the postmortem skeleton: summary, impact window, timeline, deploys to the affected
// services in the 24 h before, dependents, and empty sections for causes and actions. nil deploys or
// dependents mean the family that knows them is not wired ("no data").
func renderPostmortem(inc store.Incident, tl []store.TimelineEntry, deploys, dependents []string, loc *time.Location, now time.Time) string {
	stamp := func(t time.Time) string { return postmortemStamp(t, loc) }
	var sb strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&sb, format+"\n", a...) }
	list := func(items []string, none string) {
		switch {
		case items == nil:
			p("No data.")
		case len(items) == 0:
			p("%s", none)
		default:
			for _, it := range items {
				p("- %s", md(it))
			}
		}
		p("")
	}
	p("# Postmortem: %s SEV%d on %s", inc.Name(), inc.Severity, strings.Join(inc.Services(), ", "))
	p("")
	p("## Summary")
	p("")
	p("%s", md(inc.Summary))
	p("")
	p("- Severity: SEV%d", inc.Severity)
	p("- Services: %s", strings.Join(inc.Services(), ", "))
	p("- Status: %s", inc.Status)
	p("- Commander: %s", md(inc.Commander))
	p("- Declared: %s by %s", stamp(inc.Declared), md(inc.DeclaredBy))
	if inc.Page != "" {
		p("- Paged: %s", inc.Page)
	}
	p("")
	p("## Impact window")
	p("")
	p("- Start: %s", stamp(inc.Start))
	if inc.Open() {
		p("- End: ongoing (%s so far)", chat.FormatDuration(inc.Duration(now)))
	} else {
		p("- End: %s", stamp(inc.End))
		p("- Duration: %s", chat.FormatDuration(inc.Duration(now)))
	}
	p("")
	p("## Timeline")
	p("")
	for _, e := range tl {
		p("- %s %s: %s", stamp(e.At), md(e.Author), md(e.Render(nil, stamp)))
	}
	p("")
	p("## Deploys to the affected services in the 24 h before")
	p("")
	list(deploys, "None.")
	p("## Dependents")
	p("")
	list(dependents, "None known.")
	p("## Causes")
	p("")
	p("")
	p("## Actions")
	p("")
	return sb.String()
}

// mdPunct are the characters that format or link in Markdown (CommonMark escapes any ASCII punctuation).
const mdPunct = "\\`*_{}[]<>()#|~!&"

// md escapes text from people and webhooks for the postmortem's Markdown, so that a renderer downstream shows
// it as written: no links, images, HTML, emphasis or headings slipped in through an incident's text.
func md(s string) string {
	var b strings.Builder
	for i, r := range s {
		block := i == 0 && strings.ContainsRune("-+=>", r) // a list, heading rule or quote at the line's start
		if strings.ContainsRune(mdPunct, r) || block {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	out := b.String()
	// "1. x" or "1) x" at the start is an ordered list.
	if n := len(out) - len(strings.TrimLeft(out, "0123456789")); n > 0 && n < len(out) && (out[n] == '.' || out[n] == ')') {
		out = out[:n] + "\\" + out[n:]
	}
	return out
}
