package bot

import (
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opsbot/opsbot/store"
)

// TestAPIRequestsFilters drives the request API without IRC: filters, paging, ids and errors.
func TestAPIRequestsFilters(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "opsbot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	o := testOptions(t, "127.0.0.1:1")
	o.APIToken = "tok"
	b, err := New(o, st)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		r, err := st.OpenRequest("bob", "job", "", i == 0)
		if err != nil {
			t.Fatal(err)
		}
		if i < 3 {
			if _, err := st.UpdateRequest(r.ID, store.RequestChange{Action: store.RequestFinish, By: "alice", ByOps: true}); err != nil {
				t.Fatal(err)
			}
		}
	}
	srv := httptest.NewServer(b.httpServer().Handler)
	defer srv.Close()
	get := func(path string, token bool) (int, string) {
		if token {
			return httpGetWith(t, srv.URL+path, map[string]string{"Authorization": "Bearer tok"})
		}
		return httpGet(t, srv.URL+path)
	}
	tests := []struct {
		path   string
		token  bool
		status int
		want   []string
	}{
		{"/api/v1/requests", false, 401, nil},
		{"/api/v1/requests", true, 200, []string{`"state": "open"`, `"total": 2`, `"ref": "R-4"`, `"ref": "R-5"`}},
		{"/api/v1/requests?state=done&per_page=2", true, 200, []string{`"total": 3`, `"ref": "R-3"`, `"ref": "R-2"`, `"lead_time_seconds": 0`}},
		{"/api/v1/requests?state=done&per_page=2&page=2", true, 200, []string{`"ref": "R-1"`, `"urgent": true`}},
		{"/api/v1/requests?state=all&page=1&per_page=1000", true, 200, []string{`"total": 5`}},
		{"/api/v1/requests?state=bogus", true, 400, []string{`"error": "state must be`}},
		{"/api/v1/requests?page=0", true, 400, []string{`"error"`}},
		{"/api/v1/requests?state=all&per_page=1001", true, 400, []string{`"error"`}},
		{"/api/v1/requests/r2", true, 200, []string{`"ref": "R-2"`, `"history": [`, `"action": "done"`}},
		{"/api/v1/requests/R-99", true, 404, []string{`"error": "no request R-99"`}},
		{"/api/v1/requests/xyz", true, 400, []string{`"error"`}},
	}
	for _, tt := range tests {
		status, body := get(tt.path, tt.token)
		if status != tt.status {
			t.Errorf("GET %s = %d %s, want %d", tt.path, status, body, tt.status)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s: body lacks %s:\n%s", tt.path, w, body)
			}
		}
	}
	if _, body := get("/api/v1/requests", true); strings.Contains(body, `"history"`) {
		t.Errorf("listing includes histories:\n%s", body)
	}
}
