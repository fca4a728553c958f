package store

import (
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// The buckets written in key order fill their pages: after 2,000 requests and audit entries in a row, the
// requests' index by open time is over 85% full and the audit log (written in batches) over 75%, where
// bbolt's default fill leaves them half empty. (Records of several hundred bytes gain less: bbolt's split
// leaves at least two for the next page, so a page that holds seven 540-byte requests keeps five.)
func TestAppendBucketsFillTheirPages(t *testing.T) {
	s := mustOpen(t)
	for i := range 2000 {
		if _, err := s.OpenRequest("bob", strings.Repeat("x", 150), "", false); err != nil {
			t.Fatal(err)
		}
		s.AuditLater(AuditEntry{Account: "bob", Command: "request open", Args: strings.Repeat("y", 100+i%50), Result: "ok"})
	}
	if _, err := s.AuditLog(1); err != nil {
		t.Fatal(err)
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, b := range []struct {
			name []byte
			want float64
		}{{bucketRequestsOpened, 0.85}, {bucketAudit, 0.75}} {
			st := tx.Bucket(b.name).Stats()
			if fill := float64(st.LeafInuse) / float64(st.LeafAlloc); fill < b.want {
				t.Errorf("%s: leaf pages %.0f%% full, want more than %.0f%%", b.name, 100*fill, 100*b.want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
