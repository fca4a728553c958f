package chat

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind is the type of a record id.
type Kind string

// The id kinds and their prefixes.
const (
	KindRequest  Kind = "R"
	KindIncident Kind = "INC"
	KindPage     Kind = "P"
	KindDeploy   Kind = "D"
)

var kindNames = map[Kind]string{KindRequest: "request", KindIncident: "incident", KindPage: "page", KindDeploy: "deploy"}

// Name is the kind's word for people: "request", "incident".
func (k Kind) Name() string { return kindNames[k] }

// FormatID renders an id as users see it: R-12, INC-7.
func FormatID(k Kind, id uint64) string { return fmt.Sprintf("%s-%d", k, id) }

// ParseID accepts "R-12", "r12", "r-12" or "12" for kind R. Its error names the expected form and is meant
// for the person who typed the id: `"x" is not a request id (like R-12)`.
func ParseID(k Kind, s string) (uint64, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	if rest, ok := strings.CutPrefix(u, string(k)); ok {
		u = strings.TrimPrefix(rest, "-")
	}
	n, err := strconv.ParseUint(u, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%q is not a %s id (like %s-12)", s, k.Name(), k)
	}
	return n, nil
}
