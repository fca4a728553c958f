package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/irctest"
	"github.com/opsbot/opsbot/store"
)

// crashKills is how many times the crash test SIGKILLs the bot after it has joined (it also kills it a few
// times while it is still starting).
const crashKills = 20

// TestCrashSafety runs the real binary on a real network while four logged-in clients send write commands
// with unique payloads (!request open in the channel, !deploy start in private), and SIGKILLs the bot at
// random points, restarting it at once on the same store file. At the end every command the bot acknowledged
// on IRC must be in the store under the id it was acknowledged with, no payload may be stored twice, the
// store must pass its integrity check, and every acknowledged deploy must have been announced in the channel
// (its announcement goes through the durable outbox, so it survives the kills).
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: starts a network and kills the bot 20 times")
	}
	n := irctest.Start(t)
	dir := t.TempDir()
	bin := buildOpsbot(t, dir)
	dbPath := filepath.Join(dir, "opsbot.db")
	cfgPath := filepath.Join(dir, "opsbot.toml")
	cfg := fmt.Sprintf(`[irc]
server = %q
channels = ["#operations"]
flood_burst = 1000
flood_interval = "0s"
dial_timeout = "5s"

[bot]
command_burst = 1000
command_interval = "1ms"

[store]
path = %q

[auth]
admins = ["alice"]
ops = ["alice", "carol"]

[http]
listen = ""
`, n.Addr, dbPath)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	rec := newAckRecorder()
	watcher := irctest.Dial(t, n.Addr, "watcher", irctest.Options{})
	watcher.Join("#operations")
	const nClients = 4
	clients := make([]*irctest.Client, nClients)
	for i := range clients {
		clients[i] = irctest.Dial(t, n.Addr, fmt.Sprintf("crash%d", i), irctest.Options{})
		clients[i].Register("pw-crash")
		clients[i].Join("#operations")
	}
	ctx, stopPumps := context.WithCancel(context.Background())
	var pumps sync.WaitGroup
	pump := func(c *irctest.Client, handle func(irctest.Line)) {
		pumps.Go(func() {
			for ctx.Err() == nil {
				if l, ok := c.Wait(50*time.Millisecond, func(irctest.Line) bool { return true }); ok {
					handle(l)
				}
			}
		})
	}
	pump(watcher, rec.channelLine)
	for _, c := range clients {
		pump(c, func(l irctest.Line) { rec.privateLine(c.Nick, l) })
	}
	defer func() { stopPumps(); pumps.Wait() }()

	// The senders: unique payloads, never resent.
	sendCtx, stopSending := context.WithCancel(context.Background())
	var senders sync.WaitGroup
	for i, c := range clients {
		senders.Go(func() {
			for k := 1; sendCtx.Err() == nil; k++ {
				if k%3 == 0 {
					c.Say("opsbot", fmt.Sprintf("deploy start svc-%d-%d 1.%d", i, k, k))
				} else {
					c.Say("#operations", fmt.Sprintf("!request open crash-%d-%d", i, k))
				}
				rec.sent()
				time.Sleep(time.Duration(10+rand.N(30)) * time.Millisecond)
			}
		})
	}
	defer func() { stopSending(); senders.Wait() }()

	start := time.Now()
	logs := filepath.Join(dir, "bot.log")
	run := func() *exec.Cmd {
		t.Helper()
		f, err := os.OpenFile(logs, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd := exec.Command(bin, "-config", cfgPath, "-log-level", "info")
		cmd.Stdout, cmd.Stderr = f, f
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	kill := func(cmd *exec.Cmd) {
		t.Helper()
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
	}
	dumpLogs := func() {
		raw, _ := os.ReadFile(logs)
		if len(raw) > 8000 {
			raw = raw[len(raw)-8000:]
		}
		t.Logf("bot log (tail):\n%s", raw)
	}

	kills, startupKills := 0, 0
	for kills < crashKills {
		joins := rec.joinCount()
		cmd := run()
		if kills%5 == 4 && startupKills < kills/5 {
			// Now and then a kill while the bot is still starting (opening the store, loading the outbox, registering).
			time.Sleep(time.Duration(rand.N(300)) * time.Millisecond)
			kill(cmd)
			startupKills++
			continue
		}
		if !rec.waitJoin(joins, 15*time.Second) {
			kill(cmd)
			dumpLogs()
			t.Fatalf("run %d: the bot did not join #operations within 15s", kills+startupKills+1)
		}
		time.Sleep(time.Duration(50+rand.N(750)) * time.Millisecond)
		kill(cmd)
		kills++
	}

	// The last run: stop sending, let the outbox drain, then stop the bot properly.
	joins := rec.joinCount()
	cmd := run()
	if !rec.waitJoin(joins, 15*time.Second) {
		kill(cmd)
		dumpLogs()
		t.Fatal("last run: the bot did not join #operations within 15s")
	}
	time.Sleep(300 * time.Millisecond)
	stopSending()
	senders.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for len(rec.unannounced()) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // replies to the last commands
	_ = cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			dumpLogs()
			t.Errorf("last run: the bot exited with %v after SIGTERM", err)
		}
	case <-time.After(15 * time.Second):
		kill(cmd)
		dumpLogs()
		t.Fatal("last run: the bot did not exit within 15s of SIGTERM")
	}
	stopPumps()
	pumps.Wait()
	elapsed := time.Since(start)

	st, err := store.Open(dbPath, store.Options{ReadOnly: true}) // runs tx.Check: fails on corruption
	if err != nil {
		t.Fatalf("store after %d kills: %v", kills, err)
	}
	defer st.Close()
	rec.verify(t, st)
	if t.Failed() {
		dumpLogs()
	}
	t.Logf("%d kills after join, %d during start-up, in %v; %d commands sent; acknowledged and found in the store: "+
		"%d requests, %d deploys; stored without an acknowledgement seen: %d; stored but not audited: %d "+
		"(acknowledged: %d); deploy announcements delivered twice: %d",
		kills, startupKills, elapsed.Round(time.Millisecond), rec.nSent, len(rec.requests), len(rec.deploys),
		rec.unacked, rec.unaudited, rec.ackedUnaudited, rec.dupAnnouncements())
}

// buildOpsbot builds the binary once into dir.
func buildOpsbot(t *testing.T, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(dir, "opsbot")
	cmd := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

var (
	reqAck    = regexp.MustCompile(`^(R-\d+) opened by (\S+): (crash-\d+-\d+) \[todo\]`)
	deployAck = regexp.MustCompile(`(D-\d+) (svc-\d+-\d+) (1\.\d+) started by `)
	isBot     = regexp.MustCompile(`^opsbot_*$`)
)

// ackRecorder collects what the bot acknowledged, as seen by the clients.
type ackRecorder struct {
	mu             sync.Mutex
	joins          int
	joined         chan struct{}     // closed and replaced on every join of the bot
	requests       map[string]string // payload -> id
	deploys        map[string]string // service -> "id version"
	announced      map[string]int    // deploy id -> times announced in the channel
	problems       []string
	nSent          int
	unacked        int
	unaudited      int
	ackedUnaudited int // acknowledged, but the kill came before the audit writer's next group commit
}

func newAckRecorder() *ackRecorder {
	return &ackRecorder{joined: make(chan struct{}), requests: map[string]string{}, deploys: map[string]string{}, announced: map[string]int{}}
}

func (r *ackRecorder) sent() {
	r.mu.Lock()
	r.nSent++
	r.mu.Unlock()
}

func (r *ackRecorder) joinCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.joins
}

// waitJoin waits until the bot has joined more often than after joins.
func (r *ackRecorder) waitJoin(joins int, d time.Duration) bool {
	deadline := time.After(d)
	for {
		r.mu.Lock()
		n, ch := r.joins, r.joined
		r.mu.Unlock()
		if n > joins {
			return true
		}
		select {
		case <-ch:
		case <-deadline:
			return false
		}
	}
}

// channelLine handles a line the watcher saw: the bot's joins, request acknowledgements and deploy
// announcements.
func (r *ackRecorder) channelLine(l irctest.Line) {
	if !isBot.MatchString(l.Msg.Nick()) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch l.Msg.Command {
	case "JOIN":
		r.joins++
		close(r.joined)
		r.joined = make(chan struct{})
	case "PRIVMSG", "NOTICE":
		text := l.Text()
		if strings.Contains(text, "error") {
			r.problems = append(r.problems, "in the channel: "+text)
		}
		if m := reqAck.FindStringSubmatch(text); m != nil {
			if prev, dup := r.requests[m[3]]; dup && prev != m[1] {
				r.problems = append(r.problems, fmt.Sprintf("%s acknowledged twice: as %s and %s", m[3], prev, m[1]))
			}
			r.requests[m[3]] = m[1]
		}
		if m := deployAck.FindStringSubmatch(text); m != nil {
			r.announced[m[1]]++
		}
	}
}

// privateLine handles a line a sender saw: deploy acknowledgements in private.
func (r *ackRecorder) privateLine(nick string, l irctest.Line) {
	if !isBot.MatchString(l.Msg.Nick()) || l.Msg.Command != "PRIVMSG" || len(l.Msg.Params) < 2 || !strings.EqualFold(l.Msg.Params[0], nick) {
		return
	}
	text := l.Text()
	r.mu.Lock()
	defer r.mu.Unlock()
	if strings.Contains(text, "error") {
		r.problems = append(r.problems, "to "+nick+": "+text)
	}
	if m := deployAck.FindStringSubmatch(text); m != nil {
		if prev, dup := r.deploys[m[2]]; dup && prev != m[1]+" "+m[3] {
			r.problems = append(r.problems, fmt.Sprintf("%s acknowledged twice: as %s and %s", m[2], prev, m[1]))
		}
		r.deploys[m[2]] = m[1] + " " + m[3]
	}
}

// unannounced lists the acknowledged deploys not yet seen in the channel.
func (r *ackRecorder) unannounced() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for svc, idv := range r.deploys {
		id, _, _ := strings.Cut(idv, " ")
		if r.announced[id] == 0 {
			out = append(out, id+" "+svc)
		}
	}
	return out
}

func (r *ackRecorder) dupAnnouncements() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.announced {
		if c > 1 {
			n++
		}
	}
	return n
}

// verify checks the store against what was acknowledged.
func (r *ackRecorder) verify(t *testing.T, st *store.Store) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.problems {
		t.Errorf("bad reply: %s", p)
	}
	if len(r.requests) < 50 || len(r.deploys) < 20 {
		t.Errorf("only %d requests and %d deploys acknowledged: too few to show anything", len(r.requests), len(r.deploys))
	}

	// Requests: every payload at most once, every acknowledged one under its id.
	stored := map[string]string{} // payload -> id
	for page := 1; ; page++ {
		reqs, _, err := st.RequestsPage(page, 500)
		if err != nil {
			t.Fatal(err)
		}
		if len(reqs) == 0 {
			break
		}
		for _, q := range reqs {
			storeOnce(t, stored, q.Text, fmt.Sprintf("R-%d", q.ID))
		}
	}
	checkAcked(t, r.requests, stored)

	// Deploys: every service (unique per command) at most once, every acknowledged one under its id.
	deploys, err := st.DeploysSince(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	storedDeploys := map[string]string{} // service -> "id version"
	for _, d := range deploys {
		storeOnce(t, storedDeploys, d.Service, fmt.Sprintf("D-%d %s", d.ID, d.Version))
	}
	checkAcked(t, r.deploys, storedDeploys)
	for svc, idv := range r.deploys {
		id, _, _ := strings.Cut(idv, " ")
		if r.announced[id] == 0 {
			t.Errorf("%s %s was acknowledged but never announced in the channel", idv, svc)
		}
	}
	r.unacked = len(stored) - len(r.requests) + len(storedDeploys) - len(r.deploys)

	// The audit log is committed in groups off the reply path (store.AuditLater): a kill loses the entries
	// of the last moment (at most 10 ms), never a command's own record. So: no audit entry without its
	// stored record, none twice, and the acknowledged-but-unaudited commands are counted.
	entries, err := st.AuditLog(1 << 30)
	if err != nil {
		t.Fatal(err)
	}
	audited := map[string]bool{}
	for _, e := range entries {
		if p := payloadRe.FindString(e.Args); p != "" && e.Result == "ok" {
			if audited[p] {
				t.Errorf("%s audited twice", p)
			}
			audited[p] = true
			if _, ok := stored[p]; !ok {
				if _, ok := storedDeploys[p]; !ok {
					t.Errorf("audit entry for %s, which is not in the store", p)
				}
			}
		}
	}
	for _, acked := range []map[string]string{r.requests, r.deploys} {
		for p := range acked {
			if !audited[p] {
				r.ackedUnaudited++
			}
		}
	}
	for _, all := range []map[string]string{stored, storedDeploys} {
		for p := range all {
			if !audited[p] {
				r.unaudited++
			}
		}
	}
}

var payloadRe = regexp.MustCompile(`(crash|svc)-\d+-\d+`)

// storeOnce records what the store holds under a unique payload, and fails if it holds it twice.
func storeOnce(t *testing.T, stored map[string]string, payload, id string) {
	t.Helper()
	if prev, dup := stored[payload]; dup {
		t.Errorf("%q stored twice: %s and %s", payload, prev, id)
	}
	stored[payload] = id
}

// checkAcked fails for every acknowledged payload the store lacks or holds under another id.
func checkAcked(t *testing.T, acked, stored map[string]string) {
	t.Helper()
	for payload, id := range acked {
		if got, ok := stored[payload]; !ok {
			t.Errorf("%s %q was acknowledged but is not in the store", id, payload)
		} else if got != id {
			t.Errorf("%q was acknowledged as %s but is stored as %s", payload, id, got)
		}
	}
}
