package commands

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// serviceSubcommands are the words after !service that are commands, so they cannot be service names.
var serviceSubcommands = []string{"add", "set", "depend", "undepend", "remove"}

// ownerName is an account or a team name, with the same rule as account names in the config.
var ownerName = regexp.MustCompile(`^[^\s,*?!@#:]{1,64}$`)

// maxNotesBytes caps a service's free-form notes.
const maxNotesBytes = 400

// userError turns the catalogue's refusals into one line for the caller; other errors stay internal.
func (s *Services) userError(err error, c *Call) error {
	var nf *store.NoServiceError
	var inUse *store.ServiceInUseError
	switch {
	case errors.As(err, &nf):
		msg := fmt.Sprintf("error: no service %q", chat.Truncate(nf.Name, 70))
		if names, lerr := s.st.ServiceNames(); lerr == nil {
			if sug := SuggestService(nf.Name, names); sug != "" {
				msg += ", did you mean " + sug + "?"
			}
		}
		return Errorf("%s", msg)
	case errors.As(err, &inUse):
		return Errorf("error: %s %s on %s; remove those dependencies first or use %sservice remove %s --force",
			nameList(inUse.Dependents, 10), pluralVerb(len(inUse.Dependents), "depends", "depend"), inUse.Name, c.Prefix, inUse.Name)
	case errors.Is(err, store.ErrServiceExists):
		return Errorf("error: service %s already exists (change it with %sservice set)", lookupName(c.Args[0]), c.Prefix)
	case errors.Is(err, store.ErrSelfDependency):
		return Errorf("error: a service cannot depend on itself")
	case errors.Is(err, store.ErrBadSLO):
		return Errorf("error: the SLO is a percentage below 100, like 99.9")
	case errors.Is(err, store.ErrBadServiceName):
		return Errorf("error: service names are lowercase letters, digits, \".\", \"_\" and \"-\", at most 64")
	}
	return err
}

// SuggestService is Suggest for service names. A name too long to be within two edits of any valid name gets
// no suggestion, and costs no edit distances over a large catalogue.
func SuggestService(name string, names []string) string {
	if len(name) > 64+2 {
		return ""
	}
	return Suggest(name, names)
}

// lookupName normalises a service name someone typed to find an existing service.
func lookupName(s string) string { return strings.ToLower(s) }

// newServiceName checks a name for a service about to be created: strictly, so nothing is silently renamed.
func newServiceName(s string) (string, error) {
	if !store.ValidServiceName(s) {
		hint := ""
		if l := strings.ToLower(s); l != s && store.ValidServiceName(l) {
			hint = " (like " + l + ")"
		}
		return "", Errorf("error: %q is not a service name: lowercase letters, digits, \".\", \"_\" and \"-\", at most 64%s", chat.Truncate(s, 70), hint)
	}
	for _, sub := range serviceSubcommands {
		if s == sub {
			return "", Errorf("error: %q is a !service subcommand, so it cannot be a service name", s)
		}
	}
	return s, nil
}

// editFields reads --owner, --schedule, --slo, --notes and --public; "none" (or an empty value) clears a
// field. A schedule must be one of the configured ones.
func (s *Services) editFields(c *Call) (store.ServiceFields, error) {
	var f store.ServiceFields
	if v, ok := c.Flag("schedule"); ok {
		v = strings.ToLower(strings.TrimSpace(v))
		if clears(v) {
			v = ""
		} else if !slices.Contains(s.schedules, v) {
			return f, UnknownSchedule(v, s.schedules)
		}
		f.Schedule = &v
	}
	if v, ok := c.Flag("owner"); ok {
		v = strings.TrimSpace(v)
		if clears(v) {
			v = ""
		} else if !ownerName.MatchString(v) {
			return f, Errorf("error: owner %q: an account or team name, without spaces or any of ,*?!@#:", chat.Truncate(v, 70))
		}
		f.Owner = &v
	}
	if v, ok := c.Flag("slo"); ok {
		slo := 0.0
		if t := strings.TrimSuffix(strings.TrimSpace(v), "%"); !clears(t) {
			var err error
			if slo, err = strconv.ParseFloat(t, 64); err != nil || !(slo > 0 && slo < 100) { // NaN too
				return f, Errorf("error: --slo %s: a percentage above 0 and below 100, like 99.9 (or none)", chat.Truncate(v, 20))
			}
		}
		f.SLO = &slo
	}
	if v, ok := c.Flag("notes"); ok {
		v = strings.TrimSpace(v)
		if len(v) > maxNotesBytes {
			return f, Errorf("error: notes too long (%d bytes, at most %d)", len(v), maxNotesBytes)
		}
		if clears(v) {
			v = ""
		}
		f.Notes = &v
	}
	if v, ok := c.Flag("public"); ok {
		var public bool
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "yes", "on":
			public = true
		case "false", "no", "off", "none":
		default:
			return f, Errorf("error: --public %s: true or false", chat.Truncate(v, 20))
		}
		f.Public = &public
	}
	return f, nil
}

func clears(v string) bool { return v == "" || strings.EqualFold(v, "none") || v == "-" }

func pluralVerb(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// schedulePart is "schedule db" in a service's line, flagged when that schedule is not configured.
func (s *Services) schedulePart(name string) string {
	if slices.Contains(s.schedules, name) {
		return "schedule " + name
	}
	return fmt.Sprintf("schedule %s (not configured: its pages go to %s)", name, s.schedules[0])
}
