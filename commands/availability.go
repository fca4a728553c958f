package commands

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// Availability windows.
const (
	defaultWindow = 30 * 24 * time.Hour
	maxWindow     = 400 * 24 * time.Hour
	// maxAvailabilityLines caps the all-services listing (a channel shows bot.max_lines of it).
	maxAvailabilityLines = 20
)

func (x *Incidents) availability(_ context.Context, c *Call, w Replier) error {
	window, service := defaultWindow, ""
	seenWindow := false
	for _, a := range c.Args {
		if d, err := chat.ParseDuration(a); err == nil && !seenWindow {
			if d <= 0 || d > maxWindow {
				return Errorf("error: window %s: between 1m and %s", a, chat.FormatDuration(maxWindow))
			}
			window, seenWindow = d, true
			continue
		}
		if service != "" {
			return c.Usage()
		}
		// Checked against the catalogue: a misspelt name would read as a reassuring 100%.
		var err error
		if service, err = x.service(a); err != nil {
			return err
		}
	}
	now := x.rt.Now()
	from, weights := now.Add(-window), x.cfg.SeverityWeights()
	if service != "" {
		a, err := x.log.Availability(service, from, now, weights)
		if err != nil {
			return err
		}
		line, err := x.availabilityLine(a, window)
		if err != nil {
			return err
		}
		c.Page = "/availability?service=" + service
		w.Reply(line + x.rt.Link(c.Page))
		return nil
	}
	all, err := x.log.AvailabilityAll(from, now, weights)
	if err != nil {
		return err
	}
	if len(all) == 0 {
		w.Reply(fmt.Sprintf("no incidents in the last %s: every service at 100%%", chat.FormatDuration(window)))
		return nil
	}
	var lines []string
	for i, a := range all {
		if i == maxAvailabilityLines {
			lines = append(lines, fmt.Sprintf("... and %d more services (GET /api/v1/availability?window=%s)", len(all)-i, chat.FormatDuration(window)))
			break
		}
		line, err := x.availabilityLine(a, window)
		if err != nil {
			return err
		}
		lines = append(lines, line)
	}
	w.Reply(lines...)
	return nil
}

// availabilityLine is "playlist: 99.95% over 30d, SLO 99.9%, 21m of 43m budget used", or without an SLO
// "playlist: 99.95% over 30d, 21m weighted impact in 2 incidents".
func (x *Incidents) availabilityLine(a store.ServiceAvailability, window time.Duration) (string, error) {
	line, err := x.availabilityOnly(a, window)
	if err == nil && a.Planned > 0 {
		line += fmt.Sprintf("; %s planned downtime (not counted)", chat.FormatDuration(a.Planned))
	}
	return line, err
}

func (x *Incidents) availabilityOnly(a store.ServiceAvailability, window time.Duration) (string, error) {
	line := fmt.Sprintf("%s: %s over %s", a.Service, FormatPercent(a.Percent), chat.FormatDuration(window))
	slo, ok, err := x.slo(a.Service)
	if err != nil {
		return "", err
	}
	if ok {
		budget := SLOBudget(slo, window)
		line += fmt.Sprintf(", SLO %s%%, %s of %s budget used", strconv.FormatFloat(slo, 'f', -1, 64), chat.FormatDuration(a.Downtime), chat.FormatDuration(budget))
		if a.Downtime > budget {
			line += " (over budget)"
		}
		return line, nil
	}
	if a.Incidents == 0 {
		return line + ", no incidents", nil
	}
	return line + fmt.Sprintf(", %s weighted impact in %d incident%s", chat.FormatDuration(a.Downtime), a.Incidents, plural(a.Incidents)), nil
}

// slo is the service's SLO from the SLOs contract; ok is false when it has none or nobody provides SLOs.
func (x *Incidents) slo(service string) (float64, bool, error) {
	if x.links.SLOs == nil {
		return 0, false, nil
	}
	return x.links.SLOs.ServiceSLO(service)
}

// SLOBudget is the impact an SLO (in percent) allows over a window: 99.9% of 30d allows 43m.
func SLOBudget(slo float64, window time.Duration) time.Duration {
	return time.Duration(float64(window) * (100 - slo) / 100)
}

// FormatPercent renders an availability rounded down to two decimals ("99.95%"), so that any impact at all
// never shows as 100%.
func FormatPercent(p float64) string {
	if p >= 100 {
		return "100%"
	}
	return fmt.Sprintf("%.2f%%", math.Floor(p*100)/100)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
