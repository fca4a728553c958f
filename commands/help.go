package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/opsbot/opsbot/commands/chat"
)

// helpCommands is the help family; its text is generated from the registry.
func helpCommands(prefix string, reg func() *Registry) []*Command {
	return []*Command{{
		Name: "help", Args: "[command]", Help: "Lists the command families, or explains one command.",
		Role: RoleAnyone, MaxArgs: 2,
		Run: func(_ context.Context, c *Call, w Replier) error {
			r := reg()
			if len(c.Args) == 0 {
				w.Reply(fmt.Sprintf("commands: %s. Details: %shelp <command>", strings.Join(r.Families(), ", "), prefix))
				return nil
			}
			name := strings.ToLower(strings.TrimPrefix(strings.Join(c.Args, " "), prefix))
			subs := subcommands(r, name)
			if cmd, ok := r.Lookup(name); ok {
				line := helpLine(cmd, prefix)
				if len(subs) > 0 { // a command that is also a family (!service, !maint): its subcommands too
					line += fmt.Sprintf(" Also: %s (%shelp %s <subcommand>)", strings.Join(subs, ", "), prefix, name)
				}
				w.Reply(line)
				return nil
			}
			if len(subs) > 0 {
				w.Reply(fmt.Sprintf("%s%s: %s. Details: %shelp %s <subcommand>", prefix, name, strings.Join(subs, ", "), prefix, name))
				return nil
			}
			msg := fmt.Sprintf("error: no command %q (try %shelp)", chat.Truncate(name, 40), prefix)
			if s := Suggest(name, r.Families()); s != "" {
				msg = fmt.Sprintf("error: no command %q, did you mean %s?", chat.Truncate(name, 40), s)
			}
			return Errorf("%s", msg)
		},
	}}
}

// subcommands lists the subcommands of family name (request: open, list, ...), without the family's own
// command.
func subcommands(r *Registry, name string) []string {
	var subs []string
	for _, cmd := range r.InFamily(name) {
		if cmd.Name != name {
			subs = append(subs, strings.TrimPrefix(cmd.Name, name+" "))
		}
	}
	return subs
}

// helpLine is "usage: !request open <text> [--urgent] (developer) Opens a request to ops."
func helpLine(cmd *Command, prefix string) string {
	return fmt.Sprintf("usage: %s (%s) %s", cmd.Usage(prefix), cmd.Role, cmd.Help)
}
