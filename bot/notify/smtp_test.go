package notify

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"testing"
)

// fakeSMTP is a small SMTP server (RFC 5321) for tests: EHLO, optional STARTTLS (RFC 3207), optional AUTH
// PLAIN after TLS (RFC 4954), MAIL, RCPT, DATA, RSET, NOOP, QUIT. It records every accepted message.
type fakeSMTP struct {
	ln         net.Listener
	tls        *tls.Config // nil: STARTTLS not offered
	user, pass string      // non-empty: AUTH PLAIN offered after STARTTLS, and required
	rcptReply  string      // non-empty: the answer to every RCPT (e.g. "550 5.1.1 no such user")
	refuse     string      // an address whose RCPT gets 550
	dropQuit   bool        // hang up on QUIT without answering

	mu    sync.Mutex
	mails []fakeMail
	wg    sync.WaitGroup
}

type fakeMail struct {
	From, AuthUser string
	To             []string
	Data           string
	TLS            bool
}

func startFakeSMTP(t *testing.T, f *fakeSMTP) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.ln = ln
	f.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.wg.Go(func() { f.session(c) })
		}
	})
	t.Cleanup(func() { ln.Close(); f.wg.Wait() })
	return ln.Addr().String()
}

func (f *fakeSMTP) session(conn net.Conn) {
	defer conn.Close()
	tp := textproto.NewConn(conn)
	tp.PrintfLine("220 fake.test ESMTP ready")
	var m fakeMail
	isTLS, authed := false, f.user == ""
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			exts := []string{"fake.test greets " + arg, "8BITMIME", "SIZE 10485760"}
			if f.tls != nil && !isTLS {
				exts = append(exts, "STARTTLS")
			}
			if f.user != "" && isTLS {
				exts = append(exts, "AUTH PLAIN")
			}
			for i, e := range exts {
				sep := "-"
				if i == len(exts)-1 {
					sep = " "
				}
				tp.PrintfLine("250%s%s", sep, e)
			}
		case "STARTTLS":
			if f.tls == nil || isTLS {
				tp.PrintfLine("502 5.5.1 not available")
				continue
			}
			tp.PrintfLine("220 2.0.0 ready to start TLS")
			tc := tls.Server(conn, f.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			conn, tp, isTLS, m = tc, textproto.NewConn(tc), true, fakeMail{} // RFC 3207: forget everything
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			if f.user == "" || !isTLS || !strings.EqualFold(mech, "PLAIN") {
				tp.PrintfLine("504 5.5.4 unrecognized authentication type")
				continue
			}
			raw, _ := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(raw), "\x00")
			if len(parts) != 3 || parts[1] != f.user || parts[2] != f.pass {
				tp.PrintfLine("535 5.7.8 authentication credentials invalid")
				continue
			}
			authed, m.AuthUser = true, parts[1]
			tp.PrintfLine("235 2.7.0 authentication successful")
		case "MAIL":
			if !authed {
				tp.PrintfLine("530 5.7.0 authentication required")
				continue
			}
			m.From = angle(arg)
			tp.PrintfLine("250 2.1.0 ok")
		case "RCPT":
			if f.refuse != "" && angle(arg) == f.refuse {
				tp.PrintfLine("550 5.1.1 no such user")
				continue
			}
			if f.rcptReply != "" {
				tp.PrintfLine("%s", f.rcptReply)
				continue
			}
			m.To = append(m.To, angle(arg))
			tp.PrintfLine("250 2.1.5 ok")
		case "DATA":
			if m.From == "" || len(m.To) == 0 {
				tp.PrintfLine("503 5.5.1 need MAIL and RCPT first")
				continue
			}
			tp.PrintfLine("354 end data with <CR><LF>.<CR><LF>")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			m.Data, m.TLS = string(data), isTLS
			f.mu.Lock()
			f.mails = append(f.mails, m)
			f.mu.Unlock()
			m = fakeMail{AuthUser: m.AuthUser}
			tp.PrintfLine("250 2.0.0 queued")
		case "RSET":
			m = fakeMail{AuthUser: m.AuthUser}
			tp.PrintfLine("250 2.0.0 ok")
		case "NOOP":
			tp.PrintfLine("250 2.0.0 ok")
		case "QUIT":
			if !f.dropQuit {
				tp.PrintfLine("221 2.0.0 bye")
			}
			return
		default:
			tp.PrintfLine("502 5.5.2 command not recognized")
		}
	}
}

// angle is the path in "FROM:<a@b> BODY=8BITMIME".
func angle(arg string) string {
	_, rest, _ := strings.Cut(arg, "<")
	path, _, _ := strings.Cut(rest, ">")
	return path
}

func (f *fakeSMTP) received() []fakeMail {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeMail(nil), f.mails...)
}

// readMail parses a received message and decodes its subject and body.
func readMail(t *testing.T, data string) (subject, body string, h mail.Header) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v\n%s", err, data)
	}
	subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	return subject, string(b), msg.Header
}

func TestSMTPPlainWithoutSTARTTLS(t *testing.T) {
	f := &fakeSMTP{}
	addr := startFakeSMTP(t, f)
	n, err := New(2, Config{Type: "smtp", SMTPAddr: addr, From: "opsbot <opsbot@example.test>", To: []string{"ops@example.test", "Carol <carol@example.test>"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := testPage()
	if err := n.Send(context.Background(), Event{Kind: "trigger", Page: p, At: p.Opened, Delivery: 9}); err != nil {
		t.Fatal(err)
	}
	got := f.received()
	if len(got) != 1 || got[0].TLS || got[0].From != "opsbot@example.test" || strings.Join(got[0].To, ",") != "ops@example.test,carol@example.test" {
		t.Fatalf("received %+v", got)
	}
	subject, body, h := readMail(t, got[0].Data)
	if subject != "[opsbot] P-3 page from bob to alice: [playlist] 500s on /play — ça brûle" {
		t.Errorf("Subject = %q", subject)
	}
	for _, want := range []string{"Page:     P-3 (open)", "Service:  playlist", "Message:  500s on /play — ça brûle", "Paged:    alice", "Acknowledge on IRC: ack P-3"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
	if h.Get("Message-Id") != "<opsbot.P-3.trigger.9@opsbot>" || h.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("headers = %v", h)
	}
}

func TestSMTPSTARTTLSAndAuth(t *testing.T) {
	cert, pool := testCert(t)
	f := &fakeSMTP{tls: &tls.Config{Certificates: []tls.Certificate{cert}}, user: "opsbot", pass: "pw"}
	addr := startFakeSMTP(t, f)
	cfg := Config{Type: "smtp", SMTPAddr: addr, From: "opsbot@example.test", To: []string{"ops@example.test"}, Username: "opsbot", Password: "pw",
		TLS: &tls.Config{RootCAs: pool}}
	n, err := New(0, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := testPage()
	p.State, p.AckedBy, p.AckedAt = "acked", "carol", p.Opened.Add(2*60e9)
	if err := n.Send(context.Background(), Event{Kind: "acknowledge", Page: p, At: p.AckedAt, Delivery: 10}); err != nil {
		t.Fatal(err)
	}
	got := f.received()
	if len(got) != 1 || !got[0].TLS || got[0].AuthUser != "opsbot" {
		t.Fatalf("received %+v, want one message over TLS, logged in", got)
	}
	if subject, body, _ := readMail(t, got[0].Data); subject != "[opsbot] P-3 acked by carol: [playlist] 500s on /play — ça brûle" || !strings.Contains(body, "Acked by: carol") {
		t.Errorf("ack mail: %q\n%s", subject, body)
	}
	// Wrong password: 535 is permanent. An untrusted certificate is a (retryable) TLS failure; nothing sent.
	cfg.Password = "wrong"
	n, _ = New(0, cfg, nil)
	if err := n.Send(context.Background(), Event{Kind: "trigger", Page: p}); !IsPermanent(err) {
		t.Errorf("wrong password: %v, want permanent", err)
	}
	cfg.Password, cfg.TLS = "pw", nil
	n, _ = New(0, cfg, nil)
	if err := n.Send(context.Background(), Event{Kind: "trigger", Page: p}); err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "starttls") {
		t.Errorf("untrusted certificate: %v, want a retryable starttls error", err)
	}
	if len(f.received()) != 1 {
		t.Errorf("messages after failures = %d, want 1", len(f.received()))
	}
}

func TestSMTPRejections(t *testing.T) {
	f := &fakeSMTP{rcptReply: "550 5.1.1 no such user"}
	addr := startFakeSMTP(t, f)
	n, _ := New(0, Config{Type: "smtp", SMTPAddr: addr, From: "opsbot@example.test", To: []string{"nobody@example.test"}}, nil)
	if err := n.Send(context.Background(), Event{Kind: "trigger", Page: testPage()}); !IsPermanent(err) {
		t.Errorf("550 on RCPT: %v, want permanent", err)
	}
	f.rcptReply = "451 4.3.0 try again later"
	if err := n.Send(context.Background(), Event{Kind: "trigger", Page: testPage()}); err == nil || IsPermanent(err) {
		t.Errorf("451 on RCPT: %v, want retryable", err)
	}
	// A server that requires a login we do not have; a config with a bad address.
	f2 := &fakeSMTP{user: "x", pass: "y"}
	n, _ = New(0, Config{Type: "smtp", SMTPAddr: startFakeSMTP(t, f2), From: "opsbot@example.test", To: []string{"ops@example.test"}}, nil)
	if err := n.Send(context.Background(), Event{Kind: "trigger", Page: testPage()}); !IsPermanent(err) {
		t.Errorf("530 on MAIL: %v, want permanent", err)
	}
	if _, err := New(0, Config{Type: "smtp", SMTPAddr: "127.0.0.1:25", From: "not an address", To: []string{"ops@example.test"}}, nil); err == nil {
		t.Error("bad from address accepted")
	}
}

// One address the server refuses does not keep the page from the others; a message the server accepted is
// not sent again because the QUIT after it failed.
func TestSMTPPartialRecipientsAndLostQuit(t *testing.T) {
	f := &fakeSMTP{refuse: "gone@example.test", dropQuit: true}
	addr := startFakeSMTP(t, f)
	n, _ := New(0, Config{Type: "smtp", SMTPAddr: addr, From: "opsbot@example.test", To: []string{"gone@example.test", "ops@example.test"}}, nil)
	if err := n.Send(context.Background(), Event{Kind: "trigger", Page: testPage()}); err != nil {
		t.Fatalf("send with one refused address and a lost QUIT: %v, want delivered", err)
	}
	if got := f.received(); len(got) != 1 || len(got[0].To) != 1 || got[0].To[0] != "ops@example.test" {
		t.Fatalf("received %+v, want one message to ops@example.test", got)
	}
}
