package web

import (
	"fmt"
	"html/template"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// An availability chart is an SVG drawn by the server: one bar per day, its height the day's availability
// on a scale from a floor to 100%, the SLO as a dashed line, and each incident marked above the day it
// started, linked to its page. Everything is a number or text the template escapes.

// Chart geometry, in SVG user units (the SVG scales to the page's width).
const (
	chartWidth  = 960
	chartHeight = 190
	plotLeft    = 64
	plotRight   = 870 // the SLO's label goes in the margin to the right
	plotTop     = 28
	plotBottom  = 160
)

// chart is one service's availability chart.
type chart struct {
	Width, Height       int
	Left, Right         float64
	Top, Bottom         float64
	Bars                []bar
	BarsSVG             template.HTML // Bars as SVG, written here: a year of them is too many template actions
	Marks               []mark
	XLabels             []label
	TopLabel, BaseLabel string
	HasSLO              bool
	SLOY                float64
	SLOLabel            string
	Desc                string // what the chart shows, for screen readers
}

// bar is one day.
type bar struct {
	X, Y, W, H float64
	Class      string // ok, warn (impact within the SLO, or any impact without one), bad (below the SLO)
	Title      string
}

// mark is one incident, above the day its impact started.
type mark struct {
	X      float64
	Points string // the triangle
	Class  string // sev1 .. sev4
	Href   string
	Title  string
	Label  string // the id, when there is room for it
}

// label is a text at an x position.
type label struct {
	X    float64
	Text string
}

// floors are the bottoms the scale may take: the largest that leaves room below the worst day and the SLO.
var floors = []float64{99.9, 99.5, 99, 98, 95, 90, 75, 50, 0}

// chartFloor picks the scale's bottom so that the worst day and the SLO line both show with room below.
func chartFloor(days store.ServiceDays, slo float64) float64 {
	m := 99.95
	if slo > 0 {
		m = min(m, slo)
	}
	for i := range days.Downtime {
		m = min(m, days.Percent(i))
	}
	for _, f := range floors {
		if 100-f >= 1.25*(100-m) {
			return f
		}
	}
	return 0
}

// availabilityChart draws days (as from AvailabilityDays) against slo (0: none).
func availabilityChart(days store.ServiceDays, slo float64, loc *time.Location) chart {
	n := len(days.Downtime)
	c := chart{Width: chartWidth, Height: chartHeight, Left: plotLeft, Right: plotRight, Top: plotTop, Bottom: plotBottom,
		TopLabel: "100%"}
	if n == 0 {
		return c
	}
	floor := chartFloor(days, slo)
	c.BaseLabel = trimPercent(floor)
	scale := func(p float64) float64 { // availability -> y
		p = math.Max(p, floor)
		return plotBottom - (p-floor)/(100-floor)*(plotBottom-plotTop)
	}
	bw := float64(plotRight-plotLeft) / float64(n)
	gap := 0.0
	if bw >= 3 {
		gap = math.Min(1, bw/4)
	}
	worst, worstDay := 100.0, 0
	for i := range n {
		p := days.Percent(i)
		y := scale(p)
		if p < 100 && plotBottom-y < 2 { // a day below the floor still shows
			y = plotBottom - 2
		}
		class := "ok"
		switch {
		case slo > 0 && p < slo:
			class = "bad"
		case p < 100:
			class = "warn"
		}
		if p < worst {
			worst, worstDay = p, i
		}
		title := fmt.Sprintf("%s: %s", days.Bounds[i].In(loc).Format("Mon 2 Jan 2006"), commands.FormatPercent(p))
		if days.Downtime[i] > 0 {
			title += fmt.Sprintf(" (%s weighted impact)", chat.FormatDuration(days.Downtime[i].Round(time.Second)))
		}
		c.Bars = append(c.Bars, bar{X: round1(plotLeft + float64(i)*bw), Y: round1(y), W: round1(math.Max(bw-gap, 0.5)),
			H: round1(plotBottom - y), Class: class, Title: title})
	}
	if slo > 0 {
		c.HasSLO, c.SLOY, c.SLOLabel = true, round1(scale(slo)), "SLO "+trimPercent(slo)
	}
	step := int(math.Ceil(float64(n) / 7))
	for i := 0; i < n; i += step {
		c.XLabels = append(c.XLabels, label{X: round1(plotLeft + float64(i)*bw), Text: days.Bounds[i].In(loc).Format("2 Jan")})
	}
	c.BarsSVG = barsSVG(c.Bars)
	c.Marks = incidentMarks(days, bw, loc)
	c.Desc = fmt.Sprintf("Daily availability of %s over %d days against %s; worst day %s at %s; %d incident%s marked.",
		days.Service, n, sloText(slo), days.Bounds[worstDay].In(loc).Format("2 Jan"), commands.FormatPercent(worst),
		len(c.Marks), plural(len(c.Marks)))
	return c
}

// barsSVG writes the bars as <rect> elements; every attribute is a number or a class of ours, and the
// titles are escaped.
func barsSVG(bars []bar) template.HTML {
	b := make([]byte, 0, len(bars)*140)
	num := func(f float64) { b = strconv.AppendFloat(b, f, 'f', -1, 64) }
	for _, r := range bars {
		b = append(b, `<rect class="bar `...)
		b = append(b, r.Class...)
		b = append(b, `" x="`...)
		num(r.X)
		b = append(b, `" y="`...)
		num(r.Y)
		b = append(b, `" width="`...)
		num(r.W)
		b = append(b, `" height="`...)
		num(r.H)
		b = append(b, `"><title>`...)
		b = append(b, template.HTMLEscapeString(r.Title)...)
		b = append(b, "</title></rect>\n"...)
	}
	return template.HTML(b)
}

// incidentMarks puts a triangle above the day each incident's impact started (or the first day, for one
// that started before the chart), labelled with its id where the labels do not collide.
func incidentMarks(days store.ServiceDays, bw float64, loc *time.Location) []mark {
	type first struct {
		im  store.ImpactSpan
		day int
	}
	seen := map[uint64]bool{}
	var incs []first
	for _, im := range days.Impacts {
		if seen[im.Incident] || im.Incident == 0 {
			continue
		}
		seen[im.Incident] = true
		day := 0
		for day < len(days.Downtime)-1 && !days.Bounds[day+1].After(im.Start) {
			day++
		}
		incs = append(incs, first{im, day})
	}
	slices.SortFunc(incs, func(a, b first) int { return a.im.Start.Compare(b.im.Start) })
	var out []mark
	lastLabel := math.Inf(-1)
	for _, f := range incs {
		x := round1(plotLeft + (float64(f.day)+0.5)*bw)
		name := chat.FormatID(chat.KindIncident, f.im.Incident)
		span := "still open"
		if !f.im.End.IsZero() {
			span = chat.FormatDuration(f.im.End.Sub(f.im.Start).Round(time.Minute))
		}
		m := mark{X: x, Points: fmt.Sprintf("%.1f,%d %.1f,%d %.1f,%d", x-5, plotTop-12, x+5, plotTop-12, x, plotTop-3),
			Class: fmt.Sprintf("sev%d", f.im.Severity), Href: "/incidents/" + name,
			Title: fmt.Sprintf("%s SEV%d from %s, %s", name, f.im.Severity, f.im.Start.In(loc).Format("Mon 2 Jan 15:04"), span)}
		if f.im.Planned {
			m.Class, m.Title = "planned", m.Title+" (planned work in a maintenance window: not counted)"
		}
		if x-lastLabel >= 52 {
			m.Label, lastLabel = name, x
		}
		out = append(out, m)
	}
	return out
}

// statusBar is one day of the public status page's 90-day strip.
type statusBar struct {
	X     float64
	Class string // ok, minor (SEV3: degraded), partial (SEV2: partial outage), major (SEV1: major outage)
	Title string
}

// statusStrip writes the status page's strip of bars as SVG, as barsSVG does.
func statusStrip(bars []statusBar) template.HTML {
	b := make([]byte, 0, len(bars)*120)
	for _, r := range bars {
		b = append(b, `<rect class="`...)
		b = append(b, r.Class...)
		b = append(b, `" x="`...)
		b = strconv.AppendFloat(b, r.X, 'f', -1, 64)
		b = append(b, `" y="0" width="4.5" height="34"><title>`...)
		b = append(b, template.HTMLEscapeString(r.Title)...)
		b = append(b, "</title></rect>"...)
	}
	return template.HTML(b)
}

// statusBars draws the status page's strip: equal bars, coloured by the worst incident of the day.
func statusBars(days store.ServiceDays, loc *time.Location) []statusBar {
	n := len(days.Downtime)
	out := make([]statusBar, 0, n)
	for i := range n {
		from, to := days.Bounds[i], days.Bounds[i+1]
		worst := 5
		for _, im := range days.Impacts {
			if im.Start.Before(to) && (im.End.IsZero() || im.End.After(from)) {
				worst = min(worst, im.Severity)
			}
		}
		class, what := "ok", "no incidents"
		switch worst {
		case 1:
			class, what = "major", "major outage"
		case 2:
			class, what = "partial", "partial outage"
		case 3:
			class, what = "minor", "degraded performance"
		}
		out = append(out, statusBar{X: float64(i * 6), Class: class,
			Title: fmt.Sprintf("%s: %s, %s", from.In(loc).Format("2 Jan 2006"), what, commands.FormatPercent(days.Percent(i)))})
	}
	return out
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// trimPercent renders 99.9 as "99.9%" and 99 as "99%".
func trimPercent(f float64) string {
	return fmt.Sprintf("%s%%", trimFloat(f))
}

func trimFloat(f float64) string {
	s := fmt.Sprintf("%.3f", f)
	for s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}

func sloText(slo float64) string {
	if slo <= 0 {
		return "no SLO"
	}
	return "an SLO of " + trimPercent(slo)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
