#!/usr/bin/env python3
"""Round trips through an IRC server with plain, single-threaded clients, each in its own process.

make bench's cross-check of the bot's read latency against a floor that shares nothing with Go's scheduler:
  rtt.py echo <host:port> <nick>                echo every PRIVMSG back to its sender ("pong")
  rtt.py client <host:port> <nick> <echo> <n>   n sequential round trips each: to the echo client, !oncall
                                                 to the bot in private, and !oncall in #operations; prints
                                                 one line of microseconds per case: "<case> <p50> <p99>"
"""
import socket
import sys
import time


def connect(addr, nick):
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = s.makefile("rb")
    s.sendall(f"NICK {nick}\r\nUSER {nick} 0 * :{nick}\r\n".encode())
    wait(s, f, lambda l: " 001 " in l)
    s.sendall(b"PING :synced\r\n")  # past the MOTD and the rest of the welcome
    wait(s, f, lambda l: " PONG " in l and "synced" in l)
    return s, f


def wait(s, f, match):
    while True:
        line = f.readline().decode(errors="replace")
        if not line:
            sys.exit("connection closed")
        if line.startswith("PING"):
            s.sendall(("PONG" + line[4:]).encode())
            continue
        if match(line):
            return line


def from_(nick):
    return lambda l: l.startswith(":" + nick + "!") and (" PRIVMSG " in l or " NOTICE " in l)


def echo(addr, nick):
    s, f = connect(addr, nick)
    print("ready", flush=True)
    while True:
        line = wait(s, f, lambda l: " PRIVMSG " in l)
        sender = line[1:].split("!", 1)[0]
        s.sendall(f"PRIVMSG {sender} :pong\r\n".encode())


def client(addr, nick, echo_nick, n):
    s, f = connect(addr, nick)
    s.sendall(b"JOIN #operations\r\n")
    wait(s, f, lambda l: " 366 " in l)  # end of NAMES: joined
    cases = [("floor", echo_nick, "ping", echo_nick), ("private", "opsbot", "oncall", "opsbot"),
             ("channel", "#operations", "!oncall", "opsbot")]
    for name, target, text, replier in cases:
        msg = f"PRIVMSG {target} :{text}\r\n".encode()
        for _ in range(20):  # warm up
            s.sendall(msg)
            wait(s, f, from_(replier))
        d = []
        for _ in range(n):
            t0 = time.perf_counter()
            s.sendall(msg)
            wait(s, f, from_(replier))
            d.append(time.perf_counter() - t0)
        d.sort()
        print(f"{name} {d[len(d) // 2] * 1e6:.0f} {d[len(d) * 99 // 100] * 1e6:.0f}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "echo":
        echo(sys.argv[2], sys.argv[3])
    else:
        client(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
