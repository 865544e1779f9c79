"""A real redis-server for tests: loopback, a port chosen at run time, a temporary folder,
persistence off. A missing redis-server fails the test under CI=true (CI installs it) and
skips it elsewhere, naming the command that installs it (tests.conftest.missing_tool)."""

import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.conftest import missing_tool

START_TIMEOUT = 10.0


def redis_server_binary() -> str:
    """Path of redis-server; fails under CI=true, skips elsewhere, when it is missing."""
    found = shutil.which("redis-server")
    if found is None:
        missing_tool("redis-server is not installed (apt-get install -y redis-server)")
    return found


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_self_signed(cert_file: Path, key_file: Path) -> None:
    """A one-day self-signed certificate for 127.0.0.1 (its own CA) and its key."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


class RedisServer:
    """One redis-server process; `stop()` and `start()` again on the same port (outage tests)."""

    def __init__(self, folder: Path, password: str | None = None, *, tls: bool = False) -> None:
        """`tls`: serve TLS only, with a self-signed certificate for 127.0.0.1 (`ca_file`)."""
        self.folder = folder
        self.port = free_port()
        self.password = password
        self.tls = tls
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def ca_file(self) -> Path:
        """The certificate a TLS server presents, which is also its own CA."""
        return self.folder / "redis-cert.pem"

    @property
    def url(self) -> str:
        """redis://127.0.0.1:PORT/0 (rediss://...?ssl_ca_certs=CA with TLS), no password."""
        if self.tls:
            return f"rediss://127.0.0.1:{self.port}/0?ssl_ca_certs={self.ca_file}"
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it and wait until it answers PING."""
        args = [
            redis_server_binary(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--dir",
            str(self.folder),
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "no",
            "--loglevel",
            "warning",
        ]
        if self.tls:
            key_file = self.folder / "redis-key.pem"
            write_self_signed(self.ca_file, key_file)
            args[args.index("--port") + 1] = "0"  # no plain port: TLS only
            args += ["--tls-port", str(self.port), "--tls-cert-file", str(self.ca_file)]
            args += ["--tls-key-file", str(key_file), "--tls-auth-clients", "no"]
        if self.password is not None:
            # From a config on stdin, not the arguments: a password never goes in argv.
            args.insert(1, "-")
        self._proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert self._proc.stdin is not None
        if self.password is not None:
            self._proc.stdin.write(f"requirepass {self.password}\n".encode())
        self._proc.stdin.close()
        self._wait_ready()

    def _wait_ready(self) -> None:
        import redis

        client = redis.Redis.from_url(self.url, password=self.password)
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while True:
                assert self._proc is not None
                if self._proc.poll() is not None:
                    raise RuntimeError(f"redis-server exited with {self._proc.returncode}")
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.02)
        finally:
            client.close()

    def stop(self) -> None:
        """Kill it (SIGKILL: an outage, not a shutdown) and wait for it to go."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=10)
        self._proc = None

    def flush(self) -> None:
        """Empty its database (between tests sharing one server)."""
        import redis

        with redis.Redis.from_url(self.url, password=self.password) as client:
            client.flushall()
