package commands

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestOnCallCommands(t *testing.T) {
	h := newPagingHarness(t, nil)
	const ch = "#operations"
	tests := []struct {
		name, account, text string
		want                string
		notify              []pagingMsg
	}{
		{"who", "", "oncall", "on call: " + pgNick("alice") + " until Mon 10:00 CEST (in 4d20h), next: " + pgNick("carol"), nil},
		{"anonymous take", "", "oncall take", "error: log in to NickServ first (this bot trusts accounts, not nicks)", nil},
		{"developer take", "bob", "oncall take", "error: !oncall take needs the ops role (you are a developer)", nil},
		{"take above the cap", "carol", "oncall take 25h", "error: 1d1h is longer than oncall.max_override (1d)", nil},
		{"take a week", "carol", "oncall take 1w", "error: 7d is longer than oncall.max_override (1d)", nil},
		{"take bad duration", "carol", "oncall take soon", `error: bad duration "soon" (use 90s, 15m, 2h, 3d, 1w)`, nil},
		{"take zero", "carol", "oncall take 0s", `error: bad duration "0s" (use 90s, 15m, 2h, 3d, 1w)`, nil},
		{"take under a second", "carol", "oncall take 1ms", `error: bad duration "1ms" (use 90s, 15m, 2h, 3d, 1w)`, nil},
		{"take too many args", "carol", "oncall take 1h now", "usage: !oncall take [duration] [--schedule S]", nil},
		{"take default 1h", "carol", "oncall take", "on call: carol until 14:00 CET (in 1h, override by " + pgNick("carol") + "; rotation: " + pgNick("alice") + "), next: " + pgNick("alice"), nil},
		{"who with override", "dave", "oncall", "on call: " + pgNick("carol") + " until 14:00 CET (in 1h, override by " + pgNick("carol") + "; rotation: " + pgNick("alice") + "), next: " + pgNick("alice"), nil},
		{"override usage", "alice", "oncall override bob", "usage: !oncall override <account> <duration> [--schedule S]", nil},
		{"override bad account", "alice", "oncall override #ops 1h", `error: "#ops" is not an account name`, nil},
		{"override above the cap", "alice", "oncall override bob 2d", "error: 2d is longer than oncall.max_override (1d)", nil},
		{"override replaces take", "alice", "oncall override Bob 3h", "on call: bob until 16:00 CET (in 3h, override by " + pgNick("alice") + "; rotation: " + pgNick("alice") + "), next: " + pgNick("alice"),
			[]pagingMsg{pagingPriv("bob", "you are on call until 16:00 CET (override by "+pgNick("alice")+")", false)}},
		{"developer clear", "bob", "oncall clear", "error: !oncall clear needs the ops role (you are a developer)", nil},
		{"clear", "carol", "oncall clear", "on call: alice until Mon 10:00 CEST (in 4d20h, override of " + pgNick("bob") + " cleared by " + pgNick("carol") + "), next: " + pgNick("carol"), nil},
		{"clear again", "carol", "oncall clear", "error: no override is in force", nil},
		{"who after clear", "", "oncall", "on call: " + pgNick("alice") + " until Mon 10:00 CEST (in 4d20h), next: " + pgNick("carol"), nil},
		{"oncall names a schedule", "", "oncall now", `error: no schedule "now" (schedules: ops)`, nil},
		{"oncall ops", "", "oncall OPS", "on call: " + pgNick("alice") + " until Mon 10:00 CEST (in 4d20h), next: " + pgNick("carol"), nil},
		{"oncall takes one schedule", "", "oncall ops db", "usage: !oncall [schedule]", nil},
	}
	for _, tc := range tests {
		got := h.one(tc.account, ch, tc.text)
		if got != tc.want {
			t.Errorf("%s: %s: !%s = %q\n want %q", tc.name, tc.account, tc.text, got, tc.want)
		}
		h.expect(tc.notify...)
	}
	// The audit log has the writes, refused ones included.
	if n, _ := h.st.AuditLog(100); len(n) < 10 {
		t.Errorf("audit log has %d entries", len(n))
	}
}

func TestOnCallEmptyRotationAndContract(t *testing.T) {
	h := newPagingHarness(t, func(c *PagingConfig) { c.Rotation.Accounts = nil })
	if got := h.one("", "", "oncall"); got != "nobody is on call (oncall.rotation is empty); ops can !oncall take [duration]" {
		t.Errorf("!oncall with an empty rotation = %q", got)
	}
	if a, ok, err := h.deps.OnCall.OnCallAt(h.now); a != "" || ok || err != nil {
		t.Errorf("OnCallAt = %q %v %v, want nobody", a, ok, err)
	}
	h.one("alice", "", "oncall take 2h")
	if a, ok, err := h.deps.OnCall.OnCallAt(h.now.Add(time.Hour)); a != "alice" || !ok || err != nil {
		t.Errorf("OnCallAt during alice's override = %q %v %v", a, ok, err)
	}
	if got := h.one("", "", "oncall"); got != "on call: "+pgNick("alice")+" until 15:00 CET (in 2h, override by "+pgNick("alice")+"), then nobody" {
		t.Errorf("!oncall with only an override = %q", got)
	}
	// When the override ends, the handoff job says that nobody is on call.
	h.tick("oncall handoff")
	h.expect()
	h.now = h.now.Add(2 * time.Hour)
	h.tick("oncall handoff")
	h.expect(pagingAnn("on call: nobody from now (after "+pgNick("alice")+"); ops can !oncall take", false))
}

func TestOnCallHandoffAnnouncedOnce(t *testing.T) {
	h := newPagingHarness(t, nil)
	h.tick("oncall handoff") // first run: records silently
	h.expect()
	h.now = pagingTime("2026-03-30T07:59:59Z") // a second before Monday 10:00 CEST
	h.tick("oncall handoff")
	h.expect()
	h.now = pagingTime("2026-03-30T08:00:00Z")
	h.tick("oncall handoff")
	h.expect(pagingAnn("on call: carol takes over from "+pgNick("alice")+" until Mon 6 Apr 10:00 CEST (in 7d), next: "+pgNick("alice"), false),
		pagingPriv("carol", "handoff from "+pgNick("alice")+": nothing to hand over", false))
	h.tick("oncall handoff")
	h.restart()
	h.tick("oncall handoff")
	h.expect()
	// An override's end is a handoff too; its start is announced by the command.
	h.one("alice", "#operations", "oncall override dave 30m")
	h.expect(pagingPriv("dave", "you are on call until 10:30 CEST (override by "+pgNick("alice")+")", false))
	h.tick("oncall handoff")
	h.expect()
	h.now = h.now.Add(30 * time.Minute)
	h.tick("oncall handoff")
	h.expect(pagingAnn("on call: carol takes over from "+pgNick("dave")+" until Mon 6 Apr 10:00 CEST (in 6d23h), next: "+pgNick("alice"), false),
		pagingPriv("carol", "handoff from "+pgNick("dave")+": nothing to hand over", false))
}

// A handoff whose announcement could not be queued is announced at the next run, once.
func TestOnCallHandoffRetriedAfterAFailedAnnouncement(t *testing.T) {
	h := newPagingHarness(t, nil)
	h.tick("oncall handoff") // first run: records silently
	h.now = pagingTime("2026-03-30T08:00:00Z")
	h.ann.fail = 1
	if err := h.tickErr("oncall handoff"); err == nil {
		t.Fatal("the handoff job hid a failed announcement")
	}
	h.expect()
	h.tick("oncall handoff")
	h.expect(pagingAnn("on call: carol takes over from "+pgNick("alice")+" until Mon 6 Apr 10:00 CEST (in 7d), next: "+pgNick("alice"), false),
		pagingPriv("carol", "handoff from "+pgNick("alice")+": nothing to hand over", false))
	h.tick("oncall handoff")
	h.expect()
}

// An override's account is folded with the network's casemapping (rfc1459: [ is {), as every account is
// compared, not only lowercased.
func TestOverrideFoldsTheAccount(t *testing.T) {
	h := newPagingHarness(t, nil)
	if got := h.one("alice", "", "oncall override Dan[x] 3h"); !strings.HasPrefix(got, "on call: dan{x} until") {
		t.Errorf("!oncall override Dan[x] 3h = %q, want dan{x} on call", got)
	}
}

// GET /api/v1/oncall takes a schedule's name in any case, as !oncall, the web page and the calendar feed do.
func TestOnCallAPIFoldsTheScheduleName(t *testing.T) {
	h := newPagingHarness(t, nil)
	p := NewPaging(h.deps.runtime(), h.st, h.cfg, PagingLinks{})
	for q, want := range map[string]int{"": 200, "OPS": 200, "Ops": 200, "nope": 404} {
		w := httptest.NewRecorder()
		p.apiOnCall(w, httptest.NewRequest("GET", "/api/v1/oncall?schedule="+q, nil))
		if w.Code != want {
			t.Errorf("GET /api/v1/oncall?schedule=%s = %d %s, want %d", q, w.Code, strings.TrimSpace(w.Body.String()), want)
		}
	}
}
