"""Drives `gearbx chat` in a pseudo-terminal, as a person would: a question and its answer,
Ctrl-C during a second answer, then /exit. Prints what the terminal showed between prompts as
JSON: {"segments": [...], "status": exit status}. Usage: chat_pty.py COMMAND [ARG...]"""
import json
import os
import pty
import re
import sys
import time

PROMPT = b"you> "


def main(argv):
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    buf = bytearray()

    def read_until(pred, timeout):
        deadline = time.time() + timeout
        while not pred(buf):
            if time.time() > deadline:
                raise SystemExit("timed out; the terminal showed: " + buf.decode("utf-8", "replace"))
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                raise SystemExit("the program ended early; the terminal showed: " + buf.decode("utf-8", "replace"))
            if not chunk:
                raise SystemExit("end of output; the terminal showed: " + buf.decode("utf-8", "replace"))
            buf.extend(chunk)

    segments = []

    def take():
        segments.append(buf.decode("utf-8", "replace"))
        buf.clear()

    read_until(lambda b: PROMPT in b, 120)
    take()
    os.write(fd, b"What is 347 + 128?\n")
    read_until(lambda b: b.count(b"\n") >= 1 and b.endswith(PROMPT), 120)
    take()
    os.write(fd, b"What is 512 + 256?\n")
    # the question's echo, then a few characters of the answer: Ctrl-C while it is being written
    read_until(lambda b: b"\n" in b and len(re.sub(rb"\x1b\[[0-9;]*m", b"", b.split(b"\n", 1)[1]).strip()) >= 6, 120)
    os.write(fd, b"\x03")
    read_until(lambda b: b.endswith(PROMPT), 60)
    take()
    os.write(fd, b"/exit\n")
    try:
        while os.read(fd, 4096):
            pass
    except OSError:
        pass
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"segments": segments, "status": os.waitstatus_to_exitcode(status)}))


if __name__ == "__main__":
    main(sys.argv[1:])
