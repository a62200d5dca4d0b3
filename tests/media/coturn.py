"""A real coturn (`turnserver`) on 127.0.0.1 with TURN REST API auth, for netns tests."""

from __future__ import annotations

import os
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support.waiting import GaveUp, wait_until

TURN_PORT = 3478
READY_TIMEOUT_S = 15.0


def _stun_binding_answered(port: int) -> bool:
    # A bare STUN Binding request (RFC 5389): type 0x0001, length 0, magic cookie, txid.
    request = b"\x00\x01\x00\x00\x21\x12\xa4\x42" + os.urandom(12)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        sock.sendto(request, ("127.0.0.1", port))
        try:
            reply = sock.recv(2048)
        except OSError:
            return False
    return reply[:2] == b"\x01\x01" and reply[8:20] == request[8:20]


@dataclass
class Coturn:
    """A running turnserver; `url` is what an `RTCIceServer` needs."""

    process: subprocess.Popen[bytes]
    secret: str
    log_path: Path
    port: int = TURN_PORT

    @property
    def url(self) -> str:
        """TURN URL over UDP on loopback."""
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    @classmethod
    def start(cls, workdir: Path, secret: str) -> Coturn:
        """Start turnserver and wait until it answers STUN (polls; no fixed sleep)."""
        log_path = workdir / "turnserver.log"
        argv = [
            "turnserver", "-n", "--no-cli", "--no-tls", "--no-dtls", "--fingerprint",
            "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", f"--listening-port={TURN_PORT}",
            "--min-port=49152", "--max-port=49252", "--realm=anxin.test",
            "--use-auth-secret", f"--static-auth-secret={secret}",
            # Peers are on 127.0.0.1 here; coturn refuses loopback peers by default.
            "--allow-loopback-peers",
            f"--db={workdir / 'turndb'}", f"--pidfile={workdir / 'turnserver.pid'}",
            "--log-file=stdout", "--simple-log",
        ]  # fmt: skip
        log = log_path.open("wb")
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        server = cls(process=process, secret=secret, log_path=log_path)

        def ready() -> bool:
            if process.poll() is not None:
                raise GaveUp(f"turnserver exited with {process.returncode}")
            return _stun_binding_answered(TURN_PORT)

        try:
            wait_until(ready, READY_TIMEOUT_S, "turnserver to answer STUN")
        except AssertionError as err:
            server.stop()
            raise RuntimeError(f"turnserver did not start ({err}):\n{server.log()}") from err
        return server

    def log(self) -> str:
        """Everything turnserver printed so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Terminate turnserver and reap it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
