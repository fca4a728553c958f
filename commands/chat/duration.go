package chat

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxDuration bounds what ParseDuration accepts, far below time.Duration's own limit (292 years).
const maxDuration = 100 * 365 * 24 * time.Hour

// ParseDuration accepts Go durations plus days and weeks: 90s, 15m, 2h, 3d, 1w, 1d12h.
func ParseDuration(s string) (time.Duration, error) {
	in := strings.ToLower(strings.TrimSpace(s))
	if in == "" {
		return 0, errors.New("empty duration")
	}
	var total time.Duration
	rest := in
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) {
			return 0, fmt.Errorf("bad duration %q (use 90s, 15m, 2h, 3d, 1w)", s)
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil || n > 1e6 {
			return 0, fmt.Errorf("bad duration %q (use 90s, 15m, 2h, 3d, 1w)", s)
		}
		j := i
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		var unit time.Duration
		switch rest[i:j] {
		case "ms":
			unit = time.Millisecond
		case "s":
			unit = time.Second
		case "m":
			unit = time.Minute
		case "h":
			unit = time.Hour
		case "d":
			unit = 24 * time.Hour
		case "w":
			unit = 7 * 24 * time.Hour
		default:
			return 0, fmt.Errorf("bad duration %q (use 90s, 15m, 2h, 3d, 1w)", s)
		}
		if time.Duration(n) > (maxDuration-total)/unit { // 1000000w would overflow into the past
			return 0, fmt.Errorf("duration %q is too long (at most 100 years)", s)
		}
		total += time.Duration(n) * unit
		rest = rest[j:]
	}
	return total, nil
}

// ParseTime accepts "14:05" (today in loc) or RFC 3339.
func ParseTime(s string, now time.Time, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("15:04", s, loc); err == nil {
		n := now.In(loc)
		return time.Date(n.Year(), n.Month(), n.Day(), t.Hour(), t.Minute(), 0, 0, loc), nil
	}
	return time.Time{}, fmt.Errorf("bad time %q (use 14:05 or 2026-11-25T14:05:00Z)", s)
}

// FormatDuration renders a duration briefly for chat: 45s, 12m, 3h05m, 2d4h.
func FormatDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		h := int(d.Hours())
		m := int(d.Minutes()) - 60*h
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%02dm", h, m)
	default:
		days := int(d.Hours()) / 24
		h := int(d.Hours()) - 24*days
		if h == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd%dh", days, h)
	}
}
