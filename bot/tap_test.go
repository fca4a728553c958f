package bot

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestFilterConnReadTap checks the wire tap: girc reads every line the tap does not take, whole and in order,
// whatever the chunks the server's bytes arrive in; the tap sees every complete line once; an unterminated
// line too long to be a command and the last bytes before EOF still reach girc; the read error comes after.
func TestFilterConnReadTap(t *testing.T) {
	long := "NOTICE x :" + strings.Repeat("y", maxPartial+10) + "\r\n"
	lines := []string{
		":a!u@h PRIVMSG opsbot :TAKE one\r\n",
		"PING :123\r\n",
		"@account=alice :b!u@h PRIVMSG #operations :!TAKE two\r\n",
		":srv 001 opsbot :hi\r\n",
		":c!u@h PRIVMSG opsbot :TAKE three\n",
		long,
		":d!u@h PRIVMSG #other :keep\r\n",
	}
	wire := strings.Join(lines, "") + "PART #x :no newline at EOF"
	for _, chunk := range []int{1, 3, 7, 64, 4096, 1 << 20} {
		server, client := net.Pipe()
		var mu sync.Mutex
		var tapped []string
		fc := &filterConn{Conn: client, tap: func(l []byte) bool {
			mu.Lock()
			defer mu.Unlock()
			tapped = append(tapped, string(l))
			return strings.Contains(string(l), "TAKE")
		}}
		go func() {
			for rest := wire; rest != ""; {
				n := min(chunk, len(rest))
				if _, err := server.Write([]byte(rest[:n])); err != nil {
					return
				}
				rest = rest[n:]
			}
			server.Close()
		}()
		got, err := io.ReadAll(bufio.NewReader(fc))
		if err != nil {
			t.Fatalf("chunk %d: %v", chunk, err)
		}
		want := lines[1] + lines[3] + long + lines[6] + "PART #x :no newline at EOF"
		if string(got) != want {
			t.Errorf("chunk %d: girc read %q..., want %q...", chunk, truncate(string(got)), truncate(want))
		}
		// The tap saw each complete line once, in order; the long one went through unseen or seen whole.
		var seen []string
		for _, l := range tapped {
			if l != long {
				seen = append(seen, l)
			}
		}
		if wantSeen := []string{lines[0], lines[1], lines[2], lines[3], lines[4], lines[6]}; strings.Join(seen, "|") != strings.Join(wantSeen, "|") {
			t.Errorf("chunk %d: tap saw %q, want %q", chunk, seen, wantSeen)
		}
		if _, err := fc.Read(make([]byte, 10)); !errors.Is(err, io.EOF) {
			t.Errorf("chunk %d: read after EOF = %v, want EOF", chunk, err)
		}
	}
}

// TestFilterConnReadTakenKeepsDeadline checks that a stream of taken lines renews girc's read deadline, so a
// busy channel of commands cannot make girc's reader time out although girc itself reads nothing.
func TestFilterConnReadTakenKeepsDeadline(t *testing.T) {
	server, client := net.Pipe()
	defer server.Close()
	fc := &filterConn{Conn: client, tap: func(l []byte) bool { return strings.HasPrefix(string(l), "TAKE") }}
	_ = fc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	go func() {
		for range 10 {
			time.Sleep(50 * time.Millisecond)
			if _, err := server.Write([]byte("TAKE\r\n")); err != nil {
				return
			}
		}
		_, _ = server.Write([]byte("PING :x\r\n"))
	}()
	line, err := bufio.NewReader(fc).ReadString('\n')
	if err != nil || line != "PING :x\r\n" {
		t.Fatalf("read %q, %v; want the PING after 500ms of taken lines", line, err)
	}
}

func truncate(s string) string { return s[:min(len(s), 80)] }
