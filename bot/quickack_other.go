//go:build !linux

package bot

import "syscall"

// quickAck is Linux's TCP_QUICKACK (quickack_linux.go); elsewhere the kernel's own ACK timing stands.
func quickAck(syscall.RawConn) {}
