"""redis-cli in interactive mode on a pseudo-terminal (so it loads its help with COMMAND DOCS
as it does for a person), typing PING, ECHO, CLIENT SETNAME/GETNAME, then quit. Usage:
python3 redis_cli_interactive.py REDIS_CLI PORT. Prints what the terminal showed."""
import os
import pty
import select
import sys
import time

redis_cli, port = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    # A dumb terminal: line editing off (no cursor position queries to answer), help still
    # loaded because stdin is a terminal.
    os.execve(redis_cli, [redis_cli, "-p", port], {"TERM": "dumb"})

output = b""


def read_until(needle, start=0, seconds=10):
    """Reads until `needle` appears after output[start]; False at the deadline or the end."""
    global output
    deadline = time.monotonic() + seconds
    while needle not in output[start:] and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                output += os.read(fd, 4096)
            except OSError:
                return False
    return needle in output[start:]


prompt = f"127.0.0.1:{port}> ".encode()
ok = read_until(prompt)
for line, answer in [("PING", b"PONG"), ("ECHO \"hello world\"", b"\"hello world\""),
                     ("CLIENT SETNAME cli-test", b"OK"), ("CLIENT GETNAME", b"\"cli-test\"")]:
    start = len(output)
    os.write(fd, line.encode() + b"\r")
    ok = ok and read_until(b"\n" + answer, start) and read_until(prompt, start)
os.write(fd, b"quit\r")
read_until(b"\0", len(output), 5)
_, status = os.waitpid(pid, 0)
sys.stdout.write(output.decode(errors="replace"))
sys.exit(0 if ok else 1)
