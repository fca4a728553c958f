// Package irctest runs a real IRC network (InspIRCd linked to Atheme services, from Debian's packages) on
// loopback for tests, and gives tests plain IRC clients that log in, join, talk and wait for lines.
package irctest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Network is a running InspIRCd + Atheme pair (Start), or a single daemon without services (StartNgircd,
// StartHybrid).
type Network struct {
	Dir  string
	Port int
	Addr string // 127.0.0.1:Port
	// Kind is "inspircd+atheme", "ngircd" or "ircd-hybrid"; Services is true when NickServ runs.
	Kind     string
	Services bool
	// Stock is true for a network with InspIRCd's stock flood limits (StartStock).
	Stock bool
	t     testing.TB
	// pidFiles are the files in Dir holding the daemons' pids (Stop kills them); startFn (re)starts them.
	pidFiles []string
	startFn  func(testing.TB)
}

// scriptDir is testdata/ircnet at the module root.
func scriptDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "ircnet")
}

// Available reports whether the daemons are installed; when not, it says how to get them.
func Available() (bool, string) {
	for _, bin := range []string{"inspircd", "atheme-services"} {
		if _, err := exec.LookPath(bin); err != nil {
			return false, fmt.Sprintf("%s not installed: run `sudo bash testdata/ircnet/install.sh` (Debian packages inspircd, atheme-services)", bin)
		}
	}
	return true, ""
}

// Start starts a network for the test and stops it at cleanup. Without the daemons the test is skipped,
// unless CI is set: then it fails, so CI can never pass without them.
func Start(t testing.TB) *Network {
	t.Helper()
	return start(t, false)
}

// StartStock is Start with InspIRCd's stock flood limits instead of the relaxed ones: fakelag on (a client
// past about ten commands' worth of penalty has its commands held, one per second), an 8 KiB receive queue
// (a client whose held commands pass it is disconnected) and an 8 KiB soft send queue (the server stops
// reading a client that does not read its replies). Public networks run these; flood, join-storm and
// fairness tests belong here.
func StartStock(t testing.TB) *Network {
	t.Helper()
	return start(t, true)
}

func start(t testing.TB, stock bool) *Network {
	t.Helper()
	if ok, why := Available(); !ok {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but the test network cannot run: %s", why)
		}
		t.Skip(why)
	}
	dir, err := os.MkdirTemp("", "opsbot-ircnet-")
	if err != nil {
		t.Fatal(err)
	}
	// Atheme runs as the unprivileged irc user: it must reach its folder.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	n := &Network{Dir: dir, Port: freePortPair(t), Kind: "inspircd+atheme", Services: true, Stock: stock, t: t,
		pidFiles: []string{"inspircd.pid", "atheme.pid"}}
	n.Addr = "127.0.0.1:" + strconv.Itoa(n.Port)
	n.startFn = n.start
	n.start(t)
	t.Cleanup(func() {
		n.Stop()
		os.RemoveAll(dir)
	})
	return n
}

func (n *Network) start(t testing.TB) {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join(scriptDir(), "start.sh"), n.Dir, strconv.Itoa(n.Port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if n.Stock {
		cmd.Env = append(os.Environ(), "IRCD_PROFILE=stock")
	}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ready") {
		logs, _ := os.ReadFile(filepath.Join(n.Dir, "inspircd.out"))
		alogs, _ := os.ReadFile(filepath.Join(n.Dir, "atheme.out"))
		t.Fatalf("start network: %v\n%s\ninspircd: %s\natheme: %s", err, out, logs, alogs)
	}
}

// Stop kills both daemons (like a crash: no goodbye to clients) and waits until the port is closed.
func (n *Network) Stop() {
	for _, f := range n.pidFiles {
		raw, err := os.ReadFile(filepath.Join(n.Dir, f))
		if err != nil {
			continue
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(raw))); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", n.Addr, 100*time.Millisecond)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(50 * time.Millisecond)
	}
}

// Restart starts the daemons again on the same port and data folder (accounts persist if Atheme saved them).
func (n *Network) Restart(t testing.TB) {
	t.Helper()
	n.startFn(t)
}

// freePortPair finds a port p with p+1 also free (clients on p, the services link on p+1).
func freePortPair(t testing.TB) int {
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if p > 65000 {
			continue
		}
		l2, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+1))
		if err != nil {
			continue
		}
		l2.Close()
		return p
	}
	t.Fatal("no free port pair")
	return 0
}
