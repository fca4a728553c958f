package commands

import (
	"context"
	"fmt"
	"time"
)

// RetentionConfig says how long the store keeps what it does not keep for good ([store] in the config).
// Zero keeps it forever.
type RetentionConfig struct {
	Audit      time.Duration // audit entries
	Deliveries time.Duration // deploy webhook delivery ids (idempotency)
}

// pruneBatch is one transaction's worth of pruning; pruneBudget bounds one run of the job, so that the jobs
// after it (page escalations, every second) wait at most that long, and writers never wait for more than
// one batch. A store upgraded with years of audit entries catches up over a few hours.
const (
	pruneBatch  = 1000
	pruneBudget = 100 * time.Millisecond
)

// retentionJob prunes the audit log and the delivery ids in small batches, every 10 seconds.
func (k *Core) retentionJob() []Job {
	if k.cfg.Retention.Audit <= 0 && k.cfg.Retention.Deliveries <= 0 {
		return nil
	}
	return []Job{{Name: "store retention", Every: 10 * time.Second, Run: k.prune}}
}

func (k *Core) prune(ctx context.Context, now time.Time) error {
	st := k.st
	deadline := time.Now().Add(pruneBudget) // real time: the job's own cost, whatever the bot's clock says
	audits, deliveries := 0, 0
	if r := k.cfg.Retention.Audit; r > 0 {
		for ctx.Err() == nil {
			n, err := st.PruneAudit(now.Add(-r), pruneBatch)
			if err != nil {
				return fmt.Errorf("store retention: %w", err)
			}
			audits += n
			if n < pruneBatch || time.Now().After(deadline) {
				break
			}
		}
	}
	if r := k.cfg.Retention.Deliveries; r > 0 {
		for ctx.Err() == nil && time.Now().Before(deadline) {
			n, more, err := st.PruneDeliveries(now.Add(-r), pruneBatch)
			if err != nil {
				return fmt.Errorf("store retention: %w", err)
			}
			deliveries += n
			if !more {
				break
			}
		}
	}
	if audits+deliveries > 0 {
		k.rt.Log.Debug("store retention: pruned", "audit_entries", audits, "webhook_deliveries", deliveries)
	}
	return nil
}
