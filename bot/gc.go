package bot

import (
	"log/slog"
	"runtime/debug"
)

// The garbage collector's settings for the running bot, unless the environment sets its own (GOGC,
// GOMEMLIMIT). The bot's live heap is a few MB, so with Go's defaults (GOGC=100, and a 4 MB minimum heap goal)
// it collects several times a second under load. A cycle's start stops the world, and while it marks, the
// goroutines that allocate help it; a cycle started inside a write transaction or under the outbound queue's
// lock held up every writer or every reply behind it, by 0.4 to 4 ms on a 2-core VM (execution traces of the
// benchmark). Five times the live heap between cycles makes them a quarter as frequent; the memory limit
// bounds the heap should the live heap grow, well under the resident-memory budget (see README, Benchmarks).
const (
	gcPercent     = 400
	gcMemoryLimit = 32 << 20
)

// TuneGC applies gcPercent and gcMemoryLimit where getenv has no GOGC or GOMEMLIMIT. The binary calls it at
// start, and the benchmarks' processes that stand for it.
func TuneGC(getenv func(string) string, log *slog.Logger) {
	if v := getenv("GOGC"); v != "" {
		log.Debug("gc: GOGC from the environment", "GOGC", v)
	} else {
		debug.SetGCPercent(gcPercent)
	}
	if v := getenv("GOMEMLIMIT"); v != "" {
		log.Debug("gc: GOMEMLIMIT from the environment", "GOMEMLIMIT", v)
	} else {
		debug.SetMemoryLimit(gcMemoryLimit)
	}
}
