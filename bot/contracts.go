package bot

import (
	"github.com/opsbot/opsbot/commands"
	"github.com/opsbot/opsbot/store"
)

// The contracts the incidents family provides on the store.
var (
	_ commands.Freezes   = (*store.Store)(nil)
	_ commands.Incidents = (*store.Store)(nil)
)

// contract returns v as the contract T when v implements it, else nil: a family that is not built in reads
// as "no data" to the families that consume its contract.
func contract[T any](v any) T {
	c, _ := v.(T)
	return c
}

// The contracts the services family provides on the store.
var (
	_ commands.Catalog = (*store.Store)(nil)
	_ commands.SLOs    = (*store.Store)(nil)
	_ commands.Deploys = (*store.Store)(nil)
)
