package commands

import (
	"strings"
	"testing"
	"time"
)

// Each person is reminded once before their shift (oncall.remind_before), also across a restart, and told
// once when an override moves their next shift (that notice is the reminder again when it comes within the
// window); an override that only interrupts a shift already begun is not a move.
func TestShiftReminderAndMovedShift(t *testing.T) {
	h := newPagingHarness(t, nil)
	h.handoff = HandoffConfig{RemindBefore: 24 * time.Hour}
	h.restart()
	h.tick("oncall handoff") // first sight of everyone's next shift: recorded silently
	h.expect()
	h.now = pagingTime("2026-03-29T07:59:59Z") // a second before 24h before carol's Monday 10:00 CEST
	h.tick("oncall handoff")
	h.expect()
	h.now = pagingTime("2026-03-29T08:00:00Z")
	h.tick("oncall handoff")
	h.expect(pagingPriv("carol", "on call: reminder, you are on call from Mon 30 Mar 10:00 CEST (in 1d) until Mon 6 Apr 10:00 CEST, taking over from "+
		pgNick("alice")+" (!handoff shows what is open)", false))
	h.tick("oncall handoff")
	h.restart()
	h.tick("oncall handoff")
	h.expect()

	// dave covers from now until Monday 11:00 CEST: carol's shift starts an hour later, and she is told once,
	// with the old and new times.
	h.now = pagingTime("2026-03-29T09:00:00Z")
	h.must("alice", "", "oncall override dave 1d")
	h.expect(pagingPriv("dave", "you are on call until Mon 11:00 CEST (override by "+pgNick("alice")+")", false))
	h.tick("oncall handoff")
	h.expect(pagingPriv("carol", "on call: your next shift moved to Mon 30 Mar 11:00 CEST - Mon 6 Apr 10:00 CEST (was Mon 30 Mar 10:00 CEST - Mon 6 Apr 10:00 CEST); it starts in 1d", false))
	h.tick("oncall handoff")
	h.restart()
	h.tick("oncall handoff")
	h.expect()

	// At 11:00 she takes over (the handoff, nobody reminded again); an override that then keeps her off for
	// half an hour is not a moved shift.
	h.now = pagingTime("2026-03-30T09:00:00Z")
	h.tick("oncall handoff")
	if msgs := h.ann.take(); len(msgs) != 2 || !strings.HasPrefix(msgs[0].Text, "on call: carol takes over from "+pgNick("dave")) || msgs[1].To != "carol" {
		t.Fatalf("handoff = %+v", msgs)
	}
	h.must("alice", "", "oncall override bob 30m")
	h.ann.take()
	h.tick("oncall handoff")
	h.expect()
	h.now = h.now.Add(30 * time.Minute)
	h.tick("oncall handoff")
	if msgs := h.ann.take(); len(msgs) != 2 || !strings.HasPrefix(msgs[0].Text, "on call: carol takes over from "+pgNick("bob")) {
		t.Fatalf("end of bob's override = %+v", msgs)
	}
	// alice's next shift (6 April) is reminded once, a day before.
	h.now = pagingTime("2026-04-05T08:00:00Z")
	h.tick("oncall handoff")
	h.tick("oncall handoff")
	h.expect(pagingPriv("alice", "on call: reminder, you are on call from Mon 6 Apr 10:00 CEST (in 1d) until Mon 13 Apr 10:00 CEST, taking over from "+
		pgNick("carol")+" (!handoff shows what is open)", false))
}

// A rotation changed in the config moves people's next shifts: each is told once; without remind_before
// nobody is reminded. A notice whose outbox write fails is sent at the next run, once.
func TestRotationChangeTellsMovedShifts(t *testing.T) {
	h := newPagingHarness(t, func(c *PagingConfig) { c.Rotation.Accounts = []string{"alice", "carol", "bob"} })
	h.tick("oncall handoff")
	h.expect()
	h.cfg.Rotation.Accounts = []string{"carol", "alice", "bob"} // the config after a restart: bob still on call, alice and carol swap
	h.restart()
	h.ann.fail = 1
	if err := h.tickErr("oncall handoff"); err == nil {
		t.Fatal("a failed outbox write was not reported")
	}
	h.tick("oncall handoff")
	msgs := h.ann.take()
	var got []string
	for _, m := range msgs {
		got = append(got, m.To+": "+m.Text)
	}
	if len(msgs) != 2 || got[0] != "carol: on call: your next shift moved to Mon 30 Mar 10:00 CEST - Mon 6 Apr 10:00 CEST (was Mon 6 Apr 10:00 CEST - Mon 13 Apr 10:00 CEST)" ||
		got[1] != "alice: on call: your next shift moved to Mon 6 Apr 10:00 CEST - Mon 13 Apr 10:00 CEST (was Mon 30 Mar 10:00 CEST - Mon 6 Apr 10:00 CEST)" {
		t.Fatalf("after the rotation changed: %q", got)
	}
	h.tick("oncall handoff")
	h.restart()
	h.tick("oncall handoff")
	h.expect()
}

// A schedule in New York hands over at 10:00 local time across both of its DST changes; its lines say which
// schedule they are about.
func TestScheduleHandoffAcrossDSTInNewYork(t *testing.T) {
	ny := mustLocation(t, "America/New_York")
	h := newPagingHarness(t, func(c *PagingConfig) {
		c.Rotation.Accounts = []string{"alice"} // ops never hands over
		c.Schedules = []Schedule{{Rotation: rotationNY(ny, "dave", "erin")}}
	})
	for _, tc := range []struct{ before, at, who, until string }{
		// Spring forward on Sunday 8 March 2026: Monday 10:00 EDT is 14:00 UTC, an hour earlier than the week before.
		{"2026-03-04T12:00:00Z", "2026-03-09T14:00:00Z", "dave", "Mon 16 Mar 15:00 CET"},
		// Fall back on Sunday 1 November 2026: Monday 10:00 EST is 15:00 UTC.
		{"2026-10-28T12:00:00Z", "2026-11-02T15:00:00Z", "dave", "Mon 9 Nov 16:00 CET"},
	} {
		h.now = pagingTime(tc.before)
		h.tick("oncall handoff")
		h.ann.take()
		h.now = pagingTime(tc.at).Add(-time.Second)
		h.tick("oncall handoff")
		h.expect()
		h.now = pagingTime(tc.at)
		h.tick("oncall handoff")
		msgs := h.ann.take()
		if len(msgs) != 2 || !strings.HasPrefix(msgs[0].Text, "on call (db): "+tc.who+" takes over from ") || !strings.Contains(msgs[0].Text, "until "+tc.until) ||
			msgs[1].To != tc.who || !strings.HasPrefix(msgs[1].Text, "handoff (db) from ") {
			t.Errorf("%s: handoff = %+v", tc.at, msgs)
		}
	}
}
