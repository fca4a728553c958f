package store

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Buckets of the web pages' logins: one-time login links, browser sessions, and the tokens of the on-call
// calendar feeds. Login links and session ids are bearer secrets: only their SHA-256 is stored, so a copy of
// the database (a backup) lets nobody in. A calendar token is kept as given, because !oncall ical sends the
// same feed URL again; its hash is the index a feed request is looked up by.
var (
	bucketWebLogins          = []byte("web_logins")              // sha256(token) -> webLogin
	bucketWebSessions        = []byte("web_sessions")            // sha256(session id) -> WebSession
	bucketWebAccountSessions = []byte("web_sessions_by_account") // account 0x00 sha256(session id) -> nothing
	bucketICalAccounts       = []byte("ical_accounts")           // account -> ICalToken
	bucketICalTokens         = []byte("ical_tokens")             // sha256(token) -> account
)

var _ = registerBuckets(bucketWebLogins, bucketWebSessions, bucketWebAccountSessions, bucketICalAccounts, bucketICalTokens)

// webLogin is a one-time login link waiting to be used.
type webLogin struct {
	Account string    `json:"account"`
	Expires time.Time `json:"expires"`
}

// WebSession is a browser's login: the account it acts for, and until when.
type WebSession struct {
	Account string    `json:"account"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

// ICalToken is the secret in an account's calendar feed URL.
type ICalToken struct {
	Token   string    `json:"token"`
	Created time.Time `json:"created"`
}

// secretKey is the stored form of a bearer secret (a login link, a session id, a feed token).
func secretKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func accountSessionKey(account string, hash []byte) []byte {
	return append(append([]byte(account), 0), hash...)
}

// AddWebLogin stores a one-time login link for account, valid until expires.
func (s *Store) AddWebLogin(token, account string, expires time.Time) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketWebLogins), secretKey(token), webLogin{Account: account, Expires: expires.UTC()})
	})
	if err != nil {
		return fmt.Errorf("store: add web login: %w", err)
	}
	return nil
}

// WebLogin returns the account a login link is for, without using it up; a link that is unknown, used or
// expired at now is ErrNotFound.
func (s *Store) WebLogin(token string, now time.Time) (string, error) {
	var l webLogin
	err := s.db.View(func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bucketWebLogins), secretKey(token), &l)
		if err == nil && (!ok || !now.Before(l.Expires)) {
			err = ErrNotFound
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("store: web login: %w", err)
	}
	return l.Account, nil
}

// ConsumeWebLogin uses up a login link and opens a session with id session for its account, valid for ttl,
// in one transaction: a link works once, however many browsers try it at the same moment. A link that is
// unknown, used or expired at now is ErrNotFound, and nothing changes.
func (s *Store) ConsumeWebLogin(token, session string, now time.Time, ttl time.Duration) (WebSession, error) {
	var ws WebSession
	err := s.db.Update(func(tx *bolt.Tx) error {
		logins := tx.Bucket(bucketWebLogins)
		var l webLogin
		ok, err := getJSON(logins, secretKey(token), &l)
		if err != nil {
			return err
		}
		if !ok || !now.Before(l.Expires) {
			return ErrNotFound
		}
		if err := logins.Delete(secretKey(token)); err != nil {
			return err
		}
		ws = WebSession{Account: l.Account, Created: now.UTC(), Expires: now.Add(ttl).UTC()}
		h := secretKey(session)
		if err := putJSON(tx.Bucket(bucketWebSessions), h, ws); err != nil {
			return err
		}
		return tx.Bucket(bucketWebAccountSessions).Put(accountSessionKey(l.Account, h), nil)
	})
	if err != nil {
		return WebSession{}, fmt.Errorf("store: use web login: %w", err)
	}
	return ws, nil
}

// WebSession returns the session with id session; one that is unknown (ended, or another opsbot's) or
// expired at now is ErrNotFound.
func (s *Store) WebSession(session string, now time.Time) (WebSession, error) {
	var ws WebSession
	err := s.db.View(func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bucketWebSessions), secretKey(session), &ws)
		if err == nil && (!ok || !now.Before(ws.Expires)) {
			err = ErrNotFound
		}
		return err
	})
	if err != nil {
		return WebSession{}, fmt.Errorf("store: web session: %w", err)
	}
	return ws, nil
}

// EndWebSessions ends every login of account: its sessions (expired ones included) and its login links not
// yet used, so a link sent to the wrong window dies with them. It returns how many of each there were.
func (s *Store) EndWebSessions(account string) (sessions, links int, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		sessions = 0
		prefix := accountSessionKey(account, nil)
		byAccount, webSessions := tx.Bucket(bucketWebAccountSessions), tx.Bucket(bucketWebSessions)
		var keys [][]byte
		c := byAccount.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			if err := webSessions.Delete(k[len(prefix):]); err != nil {
				return err
			}
			if err := byAccount.Delete(k); err != nil {
				return err
			}
			sessions++
		}
		// Links live 10 minutes and expired ones are pruned hourly: the bucket is small enough to scan.
		var err error
		links, err = deleteWebLogins(tx, func(l webLogin) bool { return l.Account == account })
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("store: end web sessions of %s: %w", account, err)
	}
	return sessions, links, nil
}

// deleteWebLogins deletes the login links that dead picks and returns how many.
func deleteWebLogins(tx *bolt.Tx, dead func(webLogin) bool) (int, error) {
	logins := tx.Bucket(bucketWebLogins)
	var keys [][]byte
	err := logins.ForEach(func(k, v []byte) error {
		var l webLogin
		if err := jsonUnmarshal(v, &l); err != nil {
			return err
		}
		if dead(l) {
			keys = append(keys, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := logins.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// PruneWeb deletes the login links and sessions that expired before now, and returns how many.
func (s *Store) PruneWeb(now time.Time) (int, error) {
	var n int
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		n, err = deleteWebLogins(tx, func(l webLogin) bool { return !now.Before(l.Expires) })
		if err != nil {
			return err
		}
		sessions, byAccount := tx.Bucket(bucketWebSessions), tx.Bucket(bucketWebAccountSessions)
		var dead [][]byte
		var ended []WebSession
		err = sessions.ForEach(func(k, v []byte) error {
			var ws WebSession
			if err := jsonUnmarshal(v, &ws); err != nil {
				return err
			}
			if !now.Before(ws.Expires) {
				dead, ended = append(dead, bytes.Clone(k)), append(ended, ws)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for i, k := range dead {
			if err := sessions.Delete(k); err != nil {
				return err
			}
			if err := byAccount.Delete(accountSessionKey(ended[i].Account, k)); err != nil {
				return err
			}
		}
		n += len(dead)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: prune web logins: %w", err)
	}
	return n, nil
}

// ICalTokenOf returns account's calendar feed token, storing fresh as its token if it has none yet.
func (s *Store) ICalTokenOf(account, fresh string, now time.Time) (ICalToken, error) {
	var t ICalToken
	err := s.db.Update(func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bucketICalAccounts), []byte(account), &t)
		if err != nil || ok {
			return err
		}
		t = ICalToken{Token: fresh, Created: now.UTC()}
		return putICalToken(tx, account, t)
	})
	if err != nil {
		return ICalToken{}, fmt.Errorf("store: calendar token of %s: %w", account, err)
	}
	return t, nil
}

// ResetICalToken replaces account's calendar feed token with fresh: the old feed URL stops working.
func (s *Store) ResetICalToken(account, fresh string, now time.Time) (ICalToken, error) {
	t := ICalToken{Token: fresh, Created: now.UTC()}
	err := s.db.Update(func(tx *bolt.Tx) error {
		var old ICalToken
		ok, err := getJSON(tx.Bucket(bucketICalAccounts), []byte(account), &old)
		if err != nil {
			return err
		}
		if ok {
			if err := tx.Bucket(bucketICalTokens).Delete(secretKey(old.Token)); err != nil {
				return err
			}
		}
		return putICalToken(tx, account, t)
	})
	if err != nil {
		return ICalToken{}, fmt.Errorf("store: reset calendar token of %s: %w", account, err)
	}
	return t, nil
}

func putICalToken(tx *bolt.Tx, account string, t ICalToken) error {
	if err := putJSON(tx.Bucket(bucketICalAccounts), []byte(account), t); err != nil {
		return err
	}
	return tx.Bucket(bucketICalTokens).Put(secretKey(t.Token), []byte(account))
}

// ICalAccount returns the account whose calendar feed token this is; an unknown (or replaced) token is
// ErrNotFound.
func (s *Store) ICalAccount(token string) (string, error) {
	var account string
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketICalTokens).Get(secretKey(token))
		if v == nil {
			return ErrNotFound
		}
		account = string(v)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("store: calendar token: %w", err)
	}
	return account, nil
}
