package commands

import (
	"time"
)

// Deps is what the command families need from the running bot.
type Deps struct {
	Store    Ledger
	Status   StatusSource
	Prefix   string
	Version  string
	Started  time.Time
	Insecure bool // auth.require_account = false: nicks are trusted
	Now      func() time.Time
	Location *time.Location
}

// All builds the registry of every command family. It is the one place where commands are registered.
func All(d Deps) (*Registry, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Location == nil {
		d.Location = time.UTC
	}
	var reg *Registry
	cmds := []*Command{}
	cmds = append(cmds, helpCommands(d, func() *Registry { return reg })...)
	cmds = append(cmds, statusCommands(d)...)
	var err error
	reg, err = NewRegistry(cmds...)
	return reg, err
}
