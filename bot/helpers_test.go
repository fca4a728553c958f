package bot

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/irctest"
	"github.com/opsbot/opsbot/commands/web"
	"github.com/opsbot/opsbot/store"
)

// testLog sends the bot's log to the test's log.
func testLog(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// quietLog discards the bot's log (benchmarks).
func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// runningBot is a bot started for a test.
type runningBot struct {
	*Bot
	Store  *store.Store
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// testOptions are options for a bot on addr with fast timings.
func testOptions(t testing.TB, addr string) Options {
	return Options{
		Server: addr, Nick: "opsbot", Channels: []string{"#operations"},
		FloodBurst: 50, FloodInterval: time.Millisecond, RequireAccount: true,
		Admins: []string{"alice"}, Ops: []string{"alice", "carol"},
		BackoffMin: 100 * time.Millisecond, BackoffMax: 500 * time.Millisecond, RejoinDelay: 200 * time.Millisecond,
		HTTPListen: "127.0.0.1:0", Version: "test", Log: testLog(t),
		FamilyConfig: FamilyConfig{Web: web.Config{TrustLoopback: true}}, // the default: the API answers local requests
	}
}

// startBot opens a store in t.TempDir() and runs a bot until the test ends.
func startBot(t testing.TB, o Options) *runningBot {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "opsbot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return startBotOn(t, o, st)
}

// botOn starts a bot on the database at path and waits until it is in the channel.
func botOn(t *testing.T, path string, o Options) *runningBot {
	t.Helper()
	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rb := startBotOn(t, o, st)
	rb.waitJoined(t, "#operations")
	return rb
}

// stopBot stops a bot started by botOn and closes its store, for a restart over the same file.
func stopBot(t *testing.T, rb *runningBot) {
	t.Helper()
	rb.stop(t)
	rb.Store.Close()
}

func startBotOn(t testing.TB, o Options, st *store.Store) *runningBot {
	t.Helper()
	b, err := New(o, st)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rb := &runningBot{Bot: b, Store: st, cancel: cancel, done: make(chan error, 1)}
	go func() { rb.done <- b.Run(ctx) }()
	t.Cleanup(func() {
		rb.stop(t)
		st.Close()
	})
	return rb
}

// stop shuts the bot down and fails the test if that takes more than 10s.
func (rb *runningBot) stop(t testing.TB) {
	rb.once.Do(func() {
		rb.cancel()
		select {
		case <-rb.done:
		case <-time.After(10 * time.Second):
			t.Error("bot did not stop within 10s")
		}
	})
}

// waitJoined waits until the bot has joined channel.
func (rb *runningBot) waitJoined(t testing.TB, channel string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if rb.t.canSend(channel) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("bot did not join %s within 15s", channel)
}

// joinedClient connects a client, optionally registers an account, and joins #operations.
func joinedClient(t testing.TB, n *irctest.Network, nick string, register bool) *irctest.Client {
	t.Helper()
	c := irctest.Dial(t, n.Addr, nick, irctest.Options{})
	if register {
		c.Register("pw-" + nick)
	}
	c.Join("#operations")
	return c
}

// gate is a TCP proxy to a backend that can refuse connections, so a test decides when the bot may
// (re)connect.
type gate struct {
	ln      net.Listener
	backend string
	mu      sync.Mutex
	open    bool
	conns   []net.Conn
}

func newGate(t testing.TB, backend string) *gate {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{ln: ln, backend: backend, open: true}
	go g.serve()
	t.Cleanup(func() { ln.Close(); g.closeAll() })
	return g
}

func (g *gate) Addr() string { return g.ln.Addr().String() }

func (g *gate) setOpen(open bool) {
	g.mu.Lock()
	g.open = open
	g.mu.Unlock()
}

func (g *gate) closeAll() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.conns {
		c.Close()
	}
	g.conns = nil
}

func (g *gate) serve() {
	for {
		c, err := g.ln.Accept()
		if err != nil {
			return
		}
		g.mu.Lock()
		open := g.open
		g.mu.Unlock()
		if !open {
			c.Close()
			continue
		}
		b, err := net.Dial("tcp", g.backend)
		if err != nil {
			c.Close()
			continue
		}
		g.mu.Lock()
		g.conns = append(g.conns, c, b)
		g.mu.Unlock()
		go func() { io.Copy(b, c); b.Close() }()
		go func() { io.Copy(c, b); c.Close() }()
	}
}

// openTestStore opens a store in t.TempDir(), closed at cleanup.
func openTestStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "opsbot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// httpGetWith fetches url with the given headers ("Host" sets the request's Host) and returns the status
// and body.
func httpGetWith(t *testing.T, url string, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// httpGet fetches url and returns the status and body.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	return httpGetWith(t, url, nil)
}

// outboxLen is the number of undelivered messages in st, or -1 when the store cannot be read (which no test
// expects).
func outboxLen(st *store.Store) int {
	n, err := st.OutboxCount()
	if err != nil {
		return -1
	}
	return n
}
