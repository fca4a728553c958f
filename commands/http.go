package commands

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
)

// MaxBody bounds every HTTP request body (webhooks are small).
const MaxBody = 1 << 20

// WriteJSON answers v as indented JSON with the given status: every HTTP answer of opsbot's that is not a
// file or plain text goes through it.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// WriteError answers {"error": msg} with the given status: the one error body of every HTTP handler.
func WriteError(w http.ResponseWriter, status int, msg string) {
	WriteJSON(w, status, map[string]string{"error": msg})
}

// fail logs an internal error of an HTTP handler under a reference, tells rt.Failed, and answers 500 with
// the reference (the details stay in the log).
func (rt Runtime) fail(w http.ResponseWriter, what string, err error) {
	ref := newRef()
	rt.Failed(err)
	rt.Log.Error("http: "+what, "ref", ref, "err", err)
	WriteError(w, http.StatusInternalServerError, "internal error (ref "+ref+")")
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// FromAnotherSite reports a request a browser says another site made (Sec-Fetch-Site cross-site, or
// same-site: another port or subdomain of the same host). A page anywhere on the web can make the browser of
// someone on the bot's host send a GET to 127.0.0.1; without a token, such a request must not count as the
// machine's own. A client that does not send the header (curl, a script) is not affected.
func FromAnotherSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return true
	}
	return false
}

// LocalRequest reports whether r comes from a loopback address and names the server by a loopback address or
// localhost, as the API and the web pages require of a request they trust without a token: a page whose DNS
// name was rebound to 127.0.0.1 sends its own name as Host and is not let in.
func LocalRequest(r *http.Request) bool {
	loopback := func(host string) bool {
		ip := net.ParseIP(host)
		return ip != nil && ip.IsLoopback()
	}
	remote, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil || !loopback(remote) {
		return false
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	return strings.EqualFold(host, "localhost") || loopback(host)
}
