package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/store"
)

// runOpsbot runs the binary with a config that uses db and returns its exit code and stderr. The IRC server
// is a closed port: a bot that got past the store would keep retrying, so a timeout means it started.
func runOpsbot(t *testing.T, bin, db string, args ...string) (int, string, string) {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "opsbot.toml")
	body := "[irc]\nserver = \"127.0.0.1:1\"\n[store]\npath = \"" + db + "\"\n[http]\nlisten = \"\"\n[auth]\nops = [\"alice\"]\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append(args, "-config", cfg)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Stdin = strings.NewReader("request list all\n")
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("opsbot %v did not exit within 20s (it started on a corrupt store?)\nstderr: %s", args, stderr.String())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// seedStore makes a store with one request and a backup of it; it returns the backup's path.
func seedStore(t *testing.T, db string) string {
	t.Helper()
	st, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.OpenRequest("bob", "disk full on db3", "", false); err != nil {
		t.Fatal(err)
	}
	backup, err := st.Backup(3)
	if err != nil {
		t.Fatal(err)
	}
	// More work after the backup, so the file has pages beyond the backup's.
	for range 200 {
		if _, err := st.OpenRequest("bob", strings.Repeat("x", 300), "", false); err != nil {
			t.Fatal(err)
		}
	}
	return backup
}

// TestFaultCorruptDatabaseBinaryRefusesToStart: the real binary, on a damaged database file, exits non-zero
// with a message that says the database is corrupt and which backup to restore; after restoring it, the
// same binary runs on the backup's data.
func TestFaultCorruptDatabaseBinaryRefusesToStart(t *testing.T) {
	bin := buildOpsbot(t, t.TempDir()) // crash_test.go
	page := os.Getpagesize()
	damage := map[string]func(raw []byte) []byte{
		// every page after the two meta pages overwritten
		"garbage after the meta pages": func(raw []byte) []byte {
			for i := 2 * page; i < len(raw); i++ {
				raw[i] = 0xA5
			}
			return raw
		},
		// one page in the middle of the data overwritten (a bad sector)
		"one page overwritten": func(raw []byte) []byte {
			mid := (len(raw) / page / 2) * page
			for i := mid; i < mid+page; i++ {
				raw[i] = 0x5A
			}
			return raw
		},
		// the file cut in half (a copy or a disk that ran out)
		"truncated": func(raw []byte) []byte { return raw[:(len(raw)/page/2)*page] },
		// both meta pages destroyed
		"meta pages zeroed": func(raw []byte) []byte {
			clear(raw[:2*page])
			return raw
		},
	}
	for name, f := range damage {
		t.Run(name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "opsbot.db")
			backup := seedStore(t, db)
			raw, err := os.ReadFile(db)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(db, f(raw), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, sub := range [][]string{nil, {"shell"}} {
				code, _, stderr := runOpsbot(t, bin, db, sub...)
				t.Logf("opsbot %v: exit %d: %s", sub, code, strings.TrimSpace(stderr))
				if code != 1 {
					t.Errorf("opsbot %v on a corrupt store exited %d, want 1; stderr:\n%s", sub, code, stderr)
				}
				for _, want := range []string{"database is corrupt", "refusing to start", "restore the newest backup: cp " + backup + " " + db} {
					if !strings.Contains(stderr, want) {
						t.Errorf("opsbot %v stderr lacks %q:\n%s", sub, want, stderr)
					}
				}
			}
			// Restoring the named backup works: the shell reads the backup's request.
			raw, err = os.ReadFile(backup)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(db, raw, 0o600); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := runOpsbot(t, bin, db, "shell")
			if code != 0 || !strings.Contains(stdout, "disk full on db3") {
				t.Errorf("after restoring the backup: exit %d, stdout %q, stderr %s", code, stdout, stderr)
			}
		})
	}
	// A file cut anywhere: refused with the backup named, or (cut only in the space bbolt preallocates)
	// opened with the data intact; never a crash.
	t.Run("truncated at every page", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "opsbot.db")
		backup := seedStore(t, db)
		raw, err := os.ReadFile(db)
		if err != nil {
			t.Fatal(err)
		}
		cut := filepath.Join(t.TempDir(), "opsbot.db")
		refused := 0
		for size := 2 * page; size < len(raw); size += page {
			if err := os.WriteFile(cut, raw[:size], 0o600); err != nil {
				t.Fatal(err)
			}
			os.Remove(cut + ".backup-x")
			if err := os.Link(backup, cut+".backup-x"); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := runOpsbot(t, bin, cut, "shell")
			switch {
			case code == 1 && strings.Contains(stderr, "database is corrupt") && strings.Contains(stderr, "cp "+cut+".backup-x "+cut):
				refused++
			case code == 0 && strings.Contains(stdout, "disk full on db3"):
			default:
				t.Fatalf("file cut to %d of %d bytes: exit %d, stdout %.200q, stderr:\n%.1500s", size, len(raw), code, stdout, stderr)
			}
		}
		if refused == 0 {
			t.Error("no cut was refused")
		}
	})
	t.Run("no backup", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "opsbot.db")
		if err := os.WriteFile(db, bytes.Repeat([]byte{0x42}, 4*page), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := runOpsbot(t, bin, db)
		if code != 1 || !strings.Contains(stderr, "database is corrupt") || !strings.Contains(stderr, "restore a copy taken with GET /api/v1/backup") {
			t.Errorf("no backup: exit %d, stderr:\n%s", code, stderr)
		}
	})
}
