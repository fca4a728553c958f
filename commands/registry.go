// Package commands is opsbot's chat grammar: the command registry (data), the dispatcher that parses, checks
// and runs commands, and one file per command family. It knows neither IRC nor bbolt: replies go to a
// Replier, and records go to the store through the small interfaces declared here.
package commands

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Role is what a caller may do. Higher roles include the lower ones.
type Role int

// Roles, lowest first.
const (
	RoleAnyone    Role = iota // anonymous users: read only
	RoleDeveloper             // any logged-in account
	RoleOps                   // accounts in auth.ops
	RoleAdmin                 // accounts in auth.admins
)

// String is the role's name as shown in help and refusals.
func (r Role) String() string {
	switch r {
	case RoleAnyone:
		return "anyone"
	case RoleDeveloper:
		return "developer"
	case RoleOps:
		return "ops"
	case RoleAdmin:
		return "admin"
	}
	return fmt.Sprintf("role(%d)", int(r))
}

// Flag declares a --flag a command accepts.
type Flag struct {
	Name  string
	Value bool // takes a value (--name v or --name=v); otherwise a boolean switch
}

// Handler runs a command. It writes its answer to w; a *UserError it returns is shown to the caller as is,
// any other error as an internal error with a log reference.
type Handler func(ctx context.Context, c *Call, w Replier) error

// Command is one entry of the registry.
type Command struct {
	Name    string   // full name, e.g. "request open"
	Aliases []string // other full names, e.g. "req open"
	Args    string   // argument syntax for usage, e.g. "<text> [--service S] [--urgent]"
	Help    string   // one sentence
	Role    Role
	// Write marks commands that change state: they are refused for anonymous callers and audited.
	Write   bool
	MinArgs int
	MaxArgs int // -1: unlimited
	Flags   []Flag
	Run     Handler
	// Page is the web page that shows what the command lists ("/board"): a channel reply cut at bot.max_lines
	// ends "... and N more (<its URL>)" when web.base_url is set. "" is the overview.
	Page string
}

// Family is the command's first word ("request" for "request open").
func (c *Command) Family() string {
	f, _, _ := strings.Cut(c.Name, " ")
	return f
}

// Usage is the usage line with the given prefix.
func (c *Command) Usage(prefix string) string {
	if c.Args == "" {
		return prefix + c.Name
	}
	return prefix + c.Name + " " + c.Args
}

func (c *Command) flag(name string) (Flag, bool) {
	for _, f := range c.Flags {
		if f.Name == name {
			return f, true
		}
	}
	return Flag{}, false
}

// Registry holds the commands by name and alias, in registration order.
type Registry struct {
	byName   map[string]*Command
	ordered  []*Command
	families []string
}

// NewRegistry builds a registry; a duplicate name or alias is an error.
func NewRegistry(cmds ...*Command) (*Registry, error) {
	r := &Registry{byName: map[string]*Command{}}
	seenFamily := map[string]bool{}
	for _, c := range cmds {
		if c.Run == nil {
			return nil, fmt.Errorf("commands: %q has no handler", c.Name)
		}
		if c.MaxArgs >= 0 && c.MaxArgs < c.MinArgs {
			return nil, fmt.Errorf("commands: %q: MaxArgs < MinArgs", c.Name)
		}
		for _, n := range append([]string{c.Name}, c.Aliases...) {
			if n != strings.ToLower(n) || strings.TrimSpace(n) != n || n == "" {
				return nil, fmt.Errorf("commands: bad command name %q", n)
			}
			if _, dup := r.byName[n]; dup {
				return nil, fmt.Errorf("commands: duplicate command name or alias %q", n)
			}
			r.byName[n] = c
		}
		r.ordered = append(r.ordered, c)
		if f := c.Family(); !seenFamily[f] {
			seenFamily[f] = true
			r.families = append(r.families, f)
		}
	}
	return r, nil
}

// Lookup finds a command by full name or alias.
func (r *Registry) Lookup(name string) (*Command, bool) {
	c, ok := r.byName[name]
	return c, ok
}

// Families lists the first words of all commands, in registration order.
func (r *Registry) Families() []string { return r.families }

// InFamily lists the commands of a family, in registration order.
func (r *Registry) InFamily(family string) []*Command {
	var out []*Command
	for _, c := range r.ordered {
		if c.Family() == family {
			out = append(out, c)
		}
	}
	return out
}

// Commands lists every command in registration order.
func (r *Registry) Commands() []*Command { return r.ordered }

// Suggest returns the known name closest to name (edit distance <= 2), or "".
func Suggest(name string, known []string) string {
	best, bestD := "", 3
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	for _, k := range sorted {
		if d := editDistance(name, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the edit distance between a and b, by runes, counting the swap of two neighbours as one
// edit (optimal string alignment): "opne" is one edit from "open", as typing makes it.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1) // row i-2, for swaps
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
