package commands

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/store"
)

// The store provides the deploys contract to other families (incidents, services).
var _ ServiceDeploys = (*store.Store)(nil)

type fakeFreezes map[string]string

func (f fakeFreezes) FrozenBy(service string) (string, error) { return f[service], nil }

type fakeCatalog []string

func (c fakeCatalog) ServiceOwner(name string) (string, error) {
	for _, s := range c {
		if s == name {
			return "bob", nil
		}
	}
	return "", fmt.Errorf("service %s: %w", name, store.ErrNotFound)
}
func (c fakeCatalog) ServiceImpact(string) ([]string, error) { return nil, nil }
func (c fakeCatalog) ServiceNames() ([]string, error)        { return c, nil }

// announcements records what the family posts to the channel.
type announcements struct {
	lines []string
	fail  error // returned once by the next Announce, as a failed outbox commit would
}

func (a *announcements) Announce(channel, text string, urgent bool) error {
	if err := a.fail; err != nil {
		a.fail = nil
		return err
	}
	a.lines = append(a.lines, fmt.Sprintf("%s|%s|%v", channel, text, urgent))
	return nil
}
func (a *announcements) Notify(nick, text string, urgent bool) error { return nil }

// deployBench is the deploys family behind the real dispatcher, over a real store, with a clock that moves
// one minute per command.
type deployBench struct {
	t    *testing.T
	st   *store.Store
	disp *Dispatcher
	ann  *announcements
	now  time.Time
}

func newDeployBench(t *testing.T, mod func(*testDeps)) *deployBench {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "opsbot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b := &deployBench{t: t, st: st, ann: &announcements{}, now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	now := func() time.Time { return b.now }
	st.Now = now
	d := testDeps{Store: st, Announce: b.ann, Prefix: "!", Now: now, Location: time.UTC, Channel: "#operations"}
	if mod != nil {
		mod(&d)
	}
	reg, _, err := buildAll(d)
	if err != nil {
		t.Fatal(err)
	}
	b.disp = NewDispatcher(reg, DispatcherOptions{Prefix: "!", Roles: NewRoles([]string{"alice"}, []string{"alice", "carol"}, nil), Audit: st, Now: now})
	return b
}

// run dispatches text from account in #operations (or privately when text starts with "/msg ") and returns
// the reply lines and the error lines, with zero-width spaces removed.
func (b *deployBench) run(account, text string) string {
	b.t.Helper()
	b.now = b.now.Add(time.Minute)
	channel := "#operations"
	if rest, ok := strings.CutPrefix(text, "/msg "); ok {
		text, channel = rest, ""
	}
	buf := &Buffer{}
	b.disp.Dispatch(context.Background(), Message{Caller: Caller{Account: account, Nick: account + "_nick"}, Text: text, Channel: channel}, buf)
	return strings.ReplaceAll(strings.Join(append(buf.Lines, buf.Errors...), "\n"), "\u200b", "")
}

// step: who types what, and the exact answer.
type chatStep struct{ as, cmd, want string }

func TestDeployCommands(t *testing.T) {
	shipped := []chatStep{
		{"bob", "deploy start playlist 1.41", "D-1 playlist 1.41 started by bob (prod)"},
		{"bob", "deploy done playlist", "D-1 playlist 1.41 succeeded in prod after 1m"},
	}
	cases := []struct {
		name  string
		mod   func(*testDeps)
		steps []chatStep
	}{
		{"canary 10% -> 50% -> done", nil, append(shipped,
			chatStep{"bob", "deploy start playlist 1.42 --percent 10", "D-2 playlist 1.42 started by bob at 10% (prod)"},
			chatStep{"dave", "deploy progress playlist 50%", "D-2 playlist 1.42 at 50% (prod)"},
			chatStep{"", "deploy status playlist", "playlist: prod 1.41 since 10:02; deploys open\nD-2 1.42 rolling out in prod at 50% since 10:03 by bob"},
			chatStep{"bob", "deploy done playlist", "D-2 playlist 1.42 succeeded in prod after 3m (was 1.41)"},
			chatStep{"", "deploy status playlist", "playlist: prod 1.42 since 10:06 (was 1.41); deploys open"},
			chatStep{"", "deploy history playlist", "D-2 1.42 prod succeeded 10:06 by bob after 3m\nD-1 1.41 prod succeeded 10:02 by bob after 1m"},
		)},
		{"by deploy id, as announced", nil, append(shipped,
			chatStep{"bob", "deploy start playlist 1.42 --percent 10", "D-2 playlist 1.42 started by bob at 10% (prod)"},
			chatStep{"dave", "deploy progress D-2 50", "D-2 playlist 1.42 at 50% (prod)"},
			chatStep{"dave", "deploy progress d-2 60%", "D-2 playlist 1.42 at 60% (prod)"},
			chatStep{"bob", "deploy progress D-1 70", "error: D-1 (playlist 1.41 in prod) is no longer in progress: it succeeded; for the service's current rollout: !deploy progress playlist"},
			chatStep{"bob", "deploy progress D-99 70", "error: no deploy D-99"},
			chatStep{"bob", "deploy done D-2 --env staging", "error: D-2 is in prod, not staging"},
			chatStep{"bob", "deploy done D-2", "D-2 playlist 1.42 succeeded in prod after 6m (was 1.41)"},
			chatStep{"bob", "deploy rollback D-2 errors up", "D-2 playlist rolled back from 1.42 to 1.41 in prod by bob: errors up. Locked: rolled back from 1.42 (ops: !deploy unlock playlist)"},
			chatStep{"bob", "deploy rollback D-2", "error: nothing to roll back: D-2 playlist 1.42 was already rolled back to 1.41 (prod); to go further, start an older version"},
			chatStep{"bob", "deploy fail D-1", "error: D-1 (playlist 1.41 in prod) is no longer in progress: it succeeded; for the service's current rollout: !deploy fail playlist"},
			chatStep{"carol", "deploy unlock playlist", "playlist unlocked (was locked by bob since 10:10: rolled back from 1.42)"},
			chatStep{"bob", "deploy start playlist 1.43 --percent 10", "D-3 playlist 1.43 started by bob at 10% (prod)"},
			chatStep{"bob", "deploy rollback D-2", "error: D-3 playlist 1.43 is rolling out in prod: a rollback would act on it, not on D-2 (!deploy rollback D-3)"},
		)},
		{"failed rollout on sites", nil, append(shipped,
			chatStep{"bob", "deploy start playlist 1.42 --sites eu-1", "D-2 playlist 1.42 started by bob on eu-1 (prod)"},
			chatStep{"bob", "deploy progress playlist eu-2,us-1", "D-2 playlist 1.42 on eu-1, eu-2, us-1 (prod)"},
			chatStep{"bob", "deploy fail playlist 5xx on eu-2", "D-2 playlist 1.42 failed on eu-1, eu-2, us-1 (prod): 5xx on eu-2; prod stays on 1.41"},
			chatStep{"bob", "deploy done playlist", "error: no rollout of playlist in progress"},
			chatStep{"bob", "deploy rollback playlist", "D-2 playlist rolled back from 1.42 to 1.41 in prod by bob. Locked: rolled back from 1.42 (ops: !deploy unlock playlist)"},
		)},
		{"rollback locks; a locked start is refused, forced by ops", nil, append(shipped,
			chatStep{"bob", "deploy start playlist 1.42 --percent 50", "D-2 playlist 1.42 started by bob at 50% (prod)"},
			chatStep{"bob", "deploy start playlist 1.43", "error: D-2 playlist 1.42 is already rolling out in prod (at 50% since 10:03 by bob): !deploy done, fail or rollback playlist first"},
			chatStep{"dave", "deploy rollback playlist errors up", "D-2 playlist rolled back from 1.42 to 1.41 in prod by dave: errors up. Locked: rolled back from 1.42 (ops: !deploy unlock playlist)"},
			chatStep{"bob", "deploy start playlist 1.43", "error: playlist is locked by dave since 10:05: rolled back from 1.42; ops may add --force"},
			chatStep{"bob", "deploy start playlist 1.43 --force", "error: --force needs the ops role (you are a developer)"},
			chatStep{"carol", "deploy start playlist 1.43 --force", "D-3 playlist 1.43 started by carol (prod) [forced past locked: rolled back from 1.42 (dave)]"},
			chatStep{"", "deploy status playlist", "playlist: prod 1.41 since 10:02; locked by dave since 10:05: rolled back from 1.42\nD-3 1.43 rolling out in prod since 10:08 by carol [forced past locked: rolled back from 1.42 (dave)]"},
			chatStep{"carol", "deploy rollback playlist 1.40 bad config", "D-3 playlist rolled back from 1.43 to 1.40 in prod by carol: bad config. Still locked: rolled back from 1.42"},
			chatStep{"bob", "deploy unlock playlist", "error: !deploy unlock needs the ops role (you are a developer)"},
			chatStep{"carol", "deploy unlock playlist", "playlist unlocked (was locked by dave since 10:05: rolled back from 1.42)"},
			chatStep{"carol", "deploy rollback playlist", "error: nothing to roll back: D-3 playlist 1.43 was already rolled back to 1.40 (prod); to go further, start an older version"},
		)},
		{"a developer's rollback goes only to a version that ran; ops' to any", nil, append(shipped,
			chatStep{"carol", "deploy lock playlist freeze for the audit", "playlist locked by carol: freeze for the audit"},
			chatStep{"bob", "deploy start playlist 2.0", "error: playlist is locked by carol since 10:03: freeze for the audit; ops may add --force"},
			chatStep{"bob", "deploy rollback playlist 2.0 sneaky", "error: playlist 2.0 never ran in prod: a rollback goes back to a version that did (ops may name any); to deploy it: !deploy start playlist 2.0"},
			chatStep{"", "deploy status playlist", "playlist: prod 1.41 since 10:02; locked by carol since 10:03: freeze for the audit"},
			chatStep{"carol", "deploy rollback playlist 1.39 before our history", "D-1 playlist rolled back from 1.41 to 1.39 in prod by carol: before our history. Still locked: freeze for the audit"},
		)},
		{"no lock on rollback when configured", func(d *testDeps) { d.NoLockOnRollback = true }, append(shipped,
			chatStep{"bob", "deploy start playlist 1.42", "D-2 playlist 1.42 started by bob (prod)"},
			chatStep{"bob", "deploy rollback playlist", "D-2 playlist rolled back from 1.42 to 1.41 in prod by bob"},
			chatStep{"bob", "deploy start playlist 1.43", "D-3 playlist 1.43 started by bob (prod)"},
		)},
		{"frozen by an open incident", func(d *testDeps) { d.Freezes = fakeFreezes{"playlist": "INC-7 SEV1 open"} }, []chatStep{
			{"bob", "deploy start playlist 1.42", "error: deploys of playlist are frozen: INC-7 SEV1 open; ops may add --force"},
			{"bob", "deploy start search 1.0", "D-1 search 1.0 started by bob (prod)"},
			{"", "deploy status playlist", "playlist: no version deployed yet; frozen: INC-7 SEV1 open"},
			{"alice", "deploy start playlist 1.42 --force --env staging", "D-2 playlist 1.42 started by alice (staging) [forced past frozen: INC-7 SEV1 open]"},
			{"alice", "deploy rollback playlist", "error: no version before D-2 playlist 1.42 known in staging: name one (!deploy rollback playlist <version>)"},
		}},
		{"environments", nil, []chatStep{
			{"bob", "deploy start playlist 2.0 --env staging", "D-1 playlist 2.0 started by bob (staging)"},
			{"bob", "deploy start playlist 1.9", "D-2 playlist 1.9 started by bob (prod)"},
			{"bob", "deploy done playlist", "error: playlist is rolling out in prod and staging: add --env prod"},
			{"bob", "deploy done playlist --env staging", "D-1 playlist 2.0 succeeded in staging after 3m"},
			{"bob", "deploy done playlist", "D-2 playlist 1.9 succeeded in prod after 3m"},
			{"", "deploy status playlist", "playlist: prod 1.9 since 10:05, staging 2.0 since 10:04; deploys open"},
		}},
		{"locks", nil, []chatStep{
			{"carol", "deploy lock all release freeze", "all deploys locked by carol: release freeze"},
			{"carol", "deploy lock search migration", "search locked by carol: migration"},
			{"carol", "deploy lock search migration, part 2", "search locked by carol: migration, part 2 (replaces the lock by carol: migration)"},
			{"bob", "deploy start playlist 1", "error: all deploys are locked by carol since 10:01: release freeze; ops may add --force"},
			{"", "deploy status", "no rollouts in progress\nlocked (2): all deploys locked by carol since 10:01: release freeze; search locked by carol since 10:03: migration, part 2"},
			{"carol", "deploy unlock playlist", "error: playlist is not locked itself, but all deploys are (!deploy unlock all)"},
			{"carol", "deploy unlock all", "all deploys unlocked (was locked by carol since 10:01: release freeze); still locked: search"},
			{"carol", "deploy unlock all", "error: there is no lock on all deploys"},
			{"", "deploy status", "no rollouts in progress\nlocked (1): search locked by carol since 10:03: migration, part 2"},
		}},
		{"bad input changes nothing", func(d *testDeps) { d.Catalog = fakeCatalog{"playlist", "search"} }, []chatStep{
			{"", "deploy start playlist 1.0", "error: log in to NickServ first (this bot trusts accounts, not nicks)"},
			{"bob", "deploy start playlist", "usage: !deploy start <service> <version> [--env prod] [--percent N | --sites a,b] [--force]"},
			{"bob", "deploy start playlst 1.0", "error: no service playlst in the catalogue (did you mean playlist?)"},
			{"bob", "deploy start Play!list 1.0", `error: "play!list" is not a service name (a-z, 0-9, . _ -, at most 64)`},
			{"bob", "deploy start all 1.0", `error: "all" is not a service (it means every service in lock and unlock)`},
			{"bob", "deploy start playlist 1.0;rm", `error: "1.0;rm" is not a version (letters, digits, . _ + ~ -, at most 64)`},
			{"bob", "deploy start playlist 1.0 --percent 200", `error: "200" is not a percentage from 1 to 100`},
			{"bob", "deploy start playlist 1.0 --percent 10 --sites a", "usage: !deploy start <service> <version> [--env prod] [--percent N | --sites a,b] [--force]"},
			{"bob", "deploy start playlist 1.0 --env Prod!", `error: "prod!" is not an environment name (a-z, 0-9, . _ -, at most 32)`},
			{"carol", `deploy lock all ""`, "usage: !deploy lock <service|all> <reason>"},
			{"bob", "deploy progress playlist 50", "error: no rollout of playlist in progress"},
			{"bob", "deploy progress D-5 50", "error: no deploy D-5"},
			{"bob", "deploy history playlist 0", "usage: !deploy history <service> [n]"},
			{"bob", "deploy rollback playlist", "error: nothing to roll back: no deploy of playlist in prod recorded"},
			{"bob", "deploy", "usage: !deploy <start|progress|done|fail|rollback|status|history|lock|unlock> (!help deploy)"},
			{"", "deploy status", "no rollouts in progress, no deploy locks"},
			{"", "deploy history playlist", "playlist: no deploys recorded"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newDeployBench(t, tc.mod)
			for i, s := range tc.steps {
				if got := b.run(s.as, s.cmd); got != s.want {
					t.Fatalf("step %d: %s: !%s\n got: %q\nwant: %q", i, s.as, s.cmd, got, s.want)
				}
			}
		})
	}
}

func TestDeployAnnouncements(t *testing.T) {
	b := newDeployBench(t, nil)
	b.run("bob", "deploy start playlist 1.0")
	if len(b.ann.lines) != 0 {
		t.Fatalf("a deploy typed in the announcement channel was announced again: %q", b.ann.lines)
	}
	b.run("bob", "/msg deploy done playlist")
	b.run("bob", "/msg deploy start playlist 1.1")
	b.run("bob", "/msg deploy rollback playlist")
	b.run("carol", "/msg deploy start playlist 1.2 --force")
	want := []string{
		"|D-1 playlist 1.0 succeeded in prod after 1m|false",
		"|D-2 playlist 1.1 started by b\u200bob (prod)|false",
		"|D-2 playlist rolled back from 1.1 to 1.0 in prod by b\u200bob. Locked: rolled back from 1.1 (ops: !deploy unlock playlist)|true",
		"|D-3 playlist 1.2 started by c\u200barol (prod) [forced past locked: rolled back from 1.1 (bob)]|true",
	}
	if strings.Join(b.ann.lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("announcements:\n%s\nwant:\n%s", strings.Join(b.ann.lines, "\n"), strings.Join(want, "\n"))
	}
	entries, _ := b.st.AuditLog(1)
	if len(entries) != 1 || !strings.Contains(entries[0].Args, "--force") || entries[0].Account != "carol" {
		t.Errorf("the forced start is not in the audit log: %+v", entries)
	}
}

// A deploy recorded whose announcement then fails is not reported as a failure (a CI retry of it would be a
// duplicate, never announced): the answer says it is recorded and the announcement failed.
func TestDeployRecordedWhenTheAnnouncementFails(t *testing.T) {
	b := newDeployBench(t, nil)
	b.ann.fail = errors.New("store: outbox: no space left on device")
	if got, want := b.run("bob", "/msg deploy start playlist 1.0"), "D-1 playlist 1.0 started by bob (prod) (recorded, but the announcement in #operations failed: see the log)"; got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if d, err := b.st.GetDeploy(1); err != nil || d.State != store.DeployStarted {
		t.Fatalf("D-1 = %+v, %v; want it stored, started", d, err)
	}
}

func TestDeployStatusFitsInFourLines(t *testing.T) {
	b := newDeployBench(t, nil)
	for i := range 40 {
		if got := b.run("carol", fmt.Sprintf("deploy start service-with-a-long-name-%02d 1.%d --percent 10", i, i)); !strings.HasPrefix(got, "D-") {
			t.Fatal(got)
		}
		b.run("carol", fmt.Sprintf("deploy lock other-service-%02d waiting for the database migration to finish", i))
	}
	b.run("carol", "deploy lock all release")
	got := strings.Split(b.run("", "deploy status"), "\n")
	if len(got) > 4 {
		t.Fatalf("!deploy status in a channel gave %d lines", len(got))
	}
	for _, l := range got {
		if len(l) > statusLineBytes {
			t.Errorf("line of %d bytes: %q", len(l), l)
		}
	}
	if !strings.HasPrefix(got[0], "rolling out (40): D-1 service-with-a-long-name-00 1.0 prod at 10% since") || !strings.HasSuffix(got[0], "more (!deploy status <service>, or ask in private)") {
		t.Errorf("rollouts line = %q", got[0])
	}
	if !strings.HasPrefix(got[1], "locked (41): all deploys locked by carol") {
		t.Errorf("locks line = %q", got[1])
	}
	if private := strings.Split(b.run("", "/msg deploy status"), "\n"); len(private) != 81 {
		t.Errorf("private !deploy status gave %d lines, want all 81", len(private))
	}
}

func TestDeployCapLine(t *testing.T) {
	items := []string{strings.Repeat("a", 200), strings.Repeat("b", 200), "c"}
	for _, tc := range []struct {
		items []string
		want  string
	}{
		{items[:1], "x: " + items[0]},
		{items, "x: " + items[0] + "; ... and 2 more (m)"},
		{[]string{"a", "b"}, "x: a; b"},
	} {
		if got := capLine("x: ", tc.items, "(m)"); got != tc.want {
			t.Errorf("capLine(%d items) = %q, want %q", len(tc.items), got, tc.want)
		}
	}
}

// The deploys family contributes to the meeting agendas.
var _ AgendaSource = (*Deploys)(nil)

func TestDeployAgenda(t *testing.T) {
	b := newDeployBench(t, nil)
	from := b.now
	for _, cmd := range []string{"deploy start playlist 1.41", "deploy done playlist", "deploy start playlist 1.42",
		"deploy rollback playlist errors", "deploy start search 2.0", "deploy done search", "deploy start search 2.1"} {
		if got := b.run("bob", cmd); !strings.HasPrefix(got, "D-") {
			t.Fatalf("%s: %q", cmd, got)
		}
	}
	p := NewDeploys(Runtime{Now: func() time.Time { return b.now }}, b.st, DeployConfig{}, DeployLinks{})
	for _, tc := range []struct {
		kind     string
		from, to time.Time
		want     []string
	}{
		{"retro", from, from.Add(time.Hour), []string{
			"deploys: 4 to 2 services (2 succeeded, 0 failed, 1 rolled back, 1 in progress)",
			"rollbacks (1): D-2 playlist 1.42 -> 1.41: errors"}},
		{"scalability", from, from.Add(time.Hour), []string{
			"deploys: 4 to 2 services (2 succeeded, 0 failed, 1 rolled back, 1 in progress); most: playlist 2, search 2",
			"rollbacks (1): D-2 playlist 1.42 -> 1.41: errors"}},
		{"planning", from, from.Add(time.Hour), []string{
			"deploy locks (1): playlist (rolled back from 1.42, by b\u200bob)",
			"rolling out (1): D-4 search 2.1 started"}},
		{"retro", from.Add(time.Hour), from.Add(2 * time.Hour), nil},
		{"weather", from, from.Add(time.Hour), nil},
	} {
		got, err := p.Agenda(tc.kind, tc.from, tc.to)
		if err != nil || strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("Agenda(%s) = %q, %v\nwant %q", tc.kind, got, err, tc.want)
		}
	}
	if p.AgendaName() != "deploys" {
		t.Errorf("AgendaName = %q", p.AgendaName())
	}
}

// A rollback is the week's when it happens then, whenever its deploy started: the retro of the week a deploy
// started counts it (as rolled back) without listing the rollback, the next week's lists the rollback alone.
// The handoff digest likewise lists the rollbacks of the shift that ends.
func TestDeployAgendaRollbackOfAnOlderDeploy(t *testing.T) {
	b := newDeployBench(t, nil)
	week1 := b.now
	for _, cmd := range []string{"deploy start radio 3.0", "deploy done radio", "deploy start radio 3.1"} {
		if got := b.run("bob", cmd); !strings.HasPrefix(got, "D-") {
			t.Fatalf("%s: %q", cmd, got)
		}
	}
	b.now = week1.Add(8 * 24 * time.Hour)
	if got := b.run("bob", "deploy rollback radio slow starts"); !strings.HasPrefix(got, "D-2") {
		t.Fatalf("rollback: %q", got)
	}
	week2 := week1.Add(7 * 24 * time.Hour)
	p := NewDeploys(Runtime{Now: func() time.Time { return b.now }}, b.st, DeployConfig{}, DeployLinks{})
	for _, tc := range []struct {
		from, to time.Time
		want     []string
	}{
		{week1, week2, []string{"deploys: 2 to 1 services (1 succeeded, 0 failed, 1 rolled back, 0 in progress)"}},
		{week2, week2.Add(7 * 24 * time.Hour), []string{"rollbacks (1): D-2 radio 3.1 -> 3.0: slow starts"}},
		{week2.Add(7 * 24 * time.Hour), week2.Add(14 * 24 * time.Hour), nil},
	} {
		got, err := p.Agenda("retro", tc.from, tc.to)
		if err != nil || strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("Agenda(retro, %s) = %q, %v\nwant %q", tc.from.Format(time.DateOnly), got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		since, now time.Time
		want       string
	}{
		{b.now.Add(-time.Hour), b.now.Add(time.Hour), "1 rollback, 1 lock"},
		{b.now.Add(time.Second), b.now.Add(time.Hour), "1 lock"},
	} {
		part, err := p.Digest("ops", tc.since, tc.now)
		if err != nil || part.Summary != tc.want {
			t.Errorf("Digest(%s..%s) = %+v, %v; want summary %q", tc.since.Format(time.TimeOnly), tc.now.Format(time.TimeOnly), part, err, tc.want)
		}
	}
}

func (a *announcements) Tell(account, text string, urgent bool) error {
	return a.Notify(account, text, urgent)
}
