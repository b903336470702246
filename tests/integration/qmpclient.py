# SPDX-License-Identifier: MulanPSL-2.0
"""A small QMP client for the tests: a unix socket and json, nothing else.

QmpVm starts the VMM with -qmp and a serial console read on a thread
(lines kept in .lines); Qmp speaks to the socket: greeting, negotiate,
cmd() returning the reply and keeping the events that arrived on the way.
"""
import array
import json
import os
import socket
import subprocess
import threading
import time


class Qmp:
    def __init__(self, path, timeout=10.0, negotiate=True):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.buf = b""
        self.events = []
        self.greeting = self.recv()
        if negotiate:
            rep = self.cmd("qmp_capabilities")
            assert rep == {"return": {}}, rep

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def raw_line(self):
        """One message as sent: bytes up to and including CRLF (b"" at EOF)."""
        while b"\r\n" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:  # closed while we still sent
                chunk = b""
            if not chunk:
                rest, self.buf = self.buf, b""
                return rest
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line + b"\r\n"

    def recv(self):
        line = self.raw_line()
        if not line:
            return None
        assert line.endswith(b"\r\n"), line
        return json.loads(line)

    def send(self, data, fds=None):
        if isinstance(data, (dict, list)):
            data = json.dumps(data).encode()
        elif isinstance(data, str):
            data = data.encode()
        if fds:
            self.sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                        array.array("i", fds))])
        else:
            self.sock.sendall(data)

    def reply(self):
        """The next reply; events on the way go to .events."""
        while True:
            msg = self.recv()
            if msg is None or "event" not in msg:
                return msg
            self.events.append(msg)

    def cmd(self, name, args=None, fds=None, **kw):
        req = {"execute": name}
        if args is not None:
            req["arguments"] = args
        req.update(kw)
        self.send(req, fds)
        return self.reply()

    def wait_event(self, name, timeout=10.0):
        for i, ev in enumerate(self.events):
            if ev["event"] == name:
                return self.events.pop(i)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            msg = self.recv()
            if msg is None:
                return None
            if msg.get("event") == name:
                return msg
            if "event" in msg:
                self.events.append(msg)
        return None


def wait_path(path, timeout=10.0, proc=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if os.path.exists(path):
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.01)
    return False


class QmpVm:
    """The VMM with a QMP socket; the serial console collected in .lines."""

    def __init__(self, argv, sock, wrap=None, pass_fds=()):
        self.sock = str(sock)
        full = [str(a) for a in argv] + ["-qmp", f"unix:{self.sock},server,nowait"]
        if wrap:
            full = wrap(full)
        self.proc = subprocess.Popen(full, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, pass_fds=pass_fds)
        self.lines = []
        self.stderr = b""
        self.cv = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.err_reader = threading.Thread(target=self._read_err, daemon=True)
        self.err_reader.start()
        if not wait_path(self.sock, 30, self.proc):
            self.kill()
            self.err_reader.join(5)
            raise AssertionError(f"no QMP socket (status {self.proc.returncode}); "
                                 f"stderr: {self.stderr.decode()}")

    def _read(self):
        for raw in iter(self.proc.stdout.readline, b""):
            with self.cv:
                self.lines.append(raw.decode("utf-8", "replace").strip())
                self.cv.notify_all()

    def _read_err(self):
        self.stderr = self.proc.stderr.read()

    def wait_line(self, pred, timeout=30.0, start=0):
        """Index of the first line from start on that pred accepts, or None."""
        end = time.monotonic() + timeout
        with self.cv:
            while True:
                for i in range(start, len(self.lines)):
                    if pred(self.lines[i]):
                        return i
                left = end - time.monotonic()
                if left <= 0 or self.proc.poll() is not None and not self._more():
                    return None
                self.cv.wait(min(left, 0.2))

    def _more(self):
        return self.reader.is_alive()

    def qmp(self, **kw):
        return Qmp(self.sock, **kw)

    def wait(self, timeout=30):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        try:
            self.proc.stdin.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()

    def fd_count(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def task_count(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/task"))
