//go:build !linux

package amtest

import (
	"os/exec"
	"syscall"
)

// sysProcAttr puts the Alertmanager in its own process group (Stop signals the group).
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// startCmd starts cmd and closes exited once it has exited.
func startCmd(cmd *exec.Cmd, exited chan struct{}) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	return nil
}
