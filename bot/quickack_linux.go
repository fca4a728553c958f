package bot

import "syscall"

// quickAck has the kernel acknowledge what was just read at once rather than with a delayed ACK. IRC servers
// that leave Nagle's algorithm on (InspIRCd 3 among them) hold each small write to the bot until the previous
// one is acknowledged, and Linux delays that ACK by 40 ms or more while the bot has nothing to send: a command
// that follows a line the bot does not answer would wait for it. The mode does not stick (the kernel leaves it
// on its own), so it is set again after every read.
func quickAck(rc syscall.RawConn) {
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
