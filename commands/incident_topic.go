package commands

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// The channel topic during incidents is "<incidents> | <the rest>", e.g.
// "INC-7 SEV1 playlist investigating, INC-9 SEV3 search monitoring | Welcome to #operations".
const (
	topicSep = " | "
	// maxTopic bounds the topic the bot sets (InspIRCd's default TOPICLEN is 307); the stored base keeps the
	// whole original.
	maxTopic = 300
	// topicShown is how many incidents the topic names before "+N more".
	topicShown = 3
)

// incidentPartRE recognises the bot's part (open incidents, maintenance in progress) at the start of a
// topic, also after a restart.
var incidentPartRE = regexp.MustCompile(`^(INC-\d+ SEV[1-4] |M-\d+ maintenance )`)

// topicJob keeps the default channel's topic in step with the open incidents, changing it at most once per
// incidents topic interval (30s by default); changes in between are coalesced into the next one. Its state
// (the topic without incidents, what was last set and when) lives in the store, so a restart resumes it.
func (x *Incidents) topicJob() Job {
	every := x.cfg.TopicEvery
	if every <= 0 {
		every = 30 * time.Second
	}
	lastErr := ""
	return Job{Name: "incident-topic", Every: min(every, 5*time.Second), Run: func(_ context.Context, now time.Time) error {
		err := x.syncTopic(x.rt.Channel, now, every)
		// A refusal (say, no channel op on a +t channel) would repeat every run: report each one once.
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if msg == lastErr {
			return nil
		}
		lastErr = msg
		return err
	}}
}

// syncTopic sets channel's topic to what the open incidents call for, unless it was changed less than every
// ago. With no incident open it restores the topic without the incident part, and then leaves it alone.
func (x *Incidents) syncTopic(channel string, now time.Time, every time.Duration) error {
	cur, ok := x.links.Topic.Topic(channel)
	if !ok {
		return nil
	}
	st, err := x.log.IncidentTopic(channel)
	if err != nil {
		return err
	}
	open, err := x.log.OpenIncidentList()
	if err != nil {
		return err
	}
	var windows []string
	if x.links.Windows != nil {
		if windows, err = x.links.Windows.InProgress(now); err != nil {
			return err
		}
	}
	// With no incident open and no maintenance in progress the topic is left alone, unless it still shows
	// them (say, the bot stopped between setting the topic and storing that it did).
	if len(open) == 0 && len(windows) == 0 && !st.Active && !incidentPartRE.MatchString(cur) {
		return nil
	}
	base := topicBase(cur, st)
	want := base
	if part := incidentTopic(open, windows); part != "" {
		want = part
		if base != "" {
			want += topicSep + base
		}
	}
	want = chat.Truncate(chat.Sanitize(want), maxTopic) // the bot never sends formatting or control codes
	// Active stays true until the channel shows the topic without incidents.
	next := store.TopicState{Base: base, Set: st.Set, SetAt: st.SetAt, Active: len(open)+len(windows) > 0 || want != cur}
	if want != cur {
		if now.Sub(st.SetAt) < every {
			return nil // rate limited: a later run sets the newest state (also while the change is on its way)
		}
		if err := x.links.Topic.SetTopic(channel, want); err != nil {
			return fmt.Errorf("incident topic of %s: %w", channel, err)
		}
		next.Set, next.SetAt = want, now
	}
	if next == st {
		return nil
	}
	return x.log.SetIncidentTopic(channel, next)
}

// topicBase is the current topic without the bot's incident part: the stored base while the topic is what
// the bot set, else whatever follows the incident part (someone edited the rest), else the whole topic
// (someone replaced it).
func topicBase(cur string, st store.TopicState) string {
	if st.Set != "" && cur == st.Set {
		return st.Base
	}
	if !incidentPartRE.MatchString(cur) {
		return cur
	}
	_, rest, _ := strings.Cut(cur, topicSep)
	return rest
}

// incidentTopic names the open incidents, worst first, then the maintenance in progress:
// "INC-7 SEV1 playlist investigating, ... +2 more, M-3 maintenance playlist until 04:00".
func incidentTopic(open []store.Incident, windows []string) string {
	var parts []string
	for i, inc := range open {
		if i == topicShown {
			parts = append(parts, fmt.Sprintf("+%d more", len(open)-topicShown))
			break
		}
		parts = append(parts, fmt.Sprintf("%s SEV%d %s %s", inc.Name(), inc.Severity, inc.Service, inc.Status))
	}
	if len(windows) > topicShown {
		windows = append(windows[:topicShown:topicShown], fmt.Sprintf("+%d more windows", len(windows)-topicShown))
	}
	return strings.Join(append(parts, windows...), ", ")
}
