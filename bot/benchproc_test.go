package bot

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/irctest"
)

// botProcess is the opsbot binary running as its own process, as users run it.
type botProcess struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan error
	once   sync.Once
	err    error
}

// stop sends SIGTERM and waits for the process to exit (once; later calls return the first result).
func (p *botProcess) stop() error {
	p.once.Do(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case p.err = <-p.done:
		case <-time.After(20 * time.Second):
			p.cmd.Process.Kill()
			p.err = fmt.Errorf("the bot process did not stop within 20s")
		}
	})
	return p.err
}

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// buildOpsbot builds cmd/opsbot into dir (with the race detector off: the bot as shipped).
func buildOpsbot(t testing.TB, dir string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..")
	bin := filepath.Join(dir, "opsbot")
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "./cmd/opsbot")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startBotProcess runs bin with the config and stops it (SIGTERM) at cleanup; env adds to its environment.
func startBotProcess(t testing.TB, bin, config string, env ...string) *botProcess {
	t.Helper()
	path := filepath.Join(t.TempDir(), "opsbot.toml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &botProcess{stderr: &lockedBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(bin, "-config", path, "-log-level", "warn")
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.stderr, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if err := p.stop(); err != nil {
			t.Errorf("bot process: %v", err)
		}
		if t.Failed() {
			t.Logf("bot process output:\n%s", p.stderr.String())
		}
	})
	return p
}

// awaitAnswer has c send text to target until the bot answers (it may not have joined yet).
func awaitAnswer(t testing.TB, c *irctest.Client, target, text string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		c.Say(target, text)
		if _, ok := c.Wait(time.Second, irctest.From("opsbot")); ok {
			for { // drain late answers of earlier tries
				if _, more := c.Wait(200*time.Millisecond, irctest.From("opsbot")); !more {
					return
				}
			}
		}
	}
	t.Fatalf("%s: the bot did not answer %q in %s within 30s", c.Nick, text, target)
}

// TestBenchTable prints the table of `make bench`: the built opsbot binary runs as its own process on the
// test network, as users run it, and the test's plain IRC clients measure round trips: the floor (two plain
// clients echoing through the same server), a read (!oncall) in private and in a channel, and a write
// (!request open, committed before the answer), each sequentially and with 50 clients at once (each of the 50
// channel readers in a channel of its own, so that it can tell its answer from the others'); then the store
// alone (the same write straight to a store on the same disk), the floor of concurrent durable writes. Rows are
// measured in interleaved rounds (floor, read, write, floor, ...) so that every row samples the same moments
// of the machine. It runs only with OPSBOT_BENCH=1, and fails if a command is lost or answered twice.
func TestBenchTable(t *testing.T) {
	if os.Getenv("OPSBOT_BENCH") == "" {
		t.Skip("set OPSBOT_BENCH=1 (make bench) to run the benchmark table")
	}
	const rounds, seqPerRound, conc, perClientPerRound = 20, 50, 50, 2
	n := irctest.Start(t)
	dir := t.TempDir()
	bin := buildOpsbot(t, dir)

	// Floor: a round trip between two plain clients through the same server.
	a := irctest.Dial(t, n.Addr, "floora", irctest.Options{})
	echo := irctest.Dial(t, n.Addr, "flooreco", irctest.Options{})
	stopEcho := make(chan struct{})
	go func() { // echo every PRIVMSG back to its sender
		for {
			select {
			case <-stopEcho:
				return
			default:
			}
			if l, ok := echo.Wait(100*time.Millisecond, func(l irctest.Line) bool { return l.Msg.Command == "PRIVMSG" }); ok {
				echo.Say(l.Msg.Nick(), l.Text())
			}
		}
	}()
	defer close(stopEcho)
	floorClients := dialMany(t, n, "fc", conc, false)

	// The bot, its own process, with its outbound and per-person limits out of the way (this config only).
	channels := []string{`"#operations"`}
	for i := range conc {
		channels = append(channels, fmt.Sprintf(`"#bench%d"`, i))
	}
	storePath := filepath.Join(dir, "bench.db")
	proc := startBotProcess(t, bin, fmt.Sprintf(`
[irc]
server = %q
channels = [%s]
flood_burst = 100000
flood_interval = "0s"
[bot]
command_interval = "0s"
[store]
path = %q
[auth]
ops = ["alice"]
[http]
listen = ""
[oncall]
rotation = ["alice", "carol"]
`, n.Addr, strings.Join(channels, ", "), storePath))

	chanReader := irctest.Dial(t, n.Addr, "chanseq", irctest.Options{})
	chanReader.Join("#operations")
	// The readers are logged in, as a team's people are: replies to everyone not logged in share one turn and
	// one bound in the outbound queue (a flood defence), which 50 at once would exceed.
	chanReaders := dialMany(t, n, "cr", conc, true)
	for i, c := range chanReaders {
		c.Join(fmt.Sprintf("#bench%d", i))
	}
	privReaders := dialMany(t, n, "rc", conc, true)
	writer := dialMany(t, n, "wseq", 1, true)
	writers := dialMany(t, n, "wc", conc, true) // logged in: writes need an account
	awaitAnswer(t, a, "opsbot", "oncall")
	awaitAnswer(t, chanReader, "#operations", "!oncall")
	var wg sync.WaitGroup
	for i, c := range chanReaders {
		wg.Go(func() { awaitAnswer(t, c, fmt.Sprintf("#bench%d", i), "!oncall") })
	}
	wg.Wait()

	ping := func(int) string { return "ping" }
	oncall := func(int) string { return "oncall" }
	bang := func(int) string { return "!oncall" }
	var mu sync.Mutex
	opened := 0
	open := func(int) string {
		mu.Lock()
		defer mu.Unlock()
		opened++
		return fmt.Sprintf("request open benchmark request %d", opened)
	}
	bare := openBenchStore(t, filepath.Join(dir, "alone.db"))
	var floorSeq, floorConc, privSeq, privConc, chanSeq, chanConc, writeSeq, writeConc, aloneSeq, aloneConc series
	for range rounds {
		floorSeq.add(roundTrips(t, []*irctest.Client{a}, seqPerRound, "flooreco", ping, "flooreco"))
		privSeq.add(roundTrips(t, []*irctest.Client{a}, seqPerRound, "opsbot", oncall, "opsbot"))
		chanSeq.add(roundTrips(t, []*irctest.Client{chanReader}, seqPerRound, "#operations", bang, "opsbot"))
		writeSeq.add(roundTrips(t, writer, seqPerRound, "opsbot", open, "opsbot"))
		floorConc.add(roundTrips(t, floorClients, perClientPerRound, "flooreco", ping, "flooreco"))
		privConc.add(roundTrips(t, privReaders, perClientPerRound, "opsbot", oncall, "opsbot"))
		chanConc.add(roundTripsTo(t, chanReaders, perClientPerRound, func(i int) string { return fmt.Sprintf("#bench%d", i) }, bang, "opsbot"))
		writeConc.add(roundTrips(t, writers, perClientPerRound, "opsbot", open, "opsbot"))
		aloneSeq.add(storeWrites(t, bare, 1, seqPerRound))
		aloneConc.add(storeWrites(t, bare, conc, perClientPerRound))
	}
	if err := proc.stop(); err != nil { // stopped to count what it stored
		t.Fatal(err)
	}
	st := openBenchStore(t, storePath)
	if got, err := st.OpenRequests(""); err != nil || len(got) != rounds*(seqPerRound+conc*perClientPerRound) {
		t.Fatalf("%d requests stored (%v), want %d", len(got), err, rounds*(seqPerRound+conc*perClientPerRound))
	}

	fs, fc := floorSeq.stats(), floorConc.stats()
	rows := []benchRow{
		{"floor: plain client echo, sequential", fs, fs},
		{fmt.Sprintf("floor: plain client echo, %d clients", conc), fc, fc},
		{"read (!oncall) in private, sequential", privSeq.stats(), fs},
		{fmt.Sprintf("read (!oncall) in private, %d clients", conc), privConc.stats(), fc},
		{"read (!oncall) in a channel, sequential", chanSeq.stats(), fs},
		{fmt.Sprintf("read (!oncall) in channels, %d clients", conc), chanConc.stats(), fc},
		{"write (!request open), sequential", writeSeq.stats(), fs},
		{fmt.Sprintf("write (!request open), %d clients", conc), writeConc.stats(), fc},
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "\nopsbot as its own process (%s), %d rounds\n", runtime.Version(), rounds)
	fmt.Fprintf(&sb, "%-44s %10s %10s %12s %9s %9s\n", "case", "p50", "p99", "ops/s", "p50/floor", "p99/floor")
	for _, r := range rows {
		fmt.Fprintf(&sb, "%-44s %10s %10s %12.0f %8.2fx %8.2fx\n", r.name, r.s.p50.Round(time.Microsecond), r.s.p99.Round(time.Microsecond),
			r.s.throughput, float64(r.s.p50)/float64(r.floor.p50), float64(r.s.p99)/float64(r.floor.p99))
	}
	as, ac := aloneSeq.stats(), aloneConc.stats()
	fmt.Fprintf(&sb, "%-44s %10s %10s %12.0f\n", "store alone: the write, sequential", as.p50.Round(time.Microsecond), as.p99.Round(time.Microsecond), as.throughput)
	fmt.Fprintf(&sb, "%-44s %10s %10s %12.0f\n", fmt.Sprintf("store alone: the write, %d writers", conc), ac.p50.Round(time.Microsecond), ac.p99.Round(time.Microsecond), ac.throughput)
	// Every read row against its floor: the worst ratio of the four, and whether each is met.
	worst50, worst99 := 0.0, 0.0
	for _, r := range rows[2:6] {
		worst50 = max(worst50, float64(r.s.p50)/float64(r.floor.p50))
		worst99 = max(worst99, float64(r.s.p99)/float64(r.floor.p99))
	}
	target, w50 := fc.p50+ac.p50*3/2, writeConc.stats().p50
	met := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	fmt.Fprintf(&sb, "targets: reads p50 <= 2x floor (worst %.2fx: %s), p99 <= 3x (worst %.2fx: %s); %d-writer p50 <= floor + 1.5 x store alone = %s (%s: %s)\n",
		worst50, met(worst50 <= 2), worst99, met(worst99 <= 3), conc, target.Round(time.Microsecond), w50.Round(time.Microsecond), met(w50 <= target))
	fmt.Print(sb.String())
}

// roundTripsTo is roundTrips with a target per client (client i talks to target(i)). msg is called from
// every client's goroutine at once.
func roundTripsTo(t *testing.T, clients []*irctest.Client, n int, target func(int) string, msg func(int) string, replyFrom string) ([]time.Duration, time.Duration) {
	t.Helper()
	var mu sync.Mutex
	var all []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	var last time.Time
	for ci, c := range clients {
		wg.Go(func() {
			local := make([]time.Duration, 0, n)
			for i := range n {
				text := msg(i)
				t0 := time.Now()
				c.Say(target(ci), text)
				if _, ok := c.Wait(10*time.Second, irctest.From(replyFrom)); !ok {
					t.Errorf("%s: reply %d of %d from %s lost", c.Nick, i, n, replyFrom)
					return
				}
				local = append(local, time.Since(t0))
			}
			end := time.Now()
			if extra, ok := c.Wait(50*time.Millisecond, irctest.From(replyFrom)); ok {
				t.Errorf("%s: unexpected extra reply %q", c.Nick, extra.Text())
			}
			mu.Lock()
			all = append(all, local...)
			if end.After(last) {
				last = end
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return all, last.Sub(start)
}

// TestBenchSeparateProcesses cross-checks the table's read rows with clients that share nothing with Go's
// scheduler: plain single-threaded Python clients, each in its own process (testdata/rtt.py), measure the
// floor (one echoing the other) and the bot's !oncall in private and in the channel, sequentially, in
// rounds. It runs only with OPSBOT_BENCH=1, and needs python3.
func TestBenchSeparateProcesses(t *testing.T) {
	if os.Getenv("OPSBOT_BENCH") == "" {
		t.Skip("set OPSBOT_BENCH=1 (make bench) to run the benchmark table")
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed (make bench installs it)")
	}
	const rounds, perRound = 5, 1000
	n := irctest.Start(t)
	dir := t.TempDir()
	bin := buildOpsbot(t, dir)
	startBotProcess(t, bin, fmt.Sprintf(`
[irc]
server = %q
channels = ["#operations"]
flood_burst = 100000
flood_interval = "0s"
[bot]
command_interval = "0s"
[store]
path = %q
[http]
listen = ""
[oncall]
rotation = ["alice", "carol"]
`, n.Addr, filepath.Join(dir, "bench.db")))
	awaitAnswer(t, irctest.Dial(t, n.Addr, "warmup", irctest.Options{}), "opsbot", "oncall")

	script := filepath.Join("testdata", "rtt.py")
	echo := exec.Command(py, script, "echo", n.Addr, "pyecho")
	out, err := echo.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	echo.Stderr = os.Stderr
	if err := echo.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = echo.Process.Kill(); _ = echo.Wait() })
	if l, err := bufio.NewReader(out).ReadString('\n'); err != nil || l != "ready\n" {
		t.Fatalf("echo client: %q, %v", l, err)
	}
	got := map[string][2][]float64{} // case -> p50s, p99s of the rounds
	for i := range rounds {
		c := exec.Command(py, script, "client", n.Addr, fmt.Sprintf("pyclient%d", i), "pyecho", strconv.Itoa(perRound))
		c.Stderr = os.Stderr
		b, err := c.Output()
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var name string
			var p50, p99 float64
			if _, err := fmt.Sscanf(line, "%s %g %g", &name, &p50, &p99); err != nil {
				t.Fatalf("round %d: %q: %v", i, line, err)
			}
			r := got[name]
			r[0], r[1] = append(r[0], p50), append(r[1], p99)
			got[name] = r
		}
	}
	median := func(v []float64) float64 { v = slices.Clone(v); slices.Sort(v); return v[len(v)/2] }
	floor50, floor99 := median(got["floor"][0]), median(got["floor"][1])
	fmt.Printf("\nseparate processes (python3 clients), median of %d rounds of %d round trips\n", rounds, perRound)
	fmt.Printf("%-44s %9s %9s %9s %9s\n", "case", "p50", "p99", "p50/floor", "p99/floor")
	for _, row := range []struct{ name, key string }{{"floor: plain client echo", "floor"},
		{"read (!oncall) in private", "private"}, {"read (!oncall) in a channel", "channel"}} {
		p50, p99 := median(got[row.key][0]), median(got[row.key][1])
		fmt.Printf("%-44s %8.0fµs %8.0fµs %8.2fx %8.2fx\n", row.name, p50, p99, p50/floor50, p99/floor99)
	}
}
