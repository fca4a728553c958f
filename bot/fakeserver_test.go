package bot

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/store"
)

// fakeServer speaks just enough IRC over a net.Pipe to register the bot, for wire-level tests.
type fakeServer struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
	got  chan string
}

func newFakeServer(t *testing.T, o *Options) *fakeServer {
	srvConn, botConn := net.Pipe()
	fs := &fakeServer{t: t, conn: srvConn, r: bufio.NewReader(srvConn), got: make(chan string, 10000)}
	used := atomic.Bool{}
	o.dial = func(string, string) (net.Conn, error) {
		if used.Swap(true) {
			return nil, net.ErrClosed // one connection per test
		}
		return botConn, nil
	}
	go func() {
		defer close(fs.got)
		for {
			line, err := fs.r.ReadString('\n')
			if err != nil {
				return
			}
			fs.got <- strings.TrimRight(line, "\r\n")
		}
	}()
	t.Cleanup(func() { srvConn.Close() })
	return fs
}

func (fs *fakeServer) send(line string) {
	fs.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := fs.conn.Write([]byte(line + "\r\n")); err != nil {
		fs.t.Fatalf("fake server write %q: %v", line, err)
	}
}

// expect waits for a line from the bot starting with prefix, answering registration on the way.
func (fs *fakeServer) expect(prefix string, timeout time.Duration) string {
	fs.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-fs.got:
			if !ok {
				fs.t.Fatalf("bot closed the connection waiting for %q", prefix)
			}
			fs.answer(l)
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-deadline:
			fs.t.Fatalf("no %q from the bot within %v", prefix, timeout)
		}
	}
}

// answer plays the server's part of registration.
func (fs *fakeServer) answer(l string) {
	switch {
	case strings.HasPrefix(l, "CAP LS"):
		go fs.send(":irc.test CAP * LS :account-tag extended-join account-notify")
	case strings.HasPrefix(l, "CAP REQ"):
		go fs.send(":irc.test CAP * ACK :" + strings.SplitN(l, ":", 2)[1])
	case strings.HasPrefix(l, "CAP END"):
		go func() {
			fs.send(":irc.test 001 opsbot :Welcome")
			fs.send(":irc.test 005 opsbot CASEMAPPING=rfc1459 :are supported")
			fs.send(":irc.test 376 opsbot :End of MOTD")
		}()
	case strings.HasPrefix(l, "JOIN "):
		go fs.send(":opsbot!bot@host JOIN " + strings.TrimPrefix(l, "JOIN "))
	}
}

// blockingBot runs a bot on the fake server whose only command, !block, counts itself in started and blocks
// until release is called or the test ends.
func blockingBot(t *testing.T) (fs *fakeServer, b *Bot, started *atomic.Int32, release func()) {
	o := testOptions(t, "irc.test:6667")
	o.HTTPListen = ""
	fs = newFakeServer(t, &o)
	st := openTestStore(t)
	b, err := New(o, st)
	if err != nil {
		t.Fatal(err)
	}
	released := make(chan struct{})
	release = sync.OnceFunc(func() { close(released) })
	started = new(atomic.Int32)
	block := &commands.Command{Name: "block", Help: "Blocks.", MaxArgs: 0, Run: func(ctx context.Context, _ *commands.Call, w commands.Replier) error {
		started.Add(1)
		<-released
		return nil
	}}
	reg, err := commands.NewRegistry(block)
	if err != nil {
		t.Fatal(err)
	}
	b.disp = commands.NewDispatcher(reg, commands.DispatcherOptions{Prefix: "!"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() { release(); cancel(); <-done })
	fs.expect("JOIN #operations", 5*time.Second)
	return fs, b, started, release
}

func TestBlockedCommandsDoNotStopPong(t *testing.T) {
	fs, b, started, _ := blockingBot(t)
	// Far more blocking commands than workers and queue slots, each from a caller of its own (one caller's
	// commands run one at a time).
	for i := range 300 {
		fs.send(fmt.Sprintf("@account=user%d :user%d!a@h PRIVMSG #operations :!block", i, i))
	}
	deadline := time.Now().Add(5 * time.Second)
	for started.Load() < int32(b.o.Workers) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if started.Load() != int32(b.o.Workers) {
		t.Fatalf("%d commands running, want all %d workers busy", started.Load(), b.o.Workers)
	}
	// The event loop is free: a PING is answered at once although every worker is stuck.
	fs.send("PING :still-there")
	fs.expect("PONG", 2*time.Second)
	if v := testCounter(t, b.metrics.InboundDropped); v == 0 {
		t.Error("no command was dropped although the queue overflowed")
	}
}

// One caller flooding the bot holds one worker and at most maxWaitingPerCaller waiting commands; the rest are
// dropped (counted), and another caller is still served at once.
func TestOneCallerHoldsOneWorker(t *testing.T) {
	fs, b, started, _ := blockingBot(t)
	const flood = 40
	for range flood {
		fs.send("@account=mallory :mallory!a@h PRIVMSG #operations :!block")
	}
	fs.send("@account=alice :alice!a@h PRIVMSG #operations :!block")
	deadline := time.Now().Add(5 * time.Second)
	for started.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // a third command would start now
	if n := started.Load(); n != 2 {
		t.Fatalf("%d commands running, want 2: mallory's first and alice's", n)
	}
	if v := testCounter(t, b.metrics.InboundDropped); v != flood-1-maxWaitingPerCaller {
		t.Errorf("%v commands dropped, want %d (the flood beyond one running and %d waiting)", v, flood-1-maxWaitingPerCaller, maxWaitingPerCaller)
	}
}

// A message to the channel's operators ("@#operations", which the bot gets when it is op) is chat among
// ops, not a private command without prefix; a real private message still is one.
func TestStatusMsgIsNotAPrivateCommand(t *testing.T) {
	fs := joinedFakeServer(t)
	// The same caller's commands are answered in order: an answer to either of the first two comes first.
	fs.send("@account=carol :carol!u@h PRIVMSG @#operations :status")
	fs.send("@account=carol :carol!u@h PRIVMSG %#operations :status")
	fs.send("@account=carol :carol!u@h PRIVMSG opsbot :help")
	if reply := fs.expect("PRIVMSG carol :", 5*time.Second); !strings.HasPrefix(reply, "PRIVMSG carol :commands:") {
		t.Fatalf("first answer to carol: %q, want the answer to her private help (nothing for @#operations)", reply)
	}
}

// A PART the bot did not ask for (an op's REMOVE, an oper's SAPART) is rejoined like a kick.
func TestForcedPartIsRejoined(t *testing.T) {
	fs := joinedFakeServer(t)
	fs.send(":opsbot!bot@host PART #operations :Removed by carol: stop it")
	fs.expect("JOIN #operations", 5*time.Second)
}

// fakeServerBot runs a bot with the default commands (its options changed by tune, if given) on a fake
// server until the test ends.
func fakeServerBot(t *testing.T, tune func(*Options)) *fakeServer {
	fs, _, _ := fakeServerBotAndStore(t, tune)
	return fs
}

// fakeServerBotAndStore is fakeServerBot, with the bot and its store at hand.
func fakeServerBotAndStore(t *testing.T, tune func(*Options)) (*fakeServer, *Bot, *store.Store) {
	o := testOptions(t, "irc.test:6667")
	o.HTTPListen, o.Log = "", quietLog()
	if tune != nil {
		tune(&o)
	}
	fs := newFakeServer(t, &o)
	st := openTestStore(t)
	b, err := New(o, st)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return fs, b, st
}

// joinedFakeServer runs a bot with the default commands on a fake server until the test ends, and returns
// once the bot has joined #operations.
func joinedFakeServer(t *testing.T) *fakeServer {
	fs := fakeServerBot(t, nil)
	fs.expect("JOIN #operations", 5*time.Second)
	time.Sleep(100 * time.Millisecond) // the JOIN echo is handled
	return fs
}

// The group commit's hold (store.HoldCommits) asks whether commands handed to the pool are about to start. Not
// while every worker is busy: the queued commands wait for a worker, which may itself wait for the commit. And
// not once the pool is idle again, whatever was dropped, queued behind its caller or run: a count left over
// would hold every later commit for the hold's whole bound.
func TestCommitHoldSeesOnlyCommandsAboutToStart(t *testing.T) {
	fs, b, started, release := blockingBot(t)
	for i := range 300 { // more than the workers and the queue: some are dropped
		fs.send(fmt.Sprintf("@account=user%d :user%d!a@h PRIVMSG #operations :!block", i, i))
	}
	for range 5 { // queued behind their caller's command, not handed to the pool
		fs.send("@account=user0 :user0!a@h PRIVMSG #operations :!block")
	}
	deadline := time.Now().Add(5 * time.Second)
	for started.Load() < int32(b.o.Workers) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	fs.send("PING :read-all")
	fs.expect("PONG", 2*time.Second) // every !block line has been read
	if b.unstarted() {
		t.Errorf("every worker is busy, yet the hold is told that %d queued commands are about to start", b.handed.Load()-b.begun.Load())
	}
	release()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		handed, begun, idle := b.handed.Load(), b.begun.Load(), b.idle.Load()
		if handed == begun && idle == int64(b.o.Workers) && !b.unstarted() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the burst: %d handed, %d begun, %d of %d workers idle, about to start: %v", handed, begun, idle, b.o.Workers, b.unstarted())
		}
	}
}
