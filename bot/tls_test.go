package bot

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/opsbot/opsbot/bot/irctest"
)

// tlsProxy terminates TLS with a self-signed certificate for 127.0.0.1 and forwards to backend in plain text.
func tlsProxy(t *testing.T, backend string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "irc.test"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", backend)
			if err != nil {
				c.Close()
				continue
			}
			go func() { io.Copy(b, c); b.Close() }()
			go func() { io.Copy(c, b); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

func TestE2ETLSVerifiesCertificates(t *testing.T) {
	n := irctest.Start(t)
	addr := tlsProxy(t, n.Addr)
	watcher := joinedClient(t, n, "wendy", false)

	// Verification on: a self-signed certificate is refused, the bot never joins.
	o := testOptions(t, addr)
	o.TLS = true
	strict := startBot(t, o)
	if _, ok := watcher.Wait(2*time.Second, func(l irctest.Line) bool { return l.Msg.Command == "JOIN" }); ok {
		t.Fatal("bot joined over TLS with an unverifiable certificate")
	}
	if st := strict.t.IRCStatus(); st.Connected {
		t.Fatal("bot reports connected although the certificate could not be verified")
	}
	strict.stop(t)

	// tls_insecure_skip_verify = true: the same server is accepted, and commands work over TLS.
	o.TLSInsecure = true
	lax := startBot(t, o)
	lax.waitJoined(t, "#operations")
	watcher.Say("#operations", "!status")
	if l := watcher.Expect(wait, irctest.FromContaining("opsbot", "opsbot test")); !strings.Contains(l.Text(), "connected to "+addr) {
		t.Fatalf("!status over TLS = %q", l.Text())
	}
}

func TestE2EHealthz(t *testing.T) {
	n := irctest.Start(t)
	g := newGate(t, n.Addr)
	rb := startBot(t, testOptions(t, g.Addr()))
	rb.waitJoined(t, "#operations")
	url := "http://" + rb.HTTPAddr() + "/healthz"
	if code, body := httpGet(t, url); code != 200 || strings.TrimSpace(body) != "ok" {
		t.Fatalf("/healthz while connected = %d %q", code, body)
	}
	g.setOpen(false)
	g.closeAll() // the link dies and the bot cannot reconnect
	deadline := time.Now().Add(wait)
	for {
		code, body := httpGet(t, url)
		if code == 503 && strings.Contains(body, "irc: not connected to "+g.Addr()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz while disconnected = %d %q, want 503 with the reason", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	g.setOpen(true)
	rb.waitJoined(t, "#operations")
	if code, _ := httpGet(t, url); code != 200 {
		t.Fatalf("/healthz after reconnecting = %d", code)
	}
}
