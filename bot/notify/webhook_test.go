package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

func TestWebhookSendsSignedJSON(t *testing.T) {
	type got struct {
		header http.Header
		body   []byte
	}
	reqs := make(chan got, 10)
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		reqs <- got{r.Header.Clone(), b}
		w.WriteHeader(status)
		io.WriteString(w, "nope")
	}))
	defer srv.Close()

	n, err := New(0, Config{Type: "webhook", URL: srv.URL, Secret: "s3cret"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n.Name() != "webhook-0" {
		t.Errorf("Name = %q", n.Name())
	}
	ev := Event{Kind: "trigger", Page: testPage(), At: testPage().Opened, Delivery: 17}
	if err := n.Send(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	r := <-reqs
	ts := r.header.Get("X-Opsbot-Timestamp")
	if sec, err := strconv.ParseInt(ts, 10, 64); err != nil || time.Since(time.Unix(sec, 0)).Abs() > time.Minute {
		t.Errorf("X-Opsbot-Timestamp = %q", ts)
	}
	if sig := r.header.Get("X-Opsbot-Signature"); sig != Signature([]byte("s3cret"), ts, r.body) || len(sig) != len("sha256=")+64 {
		t.Errorf("X-Opsbot-Signature = %q, want the HMAC of timestamp.body", sig)
	}
	if r.header.Get("Content-Type") != "application/json" || r.header.Get("X-Opsbot-Delivery") != "17" || r.header.Get("X-Opsbot-Event") != "page.trigger" {
		t.Errorf("headers = %v", r.header)
	}
	var body WebhookBody
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Event != "trigger" || body.Delivery != 17 || body.Page.ID != "P-3" || body.Page.Target != "alice" || body.Page.Text != testPage().Text ||
		body.Page.Service != "playlist" || body.Page.State != "open" || body.Page.NextEscalation == nil || body.Summary != "P-3 page from bob to alice: [playlist] 500s on /play — ça brûle" {
		t.Errorf("body = %s", r.body)
	}

	// 5xx and 429 are retried, other 4xx are not.
	for code, perm := range map[int]bool{500: false, 503: false, 429: false, 408: false, 400: true, 404: true, 410: true} {
		status = code
		err := n.Send(context.Background(), ev)
		<-reqs
		if err == nil || IsPermanent(err) != perm {
			t.Errorf("HTTP %d: err %v, permanent %v; want permanent %v", code, err, IsPermanent(err), perm)
		}
	}
	// Without a secret there is no signature; an unreachable receiver is a retryable error.
	n2, _ := New(1, Config{Type: "webhook", URL: srv.URL}, nil)
	status = 204
	if err := n2.Send(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if r := <-reqs; r.header.Get("X-Opsbot-Signature") != "" {
		t.Errorf("unsigned webhook sent a signature")
	}
	srv.Close()
	if err := n2.Send(context.Background(), ev); err == nil || IsPermanent(err) {
		t.Errorf("closed receiver: %v, want a retryable error", err)
	}
}

func TestSignatureKnownValue(t *testing.T) {
	// printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
	got := Signature([]byte("secret"), "1700000000", []byte(`{"a":1}`))
	if got != "sha256=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686" {
		t.Errorf("Signature = %q", got)
	}
}
