package commands

import "github.com/opsbot/opsbot/commands/chat"

// Roles maps accounts to roles. Accounts are compared casefolded with the network's CASEMAPPING (Names),
// which may change when the bot connects; the configured lists are kept as written.
type Roles struct {
	names  *chat.Casemap
	admins []string
	ops    []string
}

// NewRoles builds the role table over the network's casefolding (nil: RFC 1459 until a Casemap is shared).
func NewRoles(admins, ops []string, names *chat.Casemap) *Roles {
	if names == nil {
		names = &chat.Casemap{}
	}
	return &Roles{names: names, admins: admins, ops: ops}
}

// Names is the network's casefolding the roles compare with.
func (r *Roles) Names() *chat.Casemap { return r.names }

// Fold casefolds a name with the network's casemapping.
func (r *Roles) Fold(s string) string { return r.names.Fold(s) }

// Same reports whether two account or nick names are the same on this network.
func (r *Roles) Same(a, b string) bool { return r.names.Equal(a, b) }

// Of returns the caller's role.
func (r *Roles) Of(c Caller) Role {
	if c.Anonymous() {
		return RoleAnyone
	}
	a := r.names.Fold(c.Account)
	for _, x := range r.admins {
		if r.names.Fold(x) == a {
			return RoleAdmin
		}
	}
	for _, x := range r.ops {
		if r.names.Fold(x) == a {
			return RoleOps
		}
	}
	return RoleDeveloper
}

// Ops lists the ops accounts (admins included), as configured, each once.
func (r *Roles) Ops() []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range [][]string{r.ops, r.admins} {
		for _, a := range l {
			if f := r.names.Fold(a); !seen[f] {
				seen[f] = true
				out = append(out, a)
			}
		}
	}
	return out
}
