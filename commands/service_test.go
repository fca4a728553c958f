package commands

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
	"github.com/opsbot/opsbot/store"
)

// serviceHarness is the real dispatcher over a real store, with the roles of the test config:
// admins [alice], ops [alice, carol]; every other account is a developer.
type serviceHarness struct {
	t    *testing.T
	st   *store.Store
	disp *Dispatcher
}

func newServiceHarness(t *testing.T, edit func(*testDeps)) *serviceHarness {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "opsbot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := func() time.Time { return time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) }
	st.Now = now
	d := testDeps{Store: st, Catalog: st, Prefix: "!", Now: now, MaxLines: 4}
	if edit != nil {
		edit(&d)
	}
	reg, _, err := buildAll(d)
	if err != nil {
		t.Fatal(err)
	}
	disp := NewDispatcher(reg, DispatcherOptions{Prefix: "!", Roles: NewRoles([]string{"alice"}, []string{"alice", "carol"}, nil), Audit: st, Now: now})
	return &serviceHarness{t: t, st: st, disp: disp}
}

// run dispatches text as account ("" = anonymous) in #operations, or privately when private is set.
func (h *serviceHarness) run(account string, private bool, text string) *Buffer {
	nick := account
	if nick == "" {
		nick = "anon"
	}
	m := Message{Caller: Caller{Account: account, Nick: nick}, Text: text, Channel: "#operations"}
	if private {
		m.Channel = ""
	}
	buf := &Buffer{}
	h.disp.Dispatch(context.Background(), m, buf)
	return buf
}

// say runs text as alice (ops) in the channel and fails unless it answers exactly want.
func (h *serviceHarness) say(text string, want ...string) {
	h.t.Helper()
	h.expect("alice", text, want...)
}

// expect runs text as account in the channel; want is the reply lines, or one "error:"/"usage:" line.
func (h *serviceHarness) expect(account, text string, want ...string) {
	h.t.Helper()
	buf := h.run(account, false, text)
	got := append(append([]string(nil), buf.Lines...), buf.Errors...)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		h.t.Errorf("%s: !%s\n got: %q\nwant: %q", account, text, got, want)
	}
}

const zw = "\u200b"

func TestServiceCommandsScript(t *testing.T) {
	h := newServiceHarness(t, nil)
	h.say("service", "no services yet (ops: !service add <name>)")
	h.say("service add storage --owner carol --slo 99.95", "storage added: owner c"+zw+"arol; SLO 99.95%")
	h.say(`service add playlist --owner bob --depends storage --slo 99.9% --notes "Playlist API; runbook wiki/playlist"`,
		"playlist added: owner b"+zw+"ob; depends on storage; SLO 99.9%")
	h.say("service add search --depends=playlist", "search added: no owner; depends on playlist; no SLO")
	h.say("service add radio --depends playlist,cache", `error: no service "cache"`)
	h.say("service add radio --depends playlist,cache --create", "radio added: no owner; depends on cache, playlist; no SLO; created cache")
	h.say("service add web --depends search", "web added: no owner; depends on search; no SLO")
	h.say("service add mobile-api --depends search", "mobile-api added: no owner; depends on search; no SLO")

	// Reads, the contract's shape: nearest first, the path of deeper dependents.
	h.say("impact playlist", "if playlist fails: radio, search; then mobile-api, web (via search)")
	h.say("impact storage", "if storage fails: playlist; then radio, search (via playlist); then mobile-api, web (via playlist, search)")
	h.say("impact web", "if web fails: nothing depends on it")
	h.say("impact PLAYLIST", "if playlist fails: radio, search; then mobile-api, web (via search)")
	h.say("impact plalist", `error: no service "plalist", did you mean playlist?`)
	h.say("owner playlist", "playlist: owner b"+zw+"ob")
	h.say("owner search", "search: no owner (ops: !service set search --owner <account or team>)")
	h.say("owner serch", `error: no service "serch", did you mean search?`)
	h.say("service playlist", "playlist: owner b"+zw+"ob; depends on storage; depended on by radio, search; SLO 99.9%",
		"playlist notes: Playlist API; runbook wiki/playlist")
	h.say("service cache", "cache: no owner; depends on nothing; depended on by radio; no SLO")
	h.say("service", "7 services: cache, mobile-api, playlist, radio, search, storage, web (details: !service <name>)")
	h.say("service list", "7 services: cache, mobile-api, playlist, radio, search, storage, web (details: !service <name>)")
	h.say("service plylist", `error: no service "plylist", did you mean playlist?`)

	// Edits.
	h.say("service set playlist --owner dave --slo 99.95", "playlist updated: owner b"+zw+"ob -> d"+zw+"ave; SLO 99.9% -> 99.95%")
	h.say("service set playlist --owner none --notes none", "playlist updated: owner d"+zw+"ave -> none; notes cleared")
	h.say("service set playlist --notes \"new notes\"", "playlist updated: notes set")
	h.say("service set playlist --public true", "playlist updated: shown on the public status page")
	h.say("service set playlist --public maybe", "error: --public maybe: true or false")
	h.say("service set playlist --public false", "playlist updated: not on the public status page")
	h.say("service set nope --owner x", `error: no service "nope"`)
	h.say("service depend storage web", "storage now depends on web; warning: cycle: storage -> web -> search -> playlist -> storage")
	h.say("impact storage", "if storage fails: playlist; then radio, search (via playlist); then mobile-api, web (via playlist, search)",
		"cycle: storage -> web -> search -> playlist -> storage")
	h.say("service undepend storage web", "storage no longer depends on web")
	h.say("service undepend storage web", "error: storage does not depend on web")
	h.say("service depend search playlist", "search already depends on playlist")
	h.say("service depend search queue --create", "search now depends on queue (created queue, no owner yet)")
	h.say("service depend search queu", `error: no service "queu", did you mean queue?`)
	h.say("service depend playlist playlist", "error: a service cannot depend on itself")

	// Removal: refused while in use, forced with the detached services named.
	h.say("service remove playlist", "error: radio, search depend on playlist; remove those dependencies first or use !service remove playlist --force")
	h.say("service remove search", "error: mobile-api, web depend on search; remove those dependencies first or use !service remove search --force")
	h.say("service remove queue", "error: search depends on queue; remove those dependencies first or use !service remove queue --force")
	h.say("service remove playlist --force", "playlist removed; detached radio, search (they no longer depend on it)")
	h.say("service remove web", "web removed")
	h.say("impact storage", "if storage fails: nothing depends on it")
	h.say("service search", "search: no owner; depends on queue; depended on by mobile-api; no SLO")

	// Every write was audited.
	log, err := h.st.AuditLog(1)
	if err != nil || len(log) != 1 || log[0].Command != "service remove" || log[0].Result != "ok" {
		t.Errorf("audit log = %+v, %v; want the last service remove", log, err)
	}
}

func TestServiceCommandsBadInput(t *testing.T) {
	h := newServiceHarness(t, nil)
	h.say("service add storage", "storage added: no owner; no SLO")
	for _, tt := range []struct{ cmd, want string }{
		{"service add Playlist", `error: "Playlist" is not a service name: lowercase letters, digits, ".", "_" and "-", at most 64 (like playlist)`},
		{"service add " + strings.Repeat("a", 65), `error: "` + strings.Repeat("a", 65) + `" is not a service name: lowercase letters, digits, ".", "_" and "-", at most 64`},
		{"service add play/list", `error: "play/list" is not a service name: lowercase letters, digits, ".", "_" and "-", at most 64`},
		{"service add add", `error: "add" is a !service subcommand, so it cannot be a service name`},
		{"service add storage", "error: service storage already exists (change it with !service set)"},
		{`service add x --owner "a b"`, `error: owner "a b": an account or team name, without spaces or any of ,*?!@#:`},
		{"service add x --slo abc", "error: --slo abc: a percentage above 0 and below 100, like 99.9 (or none)"},
		{"service add x --slo 100", "error: --slo 100: a percentage above 0 and below 100, like 99.9 (or none)"},
		{"service add x --slo NaN", "error: --slo NaN: a percentage above 0 and below 100, like 99.9 (or none)"},
		{"service add x --notes " + strings.Repeat("n", 401), "error: notes too long (401 bytes, at most 400)"},
		{"service add x --depends storage,Bad --create", `error: "Bad" is not a service name: lowercase letters, digits, ".", "_" and "-", at most 64 (like bad)`},
		{"service add x --depends storage,x --create", "error: a service cannot depend on itself"},
		{"service add x --depends storage --depends y", `usage: !service add <name> [--owner X] [--schedule S] [--depends a,b] [--slo 99.9] [--notes "..."] [--public true] [--create]`},
		{"service add x --bogus", `usage: !service add <name> [--owner X] [--schedule S] [--depends a,b] [--slo 99.9] [--notes "..."] [--public true] [--create]`},
		{"service add", `usage: !service add <name> [--owner X] [--schedule S] [--depends a,b] [--slo 99.9] [--notes "..."] [--public true] [--create]`},
		{"service add x y", `usage: !service add <name> [--owner X] [--schedule S] [--depends a,b] [--slo 99.9] [--notes "..."] [--public true] [--create]`},
		{"service set storage", `usage: !service set <name> [--owner X] [--schedule S] [--slo N] [--notes "..."] [--public true|false]`},
		{"service set storage --depends x", `usage: !service set <name> [--owner X] [--schedule S] [--slo N] [--notes "..."] [--public true|false]`},
		{"service depend storage", "usage: !service depend <name> <other> [--create]"},
		{"service depend storage Bad --create", `error: "Bad" is not a service name: lowercase letters, digits, ".", "_" and "-", at most 64 (like bad)`},
		{"service undepend storage", "usage: !service undepend <name> <other>"},
		{"service remove", "usage: !service remove <name> [--force]"},
		{"service a b", "usage: !service [name]"},
		{"impact", "usage: !impact <service>"},
		{"owner a b", "usage: !owner <service>"},
		{"impact nothing-like-it", `error: no service "nothing-like-it"`},
		{"impact storage" + strings.Repeat("e", 100), `error: no service "` + chat.Truncate("storage"+strings.Repeat("e", 100), 70) + `"`},
	} {
		h.say(tt.cmd, tt.want)
	}
	if names, _ := h.st.ServiceNames(); strings.Join(names, " ") != "storage" {
		t.Errorf("bad input changed the catalogue: %v", names)
	}
}

func TestServiceCommandsRoles(t *testing.T) {
	h := newServiceHarness(t, nil)
	h.say("service add storage --owner carol", "storage added: owner c"+zw+"arol; no SLO")
	h.say("service add playlist --depends storage", "playlist added: no owner; depends on storage; no SLO")
	const login = "error: log in to NickServ first (this bot trusts accounts, not nicks)"
	for _, cmd := range []string{"service add x", "service set storage --owner bob", "service depend storage playlist",
		"service undepend playlist storage", "service remove playlist --force"} {
		name := "service " + strings.Fields(cmd)[1]
		h.expect("", cmd, login)
		h.expect("bob", cmd, fmt.Sprintf("error: !%s needs the ops role (you are a developer)", name))
	}
	// carol is ops (not admin) and may write.
	h.expect("carol", "service set storage --slo 99.9", "storage updated: SLO none -> 99.9%")
	// Anyone may read.
	for _, who := range []string{"", "bob"} {
		h.expect(who, "owner storage", "storage: owner c"+zw+"arol")
		h.expect(who, "impact storage", "if storage fails: playlist")
		h.expect(who, "service storage", "storage: owner c"+zw+"arol; depends on nothing; depended on by playlist; SLO 99.9%")
	}
	if names, _ := h.st.ServiceNames(); strings.Join(names, " ") != "playlist storage" {
		t.Errorf("refused writes changed the catalogue: %v", names)
	}
	if log, _ := h.st.AuditLog(20); len(log) < 10 {
		t.Errorf("audit log has %d entries, want the refused writes recorded too", len(log))
	}
}

func TestServiceImpactIsCappedInChannel(t *testing.T) {
	h := newServiceHarness(t, nil)
	h.say("service add core", "core added: no owner; no SLO")
	const n = 60
	for i := range n {
		name := fmt.Sprintf("frontend-service-%02d", i)
		h.say(fmt.Sprintf("service add %s --depends core", name), name+" added: no owner; depends on core; no SLO")
	}
	h.say("service add edge --depends frontend-service-07", "edge added: no owner; depends on frontend-service-07; no SLO")
	h.say("service depend core edge", "core now depends on edge; warning: cycle: core -> edge -> frontend-service-07 -> core")

	buf := h.run("bob", false, "impact core")
	if len(buf.Lines) != 4 {
		t.Fatalf("channel !impact gave %d lines, want 4 (bot.max_lines): %q", len(buf.Lines), buf.Lines)
	}
	shown := strings.Count(strings.Join(buf.Lines[:3], " "), "frontend-service-")
	want := fmt.Sprintf("... and %d more (ask in private)", n+1-shown)
	if !strings.HasSuffix(buf.Lines[2], want) {
		t.Errorf("line 3 = %q, want it to end with %q (%d of %d shown)", buf.Lines[2], want, shown, n+1)
	}
	if !strings.HasPrefix(buf.Lines[0], "if core fails: frontend-service-00, frontend-service-01") {
		t.Errorf("line 1 = %q", buf.Lines[0])
	}
	if buf.Lines[3] != "cycle: core -> edge -> frontend-service-07 -> core" {
		t.Errorf("cycle line = %q", buf.Lines[3])
	}
	for _, l := range buf.Lines {
		if len(l) > lineBytes {
			t.Errorf("line of %d bytes: %q", len(l), l)
		}
	}
	// In private everything is shown.
	buf = h.run("bob", true, "impact core")
	all := strings.Join(buf.Lines, " ")
	if c := strings.Count(all, "frontend-service-"); c != n+2 { // 60 names, and 07 again in "(via frontend-service-07)"
		t.Errorf("private !impact names %d frontend services, want %d: %q", c, n+2, buf.Lines)
	}
	if !strings.Contains(all, "; then edge (via frontend-service-07)") || strings.Contains(all, "more (ask in private)") {
		t.Errorf("private !impact = %q", buf.Lines)
	}
	// The listing is capped the same way, the rest counted.
	for i := range 40 {
		h.run("alice", false, fmt.Sprintf("service add zz-more-services-%02d", i))
	}
	buf = h.run("bob", false, "service")
	last := buf.Lines[len(buf.Lines)-1]
	shown = strings.Count(strings.Join(buf.Lines, " "), "-service")
	if len(buf.Lines) != 4 || !strings.HasPrefix(buf.Lines[0], "102 services: core, edge, frontend-service-00") ||
		!strings.HasSuffix(last, fmt.Sprintf("... and %d more (ask in private)", 102-2-shown)) {
		t.Errorf("channel !service (%d shown) = %q", shown, buf.Lines)
	}
	// A long list inside !service <name> is shortened in a channel, complete in private.
	buf = h.run("bob", false, "service core")
	if !strings.Contains(buf.Lines[0], "frontend-service-09 (+50 more)") {
		t.Errorf("channel !service core = %q", buf.Lines)
	}
	buf = h.run("bob", true, "service core")
	if !strings.Contains(strings.Join(buf.Lines, " "), "frontend-service-59") {
		t.Errorf("private !service core = %q", buf.Lines)
	}
}

type fakeIncidents map[string][]string

func (f fakeIncidents) OpenIncidents(service string) ([]string, error) { return f[service], nil }

type fakeDeploys map[string]string

func (f fakeDeploys) CurrentVersion(service, env string) (string, error) {
	if env != "prod" {
		return "", fmt.Errorf("asked for env %q", env)
	}
	return f[service], nil
}

func (f fakeDeploys) DeploysStartedBetween(string, time.Time, time.Time) ([]store.Deploy, error) {
	return nil, nil
}

func TestServiceShowWithIncidentsAndDeploys(t *testing.T) {
	h := newServiceHarness(t, func(d *testDeps) {
		d.Incidents = fakeIncidents{"playlist": {"INC-7 SEV2 investigating", "INC-9 SEV4 monitoring"}}
		d.Deploys = fakeDeploys{"playlist": "1.42"}
	})
	h.say("service add playlist --owner bob --slo 99.9", "playlist added: owner b"+zw+"ob; SLO 99.9%")
	h.say("service add storage", "storage added: no owner; no SLO")
	h.say("service playlist", "playlist: owner b"+zw+"ob; depends on nothing; nothing depends on it; open incidents: INC-7 SEV2 investigating, INC-9 SEV4 monitoring; prod version 1.42; SLO 99.9%")
	h.say("service storage", "storage: no owner; depends on nothing; nothing depends on it; no open incidents; no prod version yet; no SLO")
}

func TestServiceCatalogContract(t *testing.T) {
	h := newServiceHarness(t, nil)
	h.say("service add storage --owner carol", "storage added: owner c"+zw+"arol; no SLO")
	h.say("service add playlist --depends storage", "playlist added: no owner; depends on storage; no SLO")
	var cat Catalog = h.st
	if o, err := cat.ServiceOwner("storage"); err != nil || o != "carol" {
		t.Errorf("ServiceOwner(storage) = %q, %v", o, err)
	}
	if im, err := cat.ServiceImpact("storage"); err != nil || strings.Join(im, " ") != "playlist" {
		t.Errorf("ServiceImpact(storage) = %v, %v", im, err)
	}
	if names, err := cat.ServiceNames(); err != nil || strings.Join(names, " ") != "playlist storage" {
		t.Errorf("ServiceNames() = %v, %v", names, err)
	}
}
