package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"strings"
	"time"

	"github.com/opsbot/opsbot/commands/chat"
)

// SMTP e-mails each event to a fixed list of addresses. It upgrades to TLS with STARTTLS whenever the server
// offers it (port 465 speaks TLS from the start), and logs in with AUTH PLAIN when a username is set, which
// net/smtp only allows over TLS or to localhost. 5xx answers are permanent failures, the rest are retried.
type SMTP struct {
	name     string
	addr     string
	from     string
	to       []string
	username string
	password string
	tls      *tls.Config
}

func newSMTP(name string, c Config) (*SMTP, error) {
	if _, _, err := net.SplitHostPort(c.SMTPAddr); err != nil || c.From == "" || len(c.To) == 0 {
		return nil, errors.New("needs smtp_addr (host:port), from and to")
	}
	for _, a := range append([]string{c.From}, c.To...) {
		if _, err := mail.ParseAddress(a); err != nil {
			return nil, fmt.Errorf("address %q: %v", a, err)
		}
	}
	return &SMTP{name: name, addr: c.SMTPAddr, from: c.From, to: c.To, username: c.Username, password: c.Password, tls: c.TLS}, nil
}

// Name implements Notifier.
func (s *SMTP) Name() string { return s.name }

// Send implements Notifier.
func (s *SMTP) Send(ctx context.Context, e Event) error {
	if err := s.send(ctx, e); err != nil {
		var tp *textproto.Error
		if errors.As(err, &tp) && tp.Code >= 500 {
			return Permanent(fmt.Errorf("%s: %w", s.name, err))
		}
		return fmt.Errorf("%s: %w", s.name, err)
	}
	return nil
}

func (s *SMTP) send(ctx context.Context, e Event) error {
	host, port, _ := net.SplitHostPort(s.addr)
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if s.tls != nil {
		cfg = s.tls.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline := time.Now().Add(time.Minute)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	if port == "465" {
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return err
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello(helloName()); err != nil {
		return err
	}
	if _, isTLS := conn.(*tls.Conn); !isTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(cfg); err != nil {
				return fmt.Errorf("starttls: %w", err)
			}
		}
	}
	if s.username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return Permanent(errors.New("server offers no AUTH but a username is configured"))
		}
		if err := c.Auth(smtp.PlainAuth("", s.username, s.password, host)); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	from, _ := mail.ParseAddress(s.from)
	if err := c.Mail(from.Address); err != nil {
		return err
	}
	// A recipient the server refuses for good (5xx) is left out, so one stale address does not keep the
	// page from the others; a temporary refusal (4xx) retries the whole message later.
	var rejected []string
	var rejection error
	for _, a := range s.to {
		to, _ := mail.ParseAddress(a)
		if err := c.Rcpt(to.Address); err != nil {
			var tp *textproto.Error
			if !errors.As(err, &tp) || tp.Code < 500 {
				return err
			}
			rejected, rejection = append(rejected, to.Address), err
		}
	}
	if len(rejected) == len(s.to) {
		return rejection
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(s.message(e)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	// The server has accepted the message: a failed QUIT must not make the task retry and mail it twice.
	_ = c.Quit()
	if len(rejected) > 0 {
		slog.Warn("notify: smtp recipients refused; the others got the page", "notifier", s.name, "refused", rejected, "err", rejection)
	}
	return nil
}

func helloName() string {
	if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \r\n") {
		return h
	}
	return "localhost"
}

// message is the e-mail: headers (subject encoded when not ASCII) and a quoted-printable text body.
func (s *SMTP) message(e Event) []byte {
	p, id := e.Page, e.Page.Name()
	at := e.At
	if at.IsZero() {
		at = time.Now()
	}
	var b bytes.Buffer
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	hdr("From", s.from)
	hdr("To", strings.Join(s.to, ", "))
	hdr("Subject", mime.QEncoding.Encode("utf-8", "[opsbot] "+chat.Sanitize(summary(e))))
	hdr("Date", at.Format(time.RFC1123Z))
	hdr("Message-ID", fmt.Sprintf("<opsbot.%s.%s.%d@opsbot>", id, e.Kind, e.Delivery))
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	hdr("X-Opsbot-Event", "page."+e.Kind)
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	line := func(format string, a ...any) { fmt.Fprintf(qp, format+"\r\n", a...) }
	line("%s", summary(e))
	line("")
	line("Page:     %s (%s)", id, p.State)
	if p.Service != "" {
		line("Service:  %s", p.Service)
	}
	line("Message:  %s", p.Text)
	line("Paged by: %s at %s", p.By, p.Opened.UTC().Format(time.RFC3339))
	line("Paged:    %s", strings.Join(p.Paged, ", "))
	if e.Note != "" {
		line("Note:     %s", e.Note)
	}
	for _, u := range p.Updates {
		line("Update:   %s %s: %s", u.At.UTC().Format(time.RFC3339), u.By, u.Text)
	}
	if p.AckedBy != "" {
		line("Acked by: %s at %s", p.AckedBy, p.AckedAt.UTC().Format(time.RFC3339))
	}
	if p.ResolvedBy != "" {
		line("Resolved: by %s at %s", p.ResolvedBy, p.ResolvedAt.UTC().Format(time.RFC3339))
	}
	if p.State == "open" {
		line("")
		line("Acknowledge on IRC: ack %s", id)
	}
	_ = qp.Close()
	return b.Bytes()
}
