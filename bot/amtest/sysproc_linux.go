package amtest

import (
	"os/exec"
	"runtime"
	"syscall"
)

// sysProcAttr puts the Alertmanager in its own process group (Stop signals the group) and has the kernel
// kill it when the test binary dies without cleanup (a panic, a -timeout), so none outlives its test.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// startCmd starts cmd and closes exited once it has exited. Pdeathsig fires when the OS thread that
// started the child ends, not the process, and Go ends a thread when a goroutine exits while locked to it:
// so the child is started from a goroutine that keeps its thread locked (no other goroutine can run there
// and end it) until the child has exited.
func startCmd(cmd *exec.Cmd, exited chan struct{}) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			errc <- err
			return
		}
		errc <- nil
		_ = cmd.Wait()
		close(exited)
	}()
	return <-errc
}
