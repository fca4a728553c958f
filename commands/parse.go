package commands

import (
	"errors"
	"fmt"
	"strings"

	"github.com/opsbot/opsbot/commands/chat"
)

// Tokenize splits a command line on spaces; double quotes group words ("two words") and may be escaped
// inside quotes with a backslash. An unterminated quote is an error.
func Tokenize(s string) ([]string, error) {
	var (
		out     []string
		cur     strings.Builder
		inQuote bool
		have    bool // cur holds a token, possibly empty ("")
	)
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case inQuote && r == '\\' && i+1 < len(rs) && (rs[i+1] == '"' || rs[i+1] == '\\'):
			i++
			cur.WriteRune(rs[i])
		case r == '"':
			inQuote = !inQuote
			have = true
		case !inQuote && (r == ' ' || r == '\t'):
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if inQuote {
		return nil, errors.New("unterminated quote")
	}
	if have {
		out = append(out, cur.String())
	}
	return out, nil
}

// splitFlags separates declared --flags from positional arguments. "--" ends flag parsing.
func splitFlags(cmd *Command, toks []string) (args []string, flags map[string]string, err error) {
	flags = map[string]string{}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t == "--" {
			args = append(args, toks[i+1:]...)
			break
		}
		if !strings.HasPrefix(t, "--") || len(t) == 2 {
			args = append(args, t)
			continue
		}
		name, val, hasVal := strings.Cut(t[2:], "=")
		f, ok := cmd.flag(strings.ToLower(name))
		if !ok {
			return nil, nil, fmt.Errorf("unknown flag --%s", name)
		}
		if _, dup := flags[f.Name]; dup {
			return nil, nil, fmt.Errorf("flag --%s given twice", f.Name)
		}
		switch {
		case !f.Value && hasVal:
			return nil, nil, fmt.Errorf("flag --%s takes no value", f.Name)
		case !f.Value:
			flags[f.Name] = "true"
		case hasVal:
			flags[f.Name] = val
		case i+1 < len(toks):
			i++
			flags[f.Name] = toks[i]
		default:
			return nil, nil, fmt.Errorf("flag --%s needs a value", f.Name)
		}
	}
	return args, flags, nil
}

// parseID is chat.ParseID with its error as a *UserError for the caller.
func parseID(k chat.Kind, s string) (uint64, error) {
	id, err := chat.ParseID(k, s)
	if err != nil {
		return 0, Errorf("error: %v", err)
	}
	return id, nil
}
