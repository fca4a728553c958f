package bot

import (
	"context"
	"time"
)

// jobTick is how often the scheduler looks for due jobs.
const jobTick = time.Second

// runJobs runs the families' periodic jobs until ctx ends, each at most once per its interval, one at a time.
// A job that fails is logged and retried at its next interval; a job that panics is recovered.
func (b *Bot) runJobs(ctx context.Context) {
	if len(b.set.Jobs) == 0 {
		return
	}
	last := make([]time.Time, len(b.set.Jobs))
	t := time.NewTicker(jobTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := b.o.Now()
		for i, j := range b.set.Jobs {
			if !last[i].IsZero() && now.Sub(last[i]) < j.Every {
				continue
			}
			last[i] = now
			b.runJob(ctx, j.Name, func(ctx context.Context) error { return j.Run(ctx, now) })
		}
	}
}

func (b *Bot) runJob(ctx context.Context, name string, f func(context.Context) error) {
	defer func() {
		if r := recover(); r != nil {
			b.o.Log.Error("job panicked", "job", name, "panic", r)
		}
	}()
	jctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := f(jctx); err != nil {
		b.o.Log.Error("job failed", "job", name, "err", err)
	}
}
