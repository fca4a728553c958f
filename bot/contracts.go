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

// familyContracts are the contracts between command families as the bot wires them; the commands and the
// HTTP views use the same ones.
type familyContracts struct {
	catalog commands.Catalog
	pager   commands.Pager
	deploys commands.Deploys
	slos    commands.SLOs
}

// contractsOf finds the contracts the store implements; Options.Pager overrides the pager.
func contractsOf(o *Options, st *store.Store) familyContracts {
	fc := familyContracts{
		catalog: contract[commands.Catalog](st),
		pager:   contract[commands.Pager](st),
		deploys: contract[commands.Deploys](st),
		slos:    contract[commands.SLOs](st),
	}
	if o.Pager != nil {
		fc.pager = o.Pager
	}
	return fc
}
