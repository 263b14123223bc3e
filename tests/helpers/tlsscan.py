"""A TLS listener scanned by sslyze, judged against Mozilla's "intermediate" profile.

sslyze tries every protocol version and cipher suite it knows, the curves, and the classic
vulnerabilities (Heartbleed, ROBOT, CCS injection, compression, insecure renegotiation), then its
Mozilla checker compares the result with the profile. On top of the checker, ``summary`` states
what this project fails on outright: a protocol at or below TLS 1.1, a suite without forward
secrecy, a suite without AEAD.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sslyze import (
    Scanner,
    ServerNetworkLocation,
    ServerScanRequest,
    ServerScanResult,
    ServerScanStatusEnum,
)
from sslyze.mozilla_tls_profile.tls_config_checker import (
    SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER,
    MozillaTlsConfiguration,
    ServerNotCompliantWithTlsConfiguration,
    TlsConfigurationEnum,
    check_server_against_tls_configuration,
)

# A self-signed test certificate fails these whatever the server does (it is not issued by a
# public CA, and chatd's own lives 825 days): the profile's certificate rules are for the
# operator's real certificate, so they are reported but not judged here.
SELF_SIGNED_ISSUES = frozenset({"certificate_path_validation", "maximum_certificate_lifespan"})
_VERSIONS = [
    ("ssl_2_0_cipher_suites", "SSLv2"), ("ssl_3_0_cipher_suites", "SSLv3"),
    ("tls_1_0_cipher_suites", "TLSv1.0"), ("tls_1_1_cipher_suites", "TLSv1.1"),
    ("tls_1_2_cipher_suites", "TLSv1.2"), ("tls_1_3_cipher_suites", "TLSv1.3"),
]
AEAD_MARKERS = ("_GCM_", "_CHACHA20_POLY1305", "_CCM")


@dataclass
class TlsSummary:
    """What a scan found: versions accepted, suites per version, curves, Mozilla issues."""

    versions: list[str] = field(default_factory=list)
    suites: dict[str, list[str]] = field(default_factory=dict)
    curves: list[str] = field(default_factory=list)
    mozilla_issues: dict[str, str] = field(default_factory=dict)

    def failures(self, allowed_issues: frozenset[str] = SELF_SIGNED_ISSUES) -> list[str]:
        """Every reason to fail: old protocols, non-PFS or non-AEAD suites, Mozilla issues."""
        out = [f"{v} accepted" for v in self.versions if v in ("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1")]
        for version, names in self.suites.items():
            for name in names:
                if version != "TLSv1.3" and not name.startswith(("TLS_ECDHE_", "TLS_DHE_")):
                    out.append(f"{version} {name}: no forward secrecy")
                if not any(m in name for m in AEAD_MARKERS):
                    out.append(f"{version} {name}: not AEAD")
        out += [f"mozilla {k}: {v}" for k, v in self.mozilla_issues.items() if k not in allowed_issues]
        return out

    def line(self) -> str:
        n = sum(len(s) for s in self.suites.values())
        return (f"versions {'+'.join(self.versions)}; {n} suites, all ECDHE+AEAD: {not self.failures(frozenset(self.mozilla_issues))};"
                f" curves {','.join(self.curves)}; mozilla issues {sorted(self.mozilla_issues) or 'none'}")


def scan(host: str, port: int) -> TlsSummary:
    """Scan ``host:port`` (blocks for some seconds; call from a thread in async code)."""
    scanner = Scanner(per_server_concurrent_connections_limit=4, concurrent_server_scans_limit=1)
    scanner.queue_scans([ServerScanRequest(
        server_location=ServerNetworkLocation(hostname="localhost", port=port, ip_address=host),
        scan_commands=set(SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER),
    )])
    [result] = list(scanner.get_results())
    assert result.scan_status == ServerScanStatusEnum.COMPLETED, result.connectivity_error_trace
    return _summarise(result)


def _summarise(result: ServerScanResult) -> TlsSummary:
    summary = TlsSummary()
    attempts = result.scan_result
    assert attempts is not None
    for attr, version in _VERSIONS:
        suites = getattr(attempts, attr).result
        assert suites is not None, f"{attr} did not complete"
        if suites.is_tls_version_supported:
            summary.versions.append(version)
            summary.suites[version] = sorted(s.cipher_suite.name for s in suites.accepted_cipher_suites)
    curves = attempts.elliptic_curves.result
    if curves is not None and curves.supported_curves:
        summary.curves = sorted(c.name for c in curves.supported_curves)
    try:
        check_server_against_tls_configuration(
            result, MozillaTlsConfiguration.get(TlsConfigurationEnum.MOZILLA_INTERMEDIATE)
        )
    except ServerNotCompliantWithTlsConfiguration as exc:
        summary.mozilla_issues = dict(exc.issues)
    return summary
