package notify

import (
	"bytes"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a log sink the deliverer's goroutines may write to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A notifier URL's token never reaches the log or the store: a failing delivery's error quotes the URL.
func TestFailingDeliveryRedactsTheURL(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: every attempt fails with "connection refused"
	st := openStore(t)
	for _, c := range []Config{
		{Type: "webhook", URL: "http://" + addr + "/page?token=s3cret-in-query"},
		{Type: "pagerduty", URL: "http://user:s3cret-in-userinfo@" + addr + "/v2/enqueue", RoutingKey: "rk"},
	} {
		n, err := New(0, c, &http.Client{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		var logs syncBuffer
		d := fast(NewDeliverer(st, []Notifier{n}, slog.New(slog.NewTextHandler(&logs, nil)), time.Now))
		pageAndAck(t, st, n.Name())
		stop := runDeliverer(t, d)
		deadline := time.Now().Add(10 * time.Second)
		var last string
		for time.Now().Before(deadline) {
			if task, ok, _ := st.NotifyHead(n.Name()); ok && task.Attempts >= 2 {
				last = task.LastError
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		stop()
		if last == "" || !strings.Contains(last, "connection refused") {
			t.Fatalf("%s: stored last error %q, want the refused connection", c.Type, last)
		}
		for what, text := range map[string]string{"stored error": last, "log": logs.String()} {
			if strings.Contains(text, "s3cret") {
				t.Errorf("%s: the %s shows the URL's secret:\n%s", c.Type, what, text)
			}
		}
	}
}
