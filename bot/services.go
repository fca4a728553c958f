package bot

import (
	"fmt"

	"github.com/opsbot/opsbot/store"
)

// seedServices applies [[services]] to the catalogue in one store transaction. Config only creates the
// services the store has never had; chat edits and removals win (store.SeedServices). What config could not
// apply is logged, so an operator who edits the file sees why nothing changed.
func seedServices(o *Options, st *store.Store) error {
	if len(o.Services) == 0 {
		return nil
	}
	rep, err := st.SeedServices(o.Services)
	if err != nil {
		return fmt.Errorf("services: %w", err)
	}
	if len(rep.Created) > 0 {
		o.Log.Info("services: created from config", "services", rep.Created)
	}
	for _, n := range rep.Notes {
		o.Log.Info("services: config entry not applied (the catalogue wins; edit it in chat with !service set)", "detail", n)
	}
	return nil
}
