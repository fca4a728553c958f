package irctest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The compatibility servers: single daemons from Debian without services, so every client is anonymous.
// ngIRCd and ircd-hybrid conflict as Debian packages: scripts/install-ircd.sh installs ircd-hybrid (its
// modules are at a path compiled into the binary) and unpacks ngIRCd (one binary) into a cache folder.

const installHint = "run `sudo bash scripts/install-ircd.sh`"

// ngircdCache is where scripts/install-ircd.sh unpacks ngIRCd's Debian package.
func ngircdCache() string {
	if d := os.Getenv("OPSBOT_IRCD_CACHE"); d != "" {
		return d
	}
	return "/var/cache/opsbot"
}

// NgircdPath finds the ngircd binary: $OPSBOT_NGIRCD, PATH, /usr/sbin, then the unpacked package. It says
// how to install it when there is none.
func NgircdPath() (string, string) {
	cands := []string{os.Getenv("OPSBOT_NGIRCD")}
	if p, err := exec.LookPath("ngircd"); err == nil {
		cands = append(cands, p)
	}
	cands = append(cands, "/usr/sbin/ngircd", filepath.Join(ngircdCache(), "ngircd", "usr", "sbin", "ngircd"))
	for _, c := range cands {
		if isExecutable(c) {
			return c, ""
		}
	}
	return "", "ngircd not installed: " + installHint + " (unpacks Debian's ngircd package into " +
		filepath.Join(ngircdCache(), "ngircd") + "; it conflicts with ircd-hybrid as a package)"
}

// hybridModules is where Debian's ircd-hybrid keeps its modules; the path is compiled into the binary.
const hybridModules = "/usr/lib/ircd-hybrid/modules"

// HybridPath finds the ircd-hybrid binary (Debian package ircd-hybrid) and checks that it can be run: as
// root it must drop to the irc user with setpriv, because ircd-hybrid refuses to run as root.
func HybridPath() (string, string) {
	p, err := exec.LookPath("ircd-hybrid")
	if err != nil {
		p = "/usr/sbin/ircd-hybrid"
	}
	if !isExecutable(p) {
		return "", "ircd-hybrid not installed: " + installHint + " (Debian package ircd-hybrid)"
	}
	if st, err := os.Stat(hybridModules); err != nil || !st.IsDir() {
		return "", "ircd-hybrid modules missing at " + hybridModules + ": " + installHint
	}
	if os.Geteuid() == 0 {
		if _, err := exec.LookPath("setpriv"); err != nil {
			return "", "ircd-hybrid refuses to run as root and setpriv (util-linux) is missing"
		}
		if _, err := user.Lookup("irc"); err != nil {
			return "", "ircd-hybrid refuses to run as root and there is no irc user to run it as"
		}
	}
	return p, ""
}

func isExecutable(p string) bool {
	if p == "" {
		return false
	}
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// StartNgircd starts ngIRCd on a free loopback port for the test and stops it at cleanup. Without the
// daemon the test is skipped, unless CI is set: then it fails.
func StartNgircd(t testing.TB) *Network {
	t.Helper()
	bin, why := NgircdPath()
	return startSingle(t, "ngircd", bin, why, "ngircd.conf.in", func(n *Network, conf string) *exec.Cmd {
		return exec.Command(bin, "-n", "-f", conf)
	})
}

// StartHybrid starts ircd-hybrid on a free loopback port for the test (as the irc user when the test runs
// as root) and stops it at cleanup. Without the daemon the test is skipped, unless CI is set: then it fails.
func StartHybrid(t testing.TB) *Network {
	t.Helper()
	bin, why := HybridPath()
	return startSingle(t, "ircd-hybrid", bin, why, "hybrid.conf.in", func(n *Network, conf string) *exec.Cmd {
		args := []string{bin, "-foreground", "-configfile", conf,
			"-pidfile", filepath.Join(n.Dir, "hybrid.run.pid"), "-logfile", filepath.Join(n.Dir, "hybrid.log")}
		for _, db := range []string{"kline", "dline", "xline", "resv"} {
			args = append(args, "-"+db+"file", filepath.Join(n.Dir, db+".db"))
		}
		if os.Geteuid() == 0 {
			args = append([]string{"setpriv", "--reuid=irc", "--regid=irc", "--clear-groups"}, args...)
		}
		return exec.Command(args[0], args[1:]...)
	})
}

// startSingle runs one daemon from a config template in testdata/ircnet.
func startSingle(t testing.TB, kind, bin, why, tmpl string, command func(*Network, string) *exec.Cmd) *Network {
	t.Helper()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but the %s test server cannot run: %s", kind, why)
		}
		t.Skip(why)
	}
	dir, err := os.MkdirTemp("", "opsbot-"+kind+"-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // ircd-hybrid runs as irc and writes its logs here
		t.Fatal(err)
	}
	n := &Network{Dir: dir, Port: freePortPair(t), Kind: kind, t: t, pidFiles: []string{kind + ".pid"}}
	n.Addr = "127.0.0.1:" + strconv.Itoa(n.Port)
	raw, err := os.ReadFile(filepath.Join(scriptDir(), tmpl))
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.NewReplacer("@DIR@", dir, "@PORT@", strconv.Itoa(n.Port), "@MODPATH@", hybridModules).Replace(string(raw))
	confPath := filepath.Join(dir, strings.TrimSuffix(tmpl, ".in"))
	for p, body := range map[string]string{confPath: conf, filepath.Join(dir, "motd.txt"): "opsbot test server\n"} {
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "conf.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if u, err := user.Lookup("irc"); err == nil {
			uid, _ := strconv.Atoi(u.Uid)
			gid, _ := strconv.Atoi(u.Gid)
			_ = filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error { return os.Lchown(p, uid, gid) })
		}
	}
	n.startFn = func(t testing.TB) {
		t.Helper()
		cmd := command(n, confPath)
		cmd.Dir = dir
		out, err := os.Create(filepath.Join(dir, kind+".out"))
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = out, out
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			out.Close()
			t.Fatalf("start %s: %v", kind, err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); out.Close(); close(exited) }() // reaps it when Stop kills it
		if err := os.WriteFile(filepath.Join(dir, kind+".pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := waitListening(n.Addr, exited, 10*time.Second); err != nil {
			_ = cmd.Process.Kill()
			<-exited
			logs, _ := os.ReadFile(filepath.Join(dir, kind+".out"))
			t.Fatalf("start %s on %s: %v\n%s", kind, n.Addr, err, logs)
		}
	}
	n.startFn(t)
	t.Cleanup(func() {
		n.Stop()
		os.RemoveAll(dir)
	})
	return n
}

// waitListening waits until addr accepts connections, or the daemon exits, or d passes.
func waitListening(addr string, exited <-chan struct{}, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("the daemon exited")
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("not listening after %v", d)
}
