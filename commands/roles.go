package commands

import (
	"strings"
	"sync"
)

// Roles maps accounts to roles. Accounts are compared casefolded with the network's CASEMAPPING.
type Roles struct {
	mu       sync.RWMutex
	fold     func(string) string
	admins   []string
	ops      []string
	rawAdmin []string
	rawOps   []string
}

// NewRoles builds the role table; fold casefolds account names (nil: RFC 1459 casemapping).
func NewRoles(admins, ops []string, fold func(string) string) *Roles {
	r := &Roles{rawAdmin: admins, rawOps: ops}
	r.SetFold(fold)
	return r
}

// SetFold changes the casefolding (when the server announces its CASEMAPPING).
func (r *Roles) SetFold(fold func(string) string) {
	if fold == nil {
		fold = FoldRFC1459
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fold = fold
	r.admins = foldAll(fold, r.rawAdmin)
	r.ops = foldAll(fold, r.rawOps)
}

// Fold casefolds a name with the current casemapping.
func (r *Roles) Fold(s string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.fold(s)
}

func foldAll(fold func(string) string, in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = fold(s)
	}
	return out
}

// Of returns the caller's role.
func (r *Roles) Of(c Caller) Role {
	if c.Anonymous() {
		return RoleAnyone
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	a := r.fold(c.Account)
	for _, x := range r.admins {
		if x == a {
			return RoleAdmin
		}
	}
	for _, x := range r.ops {
		if x == a {
			return RoleOps
		}
	}
	return RoleDeveloper
}

// Ops lists the ops accounts (admins included), as configured.
func (r *Roles) Ops() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	seen := map[string]bool{}
	var out []string
	for _, l := range [][]string{r.rawOps, r.rawAdmin} {
		for _, a := range l {
			if f := r.fold(a); !seen[f] {
				seen[f] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// FoldRFC1459 casefolds per CASEMAPPING=rfc1459: ASCII letters plus []\~ as {}|^.
func FoldRFC1459(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z':
			return r + 32
		case r == '[':
			return '{'
		case r == ']':
			return '}'
		case r == '\\':
			return '|'
		case r == '~':
			return '^'
		}
		return r
	}, s)
}

// FoldASCII casefolds per CASEMAPPING=ascii.
func FoldASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 32
		}
		return r
	}, s)
}

// FoldFor returns the casefolding for a CASEMAPPING token; unknown mappings (e.g. rfc8265) fold Unicode case.
func FoldFor(mapping string) func(string) string {
	switch strings.ToLower(mapping) {
	case "ascii":
		return FoldASCII
	case "rfc1459", "", "strict-rfc1459":
		return FoldRFC1459
	default:
		return strings.ToLower
	}
}
