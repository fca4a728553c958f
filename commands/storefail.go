package commands

import (
	"errors"
	"fmt"
	"syscall"
)

// storeFailure is the reply to a command whose database write failed (disk full, read-only or failing
// disk): what happened and the cause, without the file's path, and the ref of the log line.
func storeFailure(err error, ref string) string {
	cause := "write failed"
	var errno syscall.Errno
	if errors.As(err, &errno) {
		cause = errno.Error()
	}
	return fmt.Sprintf("error: could not save to the database (%s); ops: see the log (ref %s)", cause, ref)
}
