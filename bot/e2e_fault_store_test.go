package bot

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/irctest"
	"github.com/opsbot/opsbot/store"
)

// Store faults while the bot runs: the database file becomes read-only (chattr +i: root ignores permission
// bits, and bbolt writes through the descriptor it opened), or the disk is full (the store on a small
// tmpfs). Writes answer a clear error and never "ok"; reads keep working; nothing is corrupted; when the
// fault goes away the next write succeeds without a restart; and the failures are counted in /metrics.

func TestE2EFaultStoreReadOnly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: a read-only store is made with chattr +i (permission bits do not stop root, or bbolt's open descriptor)")
	}
	if _, err := exec.LookPath("chattr"); err != nil {
		t.Skip("chattr (e2fsprogs) not installed: cannot make the store read-only")
	}
	dir := t.TempDir()
	probe := filepath.Join(dir, "probe")
	if err := os.WriteFile(probe, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("chattr", "+i", probe).CombinedOutput(); err != nil {
		t.Skipf("the filesystem of %s does not support chattr +i: %v %s", dir, err, out)
	}
	_ = exec.Command("chattr", "-i", probe).Run()

	storeFault(t, dir, true, func(t *testing.T, path string) func() {
		if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
			t.Fatalf("chattr +i: %v %s", err, out)
		}
		undo := func() { _ = exec.Command("chattr", "-i", path).Run() }
		t.Cleanup(undo) // t.TempDir cannot remove an immutable file
		return undo
	})
}

func TestE2EFaultStoreDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the disk-full test mounts a small tmpfs for the store")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=4m,mode=0755"); err != nil {
		t.Skipf("cannot mount a tmpfs for the store (%v): no disk-full test here", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			_ = syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
	storeFault(t, dir, false, func(t *testing.T, path string) func() {
		filler := filepath.Join(filepath.Dir(path), "filler")
		f, err := os.Create(filler)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, chunk := range []int{64 << 10, 4 << 10, 1} {
			buf := make([]byte, chunk)
			for {
				if _, err := f.Write(buf); err != nil {
					if !errors.Is(err, syscall.ENOSPC) {
						t.Fatalf("filling the disk: %v", err)
					}
					break
				}
			}
		}
		return func() { os.Remove(filler) }
	})
}

// storeFault runs the bot on a store in dir, makes writes fail with induce, and checks the bot's behaviour
// until the undo function induce returned is called, and after. probeFails says every write fails during
// the fault (read-only), not only those that need new space (disk full).
func storeFault(t *testing.T, dir string, probeFails bool, induce func(t *testing.T, path string) (undo func())) {
	n := irctest.Start(t)
	path := filepath.Join(dir, "opsbot.db")
	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rb := startBotOn(t, testOptions(t, n.Addr), st)
	rb.waitJoined(t, "#operations")
	bob := joinedClient(t, n, "bob", true)
	// ask returns the first line of the answer and discards the rest (!request show has history lines).
	ask := func(cmd string) string {
		t.Helper()
		bob.Say("#operations", cmd)
		first := bob.Expect(wait, irctest.From("opsbot")).Text()
		for {
			if _, ok := bob.Wait(150*time.Millisecond, irctest.From("opsbot")); !ok {
				return first
			}
		}
	}
	opened := regexp.MustCompile(`^R-(\d+) opened by bob: (.*) \[todo\]`)
	acked := map[string]uint64{} // text -> id of every write the bot acknowledged
	write := func(text string) (string, bool) {
		t.Helper()
		got := ask("!request open " + text)
		m := opened.FindStringSubmatch(got)
		if m == nil {
			return got, false
		}
		id, _ := strconv.ParseUint(m[1], 10, 64)
		acked[m[2]] = id
		return got, true
	}
	if got, ok := write("before the fault"); !ok {
		t.Fatalf("write before the fault = %q", got)
	}

	undo := induce(t, path)
	// On a full disk bbolt still commits into pages it has already written: keep writing until one needs
	// new space, then a few more. Every answer is an acknowledgement (checked in the store at the end) or a
	// clear error.
	var refused []string
	for i := 0; i < 300 && len(refused) < 3; i++ {
		text := fmt.Sprintf("during the fault %d %s", i, strings.Repeat("x", 300))
		if got, ok := write(text); !ok {
			if len(refused) == 0 {
				t.Logf("first refusal, after %d writes: %s", i, got)
			}
			if !strings.HasPrefix(got, "bob: error: ") || !strings.Contains(got, "ref ") {
				t.Errorf("a write during the fault answered %q, want a clear error line with a ref", got)
			}
			refused = append(refused, text)
		}
	}
	if len(refused) == 0 {
		t.Fatal("300 writes succeeded during the fault")
	}
	// Reads keep working.
	if got := ask("!request show R-1"); !strings.HasPrefix(got, "R-1 [todo] before the fault") {
		t.Errorf("read during the fault: !request show R-1 = %q", got)
	}
	if got := ask("!status"); !strings.Contains(got, "connected to") {
		t.Errorf("read during the fault: !status = %q", got)
	}
	// An operator sees it: store errors are counted, and the failed commands are told apart.
	base := "http://" + rb.HTTPAddr()
	if v := scrapeMetric(t, base, "opsbot_store_errors_total", ""); v < float64(len(refused)) {
		t.Errorf("opsbot_store_errors_total = %v during the fault, want >= %d (the refused writes)", v, len(refused))
	}
	// /healthz says why when the last write failed and a probe fails too; the probe needs real room on the
	// disk (1 MiB written and synced beside the database), so pages bbolt has freed cannot make it pass.
	code, body := httpGet(t, base+"/healthz")
	t.Logf("/healthz during the fault: %d %s", code, strings.TrimSpace(body))
	if (probeFails && code != 503) || (code == 503) != strings.Contains(body, "store: writes failing since ") {
		t.Errorf("/healthz during the fault = %d %q, want 503 naming the failing writes", code, body)
	}

	undo()
	// Health comes back by itself (the probe write succeeds), before anyone writes.
	if code, body := httpGet(t, base+"/healthz"); code != 200 {
		t.Errorf("/healthz once the fault is gone = %d %s", code, body)
	}
	// Recovery without a restart.
	if got, ok := write("after the fault"); !ok {
		t.Fatalf("the first write after the fault answered %q, want it to succeed without a restart", got)
	}
	if got := ask("!request show R-1"); !strings.HasPrefix(got, "R-1 [todo] before the fault") {
		t.Errorf("read after the fault: %q", got)
	}

	// No corruption: the file passes the integrity check on a fresh open, holds every write the bot
	// acknowledged, and none it refused.
	rb.stop(t)
	st.Close()
	re, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatalf("reopen after the fault: %v", err)
	}
	defer re.Close()
	all, _, err := re.RequestsPage(1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]uint64{}
	for _, r := range all {
		if _, dup := have[r.Text]; dup {
			t.Errorf("request %q stored twice", r.Text)
		}
		have[r.Text] = r.ID
	}
	for text, id := range acked {
		if have[text] != id {
			t.Errorf("acknowledged R-%d %.30q is %d in the store", id, text, have[text])
		}
	}
	for _, text := range refused {
		if id, ok := have[text]; ok {
			t.Errorf("refused write %.30q is in the store as R-%d", text, id)
		}
	}
	t.Logf("%d writes acknowledged, %d refused, %d requests stored", len(acked), len(refused), len(all))
}

// scrapeMetric reads one sample from /metrics: name with exactly the label text given (e.g.
// `command="request open",result="store"`, or "" for none). A missing sample reads as 0.
func scrapeMetric(t *testing.T, base, name, labels string) float64 {
	t.Helper()
	code, body := httpGet(t, base+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	want := name
	if labels != "" {
		want += "{" + labels + "}"
	}
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, want+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				t.Fatalf("metric line %q: %v", line, err)
			}
			return v
		}
	}
	return 0
}
