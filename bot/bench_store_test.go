package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/irctest"
	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/commands/web"
	"github.com/opsbot/opsbot/store"
	"github.com/opsbot/opsbot/store/seed"
)

// TestStoreBenchTable prints the table of `make bench SIZES=1,5,10` (README, "Benchmarks"): every chat
// command and HTTP read through the bot's own dispatcher and routes, on stores seeded through the public API
// with 1, 5 and 10 years of a busy team (store/seed), and per size the file's size, a backup's time, the
// start (store open and the bot built over it, cold and warm page cache, in a process of its own) and the
// resident memory after start and one of each command. It runs only with OPSBOT_BENCH_SIZES set (years,
// comma-separated). Seeded files are kept in OPSBOT_BENCH_CACHE (default /var/tmp/opsbot-bench); seeding
// runs on /dev/shm when there is one (10 years take about 6 minutes), measuring on a copy in the test's
// temporary directory.
func TestStoreBenchTable(t *testing.T) {
	sizes := benchSizes(t)
	// The built binary on a real network, for the start a user waits for: from exec to the bot in the channel.
	net := irctest.Start(t)
	bin := buildOpsbot(t, t.TempDir())
	var results []*sizeResult
	for _, years := range sizes {
		r := benchSize(t, years)
		dropFileCache(t, r.path)
		r.joined, r.joinedRSS = startToJoined(t, bin, net, r.path)
		results = append(results, r)
	}
	printBenchTable(results)
}

func benchSizes(t *testing.T) []float64 {
	env := os.Getenv("OPSBOT_BENCH_SIZES")
	if env == "" {
		t.Skip("set OPSBOT_BENCH_SIZES=1,5,10 (make bench SIZES=1,5,10) to run the store table")
	}
	var out []float64
	for _, f := range strings.Split(env, ",") {
		y, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || y <= 0 {
			t.Fatalf("OPSBOT_BENCH_SIZES: %q is not a number of years", f)
		}
		out = append(out, y)
	}
	return out
}

// seedVersion changes whenever the generator or the store's layout changes what a seeded file holds.
// Version 2 runs the bot's housekeeping jobs daily (retention, auto-resolve), as a bot would.
const seedVersion = 2

// seededFile returns a copy, in a temporary directory, of a store holding years of history, seeding (and
// caching) it first when needed.
func seededFile(t *testing.T, years float64) (string, time.Duration) {
	cache := os.Getenv("OPSBOT_BENCH_CACHE")
	if cache == "" {
		cache = "/var/tmp/opsbot-bench"
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("seed-v%d-schema%d-%gy.db", seedVersion, store.SchemaVersionCurrent, years)
	cached := filepath.Join(cache, name)
	var seeding time.Duration
	if _, err := os.Stat(cached); err != nil {
		dir := cache
		if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
			dir = "/dev/shm"
		}
		tmp := filepath.Join(dir, name+".seeding")
		os.Remove(tmp)
		st, err := store.Open(tmp, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		last := time.Now()
		n, err := seed.Run(st, seed.Config{Years: years, Seed: 1, Jobs: seed.DefaultJobs, Progress: func(done float64) {
			if time.Since(last) > 30*time.Second {
				last = time.Now()
				t.Logf("seeding %g years: %.0f%% after %v", years, 100*done, time.Since(start).Round(time.Second))
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		seeding = time.Since(start)
		t.Logf("seeded %g years in %v: %+v", years, seeding.Round(time.Second), n)
		copyFile(t, tmp, cached+".tmp")
		os.Remove(tmp)
		if err := os.Rename(cached+".tmp", cached); err != nil {
			t.Fatal(err)
		}
	}
	work := filepath.Join(t.TempDir(), "opsbot.db")
	copyFile(t, cached, work)
	return work, seeding
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// sizeResult is one column of the table.
type sizeResult struct {
	years               float64
	seeding             time.Duration
	fileSize            int64
	backup              time.Duration
	cold, warm          startResult
	path                string                   // the copy the rows ran on
	joined              time.Duration            // the built binary, cold: exec to its JOIN seen in #operations
	joinedRSS           int64                    // kB, the binary's resident memory once joined
	rows                map[string]time.Duration // p50 per row
	max                 map[string]time.Duration // slowest run per row
	order               []string
	integrity, checkDur string
}

// startResult is what a fresh process measured: the store's open, the bot built over it, resident memory
// after start and after one of each command, and the close.
type startResult struct {
	Open, Ready, Close           time.Duration
	RSSStart, RSSAfter, RSSCheck int64 // kB: after start, after one of each command, after the integrity check
	HWMBeforeCheck, HWM          int64 // kB, peak before the integrity check ran, and at the end
	Integrity, CheckTime         string
	CloseDuringCheck             time.Duration // a Close 100 ms into the background check (0: none ran)
}

// benchRun is one row: a command (or HTTP request) run reps times.
type benchRun struct {
	name  string
	reps  int
	setup func() error // before the timed runs, if set
	run   func(i int) error
}

func benchSize(t *testing.T, years float64) *sizeResult {
	path, seeding := seededFile(t, years)
	res := &sizeResult{years: years, path: path, seeding: seeding, rows: map[string]time.Duration{}, max: map[string]time.Duration{}}
	if fi, err := os.Stat(path); err == nil {
		res.fileSize = fi.Size()
	}
	// Start, in a process of its own: cold (the file's pages evicted from the page cache), then warm.
	dropFileCache(t, path)
	res.cold = startChild(t, path)
	res.warm = startChild(t, path)

	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	if bk, err := st.Backup(0); err != nil {
		t.Fatal(err)
	} else {
		res.backup = time.Since(start)
		os.Remove(bk)
	}
	env := newBenchEnv(t, st)
	for _, r := range env.runs(t) {
		if r.setup != nil {
			if err := r.setup(); err != nil {
				t.Fatalf("%s: setup: %v", r.name, err)
			}
		}
		var ds []time.Duration
		for i := range r.reps {
			t0 := time.Now()
			if err := r.run(i); err != nil {
				t.Fatalf("%s: %v", r.name, err)
			}
			ds = append(ds, time.Since(t0))
		}
		slices.Sort(ds)
		res.rows[r.name] = ds[len(ds)/2]
		res.max[r.name] = ds[len(ds)-1]
		res.order = append(res.order, r.name)
	}
	return res
}

// benchEnv is a bot's dispatcher and HTTP routes over a seeded store, without IRC.
type benchEnv struct {
	b  *Bot
	st *store.Store
	h  http.Handler
}

const benchSecret = "bench-webhook-secret"

func benchOptions() Options {
	return Options{Server: "127.0.0.1:1", Nick: "opsbot", Channels: []string{"#operations"}, RequireAccount: true,
		Admins: []string{"alice"}, Ops: seed.Ops, Version: "bench", Log: quietLog(),
		FamilyConfig: FamilyConfig{
			Paging:  commands.PagingConfig{Rotation: store.Rotation{Accounts: seed.Ops, Weekday: time.Monday, At: 10 * time.Hour, Location: time.UTC}},
			Deploys: commands.DeployConfig{WebhookSecrets: []string{benchSecret}},
			Web:     web.Config{TrustLoopback: true}, // the API answers the local requests of get
			Reminders: commands.ReminderConfig{Seeds: []store.Reminder{
				{Name: "retro", Schedule: "0 15 * * FRI", Text: "Retro in 15 minutes", Agenda: "retro"},
				{Name: "planning", Schedule: "45 9 * * MON", Text: "Planning in 15 minutes", Agenda: "planning"},
			}},
		}}
}

func newBenchEnv(t *testing.T, st *store.Store) *benchEnv {
	b, err := New(benchOptions(), st)
	if err != nil {
		t.Fatal(err)
	}
	return &benchEnv{b: b, st: st, h: b.httpServer().Handler}
}

// nullReplier throws the answer away, keeping the last error for the checks.
type nullReplier struct{ lines, errs []string }

func (r *nullReplier) Reply(lines ...string) { r.lines = append(r.lines, lines...) }
func (r *nullReplier) Error(msg string)      { r.errs = append(r.errs, msg) }

// chat runs one command as account (logged in; "" is anonymous). An internal error fails; a user error is
// the command's answer (some rows measure refusals).
func (e *benchEnv) chat(account, text string) error {
	w := &nullReplier{}
	e.b.disp.Dispatch(context.Background(), commands.Message{Caller: commands.Caller{Account: account, Nick: cmpNick(account)}, Text: text}, w)
	for _, m := range w.errs {
		if strings.Contains(m, "internal error") {
			return fmt.Errorf("%s: %s", text, m)
		}
	}
	return nil
}

func cmpNick(account string) string {
	if account == "" {
		return "guest"
	}
	return account
}

func (e *benchEnv) get(path string) error {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "http://127.0.0.1"+path, nil)
	req.RemoteAddr = "127.0.0.1:1234"
	e.h.ServeHTTP(rec, req)
	if rec.Code >= 400 && rec.Code != http.StatusLocked && !(path == "/healthz" && strings.HasPrefix(rec.Body.String(), "irc: not connected")) { // no IRC here
		return fmt.Errorf("GET %s: %d %s", path, rec.Code, rec.Body.String())
	}
	return nil
}

func (e *benchEnv) hook(body map[string]any) error {
	raw, _ := json.Marshal(body)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "http://127.0.0.1/hooks/deploy", bytes.NewReader(raw))
	req.RemoteAddr = "127.0.0.1:1234"
	req.Header.Set("X-Opsbot-Timestamp", ts)
	req.Header.Set("X-Opsbot-Signature", sign(benchSecret, ts, raw))
	e.h.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		return fmt.Errorf("POST /hooks/deploy: %d %s", rec.Code, rec.Body.String())
	}
	return nil
}

// runs are the table's rows: the reads of every family in chat and over HTTP, and the writes, each as
// people type them.
func (e *benchEnv) runs(t *testing.T) []benchRun {
	st := e.st
	busy := seed.ServiceName(0)
	_, total, err := st.RequestsPage(1, 1)
	if err != nil {
		t.Fatal(err)
	}
	oldReq := max(1, total/2)
	incs, _, err := st.RecentIncidents(time.Time{}, 50)
	if err != nil || len(incs) == 0 {
		t.Fatal("no incidents", err)
	}
	inc := incs[len(incs)-1].ID
	const reads, writes = 11, 11
	chat := func(name, account, text string) benchRun {
		return benchRun{name: "!" + name, reps: reads, run: func(int) error { return e.chat(account, text) }}
	}
	get := func(path string) benchRun {
		return benchRun{name: "GET " + path, reps: reads, run: func(int) error { return e.get(path) }}
	}
	getAs := func(name, path string) benchRun { // a row whose path names a record of this size's store
		return benchRun{name: "GET " + name, reps: reads, run: func(int) error { return e.get(path) }}
	}
	var reqIDs, pageIDs, incIDs []uint64
	rows := []benchRun{
		chat("status", "", "status"),
		chat("audit", "alice", "audit"),
		chat("request list", "", "request list"),
		chat("request list done", "", "request list done"),
		chat("request list all --page 50", "", "request list all --page 50"),
		chat("request list mine", "dev01", "request list mine"),
		chat("request show <old>", "", fmt.Sprintf("request show R-%d", oldReq)),
		chat("request stats", "", "request stats"),
		chat("request stats 30d", "", "request stats 30d"),
		chat("request stats 366d", "", "request stats 366d"),
		chat("board", "", "board"),
		chat("oncall", "", "oncall"),
		chat("page list", "", "page list"),
		chat("service", "", "service"),
		chat("service <busy>", "", "service "+busy),
		chat("owner", "", "owner "+busy),
		chat("impact", "", "impact "+busy),
		chat("incident list", "", "incident list"),
		chat("incident list recent", "", "incident list recent"),
		chat("incident list all", "", "incident list all"),
		chat("incident show <old>", "", fmt.Sprintf("incident show INC-%d", inc)),
		chat("availability", "", "availability"),
		chat("availability <busy> 90d", "", "availability "+busy+" 90d"),
		chat("availability 400d", "", "availability 400d"),
		chat("deploy status", "", "deploy status"),
		chat("deploy status <busy>", "", "deploy status "+busy),
		chat("deploy history <busy> 10", "", "deploy history "+busy+" 10"),
		chat("remind list", "", "remind list"),
		chat("remind show retro", "", "remind show retro"),
		chat("remind show planning", "", "remind show planning"),
		get("/api/v1/requests"),
		getAs("/api/v1/requests?state=all&page=<middle>", fmt.Sprintf("/api/v1/requests?state=all&page=%d", max(1, total/200))),
		getAs("/api/v1/requests/<old>", fmt.Sprintf("/api/v1/requests/%d", oldReq)),
		get("/api/v1/oncall"),
		get("/api/v1/pages"),
		get("/api/v1/pages?state=all"),
		get("/api/v1/services"),
		getAs("/api/v1/services/<busy>", "/api/v1/services/"+busy),
		get("/api/v1/incidents"),
		get("/api/v1/incidents?state=all"),
		getAs("/api/v1/incidents/<old>", fmt.Sprintf("/api/v1/incidents/%d", inc)),
		getAs("/incidents/<old>/postmortem.md", fmt.Sprintf("/incidents/%d/postmortem.md", inc)),
		get("/api/v1/availability?window=30d"),
		get("/api/v1/deploys"),
		getAs("/api/v1/deploys/<busy>/history", "/api/v1/deploys/"+busy+"/history"),
		getAs("/api/v1/deploys/<busy>/gate", "/api/v1/deploys/"+busy+"/gate"),
		get("/api/v1/reminders"),
		get("/api/v1/reminders/retro/agenda"),
		get("/metrics"),
		get("/healthz"),
		// Writes, each a commit.
		{name: "!request open", reps: writes, run: func(i int) error {
			return e.chat(seed.Devs[i], fmt.Sprintf("request open bench request %d --service %s", i, busy))
		}},
		{name: "!request take", reps: writes, setup: func() error {
			for i := range writes {
				r, err := st.OpenRequest(seed.Devs[i], "bench request to take", "", false)
				if err != nil {
					return err
				}
				reqIDs = append(reqIDs, r.ID)
			}
			return nil
		}, run: func(i int) error {
			return e.chat(seed.Ops[i%len(seed.Ops)], fmt.Sprintf("request take R-%d --force", reqIDs[i]))
		}},
		{name: "!request comment", reps: writes, run: func(i int) error {
			return e.chat("dev01", fmt.Sprintf("request comment R-%d any news?", reqIDs[i]))
		}},
		{name: "!request done", reps: writes, run: func(i int) error {
			return e.chat(seed.Ops[i%len(seed.Ops)], fmt.Sprintf("request done R-%d fixed", reqIDs[i]))
		}},
		{name: "!page", reps: writes, run: func(i int) error {
			return e.chat(seed.Devs[20+i], fmt.Sprintf("page bench page %d", i))
		}},
		{name: "!ack", reps: writes, setup: func() error {
			recent, err := st.RecentPages(writes)
			for _, p := range recent {
				pageIDs = append(pageIDs, p.ID)
			}
			return err
		}, run: func(i int) error {
			return e.chat("alice", fmt.Sprintf("ack P-%d", pageIDs[i]))
		}},
		{name: "!page resolve", reps: writes, run: func(i int) error {
			return e.chat("alice", fmt.Sprintf("page resolve P-%d", pageIDs[i]))
		}},
		{name: "!incident declare", reps: writes, run: func(i int) error {
			return e.chat("alice", fmt.Sprintf("incident declare sev4 %s bench incident %d", seed.ServiceName(150+i), i))
		}},
		{name: "!incident update", reps: writes, setup: func() error {
			recent, _, err := st.RecentIncidents(time.Time{}, writes)
			for _, x := range recent {
				incIDs = append(incIDs, x.ID)
			}
			return err
		}, run: func(i int) error {
			return e.chat("alice", fmt.Sprintf("incident update INC-%d still bad", incIDs[i]))
		}},
		{name: "!incident resolve", reps: writes, run: func(i int) error {
			return e.chat("alice", fmt.Sprintf("incident resolve INC-%d fixed", incIDs[i]))
		}},
		{name: "!deploy start", reps: writes, run: func(i int) error {
			return e.chat("dev02", fmt.Sprintf("deploy start %s 9.9.%d --env staging", seed.ServiceName(100+i), i))
		}},
		{name: "!deploy done", reps: writes, run: func(i int) error {
			return e.chat("dev02", fmt.Sprintf("deploy done %s --env staging", seed.ServiceName(100+i)))
		}},
		{name: "!deploy rollback <busy> --env qa (rare)", reps: writes, run: func(i int) error {
			return e.chat("dev03", "deploy rollback "+busy+" --env "+seed.RareEnv)
		}},
		{name: "!deploy rollback <busy> --env prd (misspelt)", reps: writes, run: func(i int) error {
			return e.chat("dev03", "deploy rollback "+busy+" --env prd")
		}},
		{name: "POST /hooks/deploy progress, nothing in progress", reps: writes, run: func(i int) error {
			return e.hook(map[string]any{"id": fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i), "service": busy,
				"version": "7.7." + fmt.Sprint(i), "environment": fmt.Sprintf("prd%d", i), "status": "progress", "percent": 50})
		}},
	}
	return rows
}

// startChild measures a start in a fresh process (TestStoreBenchChild) on path.
func startChild(t *testing.T, path string) startResult {
	cmd := exec.Command(os.Args[0], "-test.run=^TestStoreBenchChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "OPSBOT_BENCH_CHILD="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("start child: %v\n%s\n%s", err, out, stderr.String())
	}
	for _, l := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(l, "BENCHCHILD "); ok {
			var r startResult
			if err := json.Unmarshal([]byte(rest), &r); err != nil {
				t.Fatal(err)
			}
			return r
		}
	}
	t.Fatalf("start child said nothing:\n%s\n%s", out, stderr.String())
	return startResult{}
}

// TestStoreBenchChild is the process TestStoreBenchTable starts to time a start: it opens the store, builds
// the bot over it, runs one of each command, and prints what it measured.
func TestStoreBenchChild(t *testing.T) {
	path := os.Getenv("OPSBOT_BENCH_CHILD")
	if path == "" {
		t.Skip("started by TestStoreBenchTable")
	}
	TuneGC(os.Getenv, slog.Default()) // as the binary does
	var r startResult
	t0 := time.Now()
	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.Open = time.Since(t0)
	env := newBenchEnv(t, st)
	r.Ready = time.Since(t0)
	r.RSSStart, _ = procStatus("VmRSS")
	for _, run := range env.runs(t) {
		if run.setup != nil {
			if err := run.setup(); err != nil {
				t.Fatal(err)
			}
		}
		if err := run.run(0); err != nil {
			t.Fatal(err)
		}
	}
	r.RSSAfter, _ = procStatus("VmRSS")
	r.HWMBeforeCheck, _ = procStatus("VmHWM")
	r.Integrity, r.CheckTime = integrityOf(st, 10*time.Minute)
	r.RSSCheck, _ = procStatus("VmRSS")
	r.HWM, _ = procStatus("VmHWM")
	t1 := time.Now()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	r.Close = time.Since(t1)
	// Once more, closing 100 ms into the background check: Close must not wait for the whole file.
	st, err = store.Open(path, store.Options{CheckDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	if !st.IntegrityStatus().AtOpen {
		time.Sleep(100 * time.Millisecond)
		t1 = time.Now()
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		r.CloseDuringCheck = time.Since(t1)
	} else {
		st.Close()
	}
	raw, _ := json.Marshal(r)
	fmt.Printf("BENCHCHILD %s\n", raw)
}

// startToJoined runs the built binary on the store at path (whose pages the caller evicted) and times it from
// exec to its JOIN as a client already in #operations sees it: what people wait for after a reboot. It also
// reads the process's resident memory then.
func startToJoined(t *testing.T, bin string, n *irctest.Network, path string) (time.Duration, int64) {
	watcher := irctest.Dial(t, n.Addr, fmt.Sprintf("sw%d", time.Now().UnixNano()%1e6), irctest.Options{})
	defer watcher.Close()
	watcher.Join("#operations")
	cfg := filepath.Join(t.TempDir(), "opsbot.toml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("[irc]\nserver = %q\n[store]\npath = %q\n[http]\nlisten = \"\"\n", n.Addr, path)), 0o600); err != nil {
		t.Fatal(err)
	}
	out := &lockedBuffer{}
	cmd := exec.Command(bin, "-config", cfg, "-log-level", "warn")
	cmd.Stdout, cmd.Stderr = out, out
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("the bot process: %v\n%s", err, out.String())
		}
	}()
	if _, ok := watcher.Wait(2*time.Minute, func(l irctest.Line) bool {
		return l.Msg.Command == "JOIN" && l.Msg.Nick() == "opsbot"
	}); !ok {
		t.Fatalf("the bot did not join #operations within 2 minutes:\n%s", out.String())
	}
	joined := time.Since(t0)
	rss, err := procStatusOf(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid), "VmRSS")
	if err != nil {
		t.Error(err)
	}
	return joined, rss
}

// procStatus reads a kB field of /proc/self/status.
func procStatus(field string) (int64, error) { return procStatusOf("/proc/self/status", field) }

// procStatusOf reads a kB field of a process's status file.
func procStatusOf(file, field string) (int64, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(l, field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("%s not in %s", field, file)
}

// dropFileCache evicts path's pages from the page cache (posix_fadvise DONTNEED, after an fsync), so the next
// open reads them from the disk: a cold start without dropping every other file's cache.
func dropFileCache(t *testing.T, path string) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_ = f.Sync()
	const fadvDontneed = 4
	if _, _, e := syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, fadvDontneed, 0, 0); e != 0 {
		t.Logf("fadvise: %v (cold start not measured cold)", e)
	}
}

func printBenchTable(rs []*sizeResult) {
	var sb strings.Builder
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/1e6) }
	fmt.Fprintf(&sb, "\n%-52s", "row (ms, median; max in brackets)")
	for _, r := range rs {
		fmt.Fprintf(&sb, " %18s", fmt.Sprintf("%gy", r.years))
	}
	if len(rs) > 1 {
		fmt.Fprintf(&sb, " %8s", "last/1st")
	}
	sb.WriteString("\n")
	for _, name := range rs[0].order {
		fmt.Fprintf(&sb, "%-52s", name)
		for _, r := range rs {
			fmt.Fprintf(&sb, " %18s", ms(r.rows[name])+" ("+ms(r.max[name])+")")
		}
		if len(rs) > 1 {
			fmt.Fprintf(&sb, " %7.1fx", float64(rs[len(rs)-1].rows[name])/float64(max(rs[0].rows[name], 1)))
		}
		sb.WriteString("\n")
	}
	line := func(name string, f func(r *sizeResult) string) {
		fmt.Fprintf(&sb, "%-52s", name)
		for _, r := range rs {
			fmt.Fprintf(&sb, " %18s", f(r))
		}
		sb.WriteString("\n")
	}
	line("file size (MiB)", func(r *sizeResult) string { return fmt.Sprintf("%.0f", float64(r.fileSize)/(1<<20)) })
	line("backup (s)", func(r *sizeResult) string { return fmt.Sprintf("%.2f", r.backup.Seconds()) })
	line("start cold: store open (ms)", func(r *sizeResult) string { return ms(r.cold.Open) })
	line("start cold: bot ready (ms)", func(r *sizeResult) string { return ms(r.cold.Ready) })
	line("start cold: binary exec to joined #operations (ms)", func(r *sizeResult) string { return ms(r.joined) })
	line("RSS of the binary once joined, cold (MB)", func(r *sizeResult) string { return fmt.Sprint(r.joinedRSS / 1024) })
	line("start warm: store open (ms)", func(r *sizeResult) string { return ms(r.warm.Open) })
	line("start warm: bot ready (ms)", func(r *sizeResult) string { return ms(r.warm.Ready) })
	line("RSS after start, cold (MB)", func(r *sizeResult) string { return fmt.Sprint(r.cold.RSSStart / 1024) })
	line("RSS after one of each command, cold (MB)", func(r *sizeResult) string { return fmt.Sprint(r.cold.RSSAfter / 1024) })
	line("RSS after the integrity check, cold (MB)", func(r *sizeResult) string { return fmt.Sprint(r.cold.RSSCheck / 1024) })
	line("RSS peak before the check, cold (MB)", func(r *sizeResult) string { return fmt.Sprint(r.cold.HWMBeforeCheck / 1024) })
	line("RSS peak, cold (MB)", func(r *sizeResult) string { return fmt.Sprint(r.cold.HWM / 1024) })
	line("integrity check, cold", func(r *sizeResult) string { return r.cold.Integrity })
	line("integrity check time, cold", func(r *sizeResult) string { return r.cold.CheckTime })
	line("integrity check time, warm", func(r *sizeResult) string { return r.warm.CheckTime })
	line("close after the check (ms)", func(r *sizeResult) string { return ms(r.cold.Close) })
	line("close 100 ms into the check (ms)", func(r *sizeResult) string { return ms(r.cold.CloseDuringCheck) })
	for _, r := range rs {
		if r.seeding > 0 {
			fmt.Fprintf(&sb, "seeded %g years in %v\n", r.years, r.seeding.Round(time.Second))
		}
	}
	fmt.Print(sb.String())
}

// integrityOf waits (at most wait) for the store's integrity check and says what it found and how long it
// took.
func integrityOf(st *store.Store, wait time.Duration) (string, string) {
	deadline := time.Now().Add(wait)
	for st.IntegrityStatus().State == store.IntegrityPending && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	s := st.IntegrityStatus()
	where := "background"
	if s.AtOpen {
		where = "at open (" + s.Reason + ")"
	}
	return string(s.State) + " " + where, s.Duration.Round(time.Millisecond).String()
}

// TestStoreBenchUpgrade measures, for each size of OPSBOT_BENCH_SIZES whose store seeded by an older build
// is in OPSBOT_BENCH_CACHE (seed-v1-schema1-<n>y.db, kept from an earlier `make bench`), what upgrading it
// costs and gives: the first start (the schema migration; the integrity check runs in the background), cold;
// the retention catching up (pruned as the job does, in batches); `opsbot compact`; the file size and a
// backup's time before and after; and a write's time as found, pruned, and compacted.
func TestStoreBenchUpgrade(t *testing.T) {
	sizes := benchSizes(t)
	cache := os.Getenv("OPSBOT_BENCH_CACHE")
	if cache == "" {
		cache = "/var/tmp/opsbot-bench"
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n%-44s", "upgrading a store seeded by the old build")
	type col struct {
		years                                      float64
		before, after                              int64
		backupBefore, backupAfter, open, prune, cp time.Duration
		writeBefore, writePruned, writeAfter       time.Duration // median of 21 !request open commits
		pruned                                     int
	}
	var cols []col
	for _, years := range sizes {
		old := filepath.Join(cache, fmt.Sprintf("seed-v1-schema1-%gy.db", years))
		if _, err := os.Stat(old); err != nil {
			t.Logf("no %s: skipped", old)
			continue
		}
		c := col{years: years}
		path := filepath.Join(t.TempDir(), "opsbot.db")
		copyFile(t, old, path)
		fi, _ := os.Stat(path)
		c.before = fi.Size()
		dropFileCache(t, path)
		start := time.Now()
		st, err := store.Open(path, store.Options{CheckDelay: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		c.open = time.Since(start)
		c.writeBefore = medianWrite(t, st)
		start = time.Now()
		bk, err := st.Backup(0)
		if err != nil {
			t.Fatal(err)
		}
		c.backupBefore = time.Since(start)
		os.Remove(bk)
		start = time.Now()
		now := time.Now()
		for n := 1000; n == 1000; {
			if n, err = st.PruneAudit(now.Add(-store.DefaultAuditRetention), 1000); err != nil {
				t.Fatal(err)
			}
			c.pruned += n
		}
		for more := true; more; {
			var n int
			if n, more, err = st.PruneDeliveries(now.Add(-store.DefaultDeliveryRetention), 1000); err != nil {
				t.Fatal(err)
			}
			c.pruned += n
		}
		for n := 200; n == 200; {
			ps, err := st.ResolveAckedPages(now.Add(-24*time.Hour), now, nil, 200)
			if err != nil {
				t.Fatal(err)
			}
			n = len(ps)
		}
		c.prune = time.Since(start)
		c.writePruned = medianWrite(t, st)
		st.Close()
		start = time.Now()
		res, err := store.Compact(path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		c.cp = time.Since(start)
		os.Remove(res.Backup)
		c.after = res.After
		st, err = store.Open(path, store.Options{CheckDelay: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		start = time.Now()
		if bk, err = st.Backup(0); err != nil {
			t.Fatal(err)
		}
		c.backupAfter = time.Since(start)
		os.Remove(bk)
		c.writeAfter = medianWrite(t, st)
		st.Close()
		cols = append(cols, c)
	}
	if len(cols) == 0 {
		t.Skip("no stores of the old build in the cache")
	}
	for _, c := range cols {
		fmt.Fprintf(&sb, " %14s", fmt.Sprintf("%gy", c.years))
	}
	sb.WriteString("\n")
	row := func(name string, f func(c col) string) {
		fmt.Fprintf(&sb, "%-44s", name)
		for _, c := range cols {
			fmt.Fprintf(&sb, " %14s", f(c))
		}
		sb.WriteString("\n")
	}
	mib := func(n int64) string { return fmt.Sprintf("%.0f", float64(n)/(1<<20)) }
	sec := func(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }
	row("file size before (MiB)", func(c col) string { return mib(c.before) })
	row("backup before (s)", func(c col) string { return sec(c.backupBefore) })
	row("first start of this build (migration), cold (s)", func(c col) string { return sec(c.open) })
	row("retention catching up (s)", func(c col) string { return sec(c.prune) })
	row("records pruned", func(c col) string { return fmt.Sprint(c.pruned) })
	row("opsbot compact (s)", func(c col) string { return sec(c.cp) })
	row("file size after (MiB)", func(c col) string { return mib(c.after) })
	row("backup after (s)", func(c col) string { return sec(c.backupAfter) })
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/1e6) }
	row("a write (request open): as found (ms)", func(c col) string { return ms(c.writeBefore) })
	row("a write: pruned, not compacted (ms)", func(c col) string { return ms(c.writePruned) })
	row("a write: compacted (ms)", func(c col) string { return ms(c.writeAfter) })
	fmt.Print(sb.String())
}

// medianWrite is the median time of 21 OpenRequest commits on st.
func medianWrite(t *testing.T, st *store.Store) time.Duration {
	var ds []time.Duration
	for i := range 21 {
		start := time.Now()
		if _, err := st.OpenRequest("bench", fmt.Sprintf("bench write %d", i), "", false); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, time.Since(start))
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}
