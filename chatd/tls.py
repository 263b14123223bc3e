"""TLS material: a self-signed certificate generated at first start, or the operator's own pair."""

from __future__ import annotations

import _ssl
import ctypes
import datetime
import ipaddress
import os
import socket
import ssl
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SELF_SIGNED_DAYS = 825  # the longest validity Apple's TLS policy accepts for a server certificate
# Mozilla's "intermediate" profile (guidelines 6.0) for TLS 1.2: forward secrecy (ECDHE) and AEAD
# only. TLS 1.3's suites are OpenSSL 3's defaults, which are exactly the profile's three.
MOZILLA_INTERMEDIATE_CIPHERS = ":".join([
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
])


class TLSConfigError(Exception):
    """The certificate or key cannot be used (message says which file and why)."""


@dataclass(frozen=True)
class TLSFiles:
    cert: Path
    key: Path
    fingerprint_sha256: str
    generated: bool


def fingerprint(cert_pem: bytes) -> str:
    """SHA-256 fingerprint of a PEM certificate as colon-separated hex (as browsers show it)."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))


def generate_self_signed(cert_path: Path, key_path: Path, hostname: str | None = None) -> None:
    """Write a new self-signed ECDSA P-256 certificate for localhost, loopback and the host name."""
    hostname = hostname or socket.gethostname()
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    if hostname and hostname != "localhost":
        names.append(x509.DNSName(hostname))
    names += [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(ipaddress.ip_address("::1"))]
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"chatd on {hostname}")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=SELF_SIGNED_DAYS))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    tmp_key = key_path.with_suffix(".tmp")
    fd = os.open(tmp_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key_pem)
    os.replace(tmp_key, key_path)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def ensure_tls(data_dir: Path, cert: str, key: str) -> TLSFiles:
    """Use the configured pair, or the self-signed pair in ``data_dir`` (generated if absent).

    Checks that both files exist, parse, and belong together; raises TLSConfigError otherwise.
    """
    generated = False
    if cert:
        cert_path, key_path = Path(cert).expanduser(), Path(key).expanduser()
    else:
        cert_path, key_path = data_dir / "tls-cert.pem", data_dir / "tls-key.pem"
        if not cert_path.exists() or not key_path.exists():
            generate_self_signed(cert_path, key_path)
            generated = True
    for label, path in (("tls_cert", cert_path), ("tls_key", key_path)):
        if not path.is_file():
            raise TLSConfigError(f"{label}: {path} does not exist or is not a file")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        ctx.load_cert_chain(cert_path, key_path)
    except ssl.SSLError as exc:
        raise TLSConfigError(
            f"tls_cert {cert_path} and tls_key {key_path} cannot be used together ({exc.reason or exc})"
        ) from None
    except (OSError, ValueError) as exc:
        raise TLSConfigError(f"cannot read tls_cert {cert_path} / tls_key {key_path}: {exc}") from None
    return TLSFiles(cert_path, key_path, fingerprint(cert_path.read_bytes()), generated)


def server_context(files: TLSFiles, alpn: list[str]) -> ssl.SSLContext:
    """The listener's TLS context: Mozilla intermediate (TLS 1.2+, ECDHE + AEAD), no tickets,
    no session cache (no resumption).

    The same context object serves every handshake; ``reload_certificate`` swaps its pair.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(MOZILLA_INTERMEDIATE_CIPHERS)
    # No compression (CRIME); no session tickets (their key would be a long-lived secret that
    # undoes forward secrecy); the client's cipher order, as the profile says (all are strong).
    ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_TICKET
    # Nor TLS 1.3's (stateful, with OP_NO_TICKET) tickets: no session resumption at all. With
    # the ECDSA P-256 key a full handshake costs the server ~0.2 ms of CPU, resuming would save
    # only the signature, and TLS 1.3 resumption is no fewer round trips; the tickets cost every
    # connection a session-cache entry (~1.1 KiB measured) and ~40 µs to issue.
    ctx.num_tickets = 0
    ctx.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
    ctx.set_alpn_protocols(alpn)
    ctx.load_cert_chain(files.cert, files.key)
    disable_session_cache(ctx)
    return ctx


# OpenSSL's server-side session cache holds a session per handshake for resumption: ~1.4 KB
# each, up to 20,480 of them, for two hours, allocated between the short-lived buffers of each
# handshake — RSS grew with every connection (bench S11: 41 MiB over 100,000 cycles; S12 creeping
# all along). With OP_NO_TICKET, TLS 1.3's tickets are stateful, each a cache entry. Both ends are
# cut: ``num_tickets = 0`` (above) issues none, and the cache itself is off, so that no handshake
# of any version stores a session whatever OpenSSL's rules for caching one (either alone left 0
# entries after TLS 1.2 and 1.3 handshakes here). Resuming gains chatd's clients little (above).
_SSL_CTRL_SET_SESS_CACHE_MODE = 44  # OpenSSL's ssl.h
_SSL_CTRL_GET_SESS_CACHE_MODE = 45
_SSL_SESS_CACHE_OFF = 0


def disable_session_cache(ctx: ssl.SSLContext) -> bool:
    """Turn off ``ctx``'s server-side session cache; False where it cannot be done.

    Python has no API for it: OpenSSL's ``SSL_CTX_ctrl`` is called through ctypes on the
    ``SSL_CTX`` pointer that CPython's SSLContext object holds right after its object header,
    found through the ``_ssl`` module's own handle (so it is the very libssl Python uses). The
    pointer is checked (its options must read as ``ctx.options``) before anything is set.
    """
    if sys.implementation.name != "cpython":
        return False
    try:
        lib = ctypes.CDLL(_ssl.__file__)
        ctrl, get_options = lib.SSL_CTX_ctrl, lib.SSL_CTX_get_options
    except (OSError, AttributeError):
        return False
    ctrl.restype, ctrl.argtypes = ctypes.c_long, [ctypes.c_void_p, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
    get_options.restype, get_options.argtypes = ctypes.c_uint64, [ctypes.c_void_p]
    pointer = ctypes.c_void_p.from_address(id(ctx) + object.__basicsize__).value
    if not pointer or get_options(pointer) != ctx.options:
        return False
    ctrl(pointer, _SSL_CTRL_SET_SESS_CACHE_MODE, _SSL_SESS_CACHE_OFF, None)
    return int(ctrl(pointer, _SSL_CTRL_GET_SESS_CACHE_MODE, 0, None)) == _SSL_SESS_CACHE_OFF


def reload_certificate(ctx: ssl.SSLContext, files: TLSFiles) -> TLSFiles:
    """Load ``files``' (possibly renewed) pair into the live ``ctx``; returns the new state.

    New handshakes get the new certificate; connections already open keep theirs. Raises
    TLSConfigError (and leaves ``ctx`` as it was) when the new files are unusable.
    """
    fresh = ensure_tls(files.cert.parent, str(files.cert), str(files.key))
    ctx.load_cert_chain(fresh.cert, fresh.key)
    return fresh
