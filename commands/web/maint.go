package web

import (
	"time"

	"github.com/opsbot/opsbot/store"
)

// maintenanceAhead is how far ahead the overview and the status page list planned maintenance windows.
const maintenanceAhead = 7 * 24 * time.Hour

// windowsAt returns the maintenance windows in progress at now and those starting within ahead, by start;
// nil without the maintenance family.
func (x *Web) windowsAt(now time.Time, ahead time.Duration) ([]store.Window, error) {
	if x.links.Windows == nil {
		return nil, nil
	}
	open, err := x.links.Windows.OpenWindows()
	if err != nil {
		return nil, err
	}
	var out []store.Window
	for _, w := range open {
		if !w.Over(now) && w.Start.Before(now.Add(ahead)) {
			out = append(out, w)
		}
	}
	return out, nil
}

// windowFreezes lists the windows in progress that freeze deploys.
func windowFreezes(ws []store.Window, now time.Time) []store.Window {
	var out []store.Window
	for _, w := range ws {
		if w.Freeze && w.Active(now) {
			out = append(out, w)
		}
	}
	return out
}
