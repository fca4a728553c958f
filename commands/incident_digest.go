package commands

import (
	"fmt"
	"time"
)

// DigestName names the incidents family's part of the handoff digest.
func (x *Incidents) DigestName() string { return "incidents" }

// Digest gives the open incidents, worst first, whatever the schedule.
func (x *Incidents) Digest(_ string, _, now time.Time) (DigestPart, error) {
	open, err := x.log.OpenIncidentList()
	if err != nil {
		return DigestPart{}, err
	}
	var part DigestPart
	for _, inc := range open {
		part.Items = append(part.Items, x.listLine(inc, now))
	}
	switch len(open) {
	case 0:
	case 1:
		part.Summary = open[0].Name() + " open"
	default:
		part.Summary = fmt.Sprintf("%d incidents open", len(open))
	}
	return part, nil
}
