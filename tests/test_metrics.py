"""``/metrics``: off by default, loopback-only or token-protected when on, and valid Prometheus text
(parsed with prometheus-client's own parser) whose figures move with the traffic; ``chatd status``
says the same in words."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
from prometheus_client.parser import text_string_to_metric_families

from chatd.config import Config, ConfigError, load_config
from chatd.store import Database
from tests.helpers.client import connect, general_id, register
from tests.helpers.proc import run_cli
from tests.helpers.server import RunningServer, run_test_server

TOKEN = "s3cret-metrics-token-0123"


@pytest.fixture
def server_config(data_dir: Path, db_dsn: str) -> Config:
    return load_config(env={}, overrides={
        "data_dir": str(data_dir), "port": 0, "database_url": db_dsn, "shutdown_grace_secs": 2,
        "metrics": "loopback",
    })


def scrape(text: str) -> dict[str, float]:
    """Every sample, by name (with ``le`` for buckets), through the Prometheus parser."""
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = sample.name + (f"{{{sample.labels['le']}}}" if "le" in sample.labels else "")
            out[key] = sample.value
    return out


async def test_scrape_parses_and_moves_with_traffic(server: RunningServer) -> None:
    first = await server.get("/metrics")
    assert first.status == 200 and first.headers["content-type"].startswith("text/plain; version=0.0.4")
    before = scrape(first.body.decode())
    alice, bob = await register(server, "alice"), await register(server, "bob")
    async with connect(server, alice) as a, connect(server, bob) as b:
        ch = general_id(a)
        for i in range(5):
            await a.send_message(ch, f"m{i}")
        await b.wait_msgs(ch, 5)
        after = scrape((await server.get("/metrics")).body.decode())
        assert after["chatd_connections"] == 2
    async with connect(server, bob, resume=[[ch, 2]]) as b2:
        await b2.wait_push("caughtup", ch=ch)
    final = scrape((await server.get("/metrics")).body.decode())

    assert after["chatd_messages_sent_total"] - before["chatd_messages_sent_total"] == 5
    assert after["chatd_ack_latency_seconds_count"] - before["chatd_ack_latency_seconds_count"] == 5
    assert after["chatd_ack_latency_seconds_bucket{+Inf}"] == after["chatd_ack_latency_seconds_count"]
    assert after["chatd_deliveries_total"] - before["chatd_deliveries_total"] >= 10  # to both sockets
    assert final["chatd_replay_messages_count"] - before["chatd_replay_messages_count"] == 1
    assert final["chatd_replay_messages_sum"] - before["chatd_replay_messages_sum"] == 3  # seqs 3, 4, 5
    assert final["chatd_db_pool_max"] == server.config.db_pool_size
    assert 1 <= final["chatd_db_pool_connections"] <= final["chatd_db_pool_max"]
    assert final["chatd_disk_free_bytes"] > 0 and final["chatd_resident_memory_bytes"] > 10e6
    for name in ("chatd_slow_consumer_closes_total", "chatd_resyncs_total", "chatd_uploads_total", "chatd_draining"):
        assert name in final


async def test_loopback_mode_refuses_what_came_through_a_proxy(server: RunningServer) -> None:
    assert (await server.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})).status == 404
    assert (await server.get("/metrics", headers={"Forwarded": "for=127.0.0.1"})).status == 404


async def test_off_by_default_and_token_mode(data_dir: Path, db_dsn: str, db: Database, nursery: trio.Nursery) -> None:
    base = {"data_dir": str(data_dir), "port": 0, "database_url": db_dsn, "shutdown_grace_secs": 2}
    assert load_config(env={}, overrides=base).metrics == "off"
    async with run_test_server(load_config(env={}, overrides=base), db, nursery) as off:
        assert (await off.get("/metrics")).status == 404
    with pytest.raises(ConfigError, match="metrics_token"):
        load_config(env={}, overrides={**base, "metrics": "token", "metrics_token": "short"})
    cfg = load_config(env={}, overrides={**base, "metrics": "token", "metrics_token": TOKEN})
    assert cfg.masked()["metrics_token"] == "***"
    async with run_test_server(cfg, db, nursery) as on:
        assert (await on.get("/metrics")).status == 404
        assert (await on.get("/metrics", headers={"Authorization": "Bearer wrong-token-wrong-token"})).status == 404
        ok = await on.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status == 200 and "chatd_connections" in scrape(ok.body.decode())


async def test_chatd_status_prints_the_same_for_a_person(server: RunningServer, db_dsn: str) -> None:
    alice = await register(server, "alice")
    async with connect(server, alice) as a:
        await a.send_message(general_id(a), "counted")
        done = await trio.to_thread.run_sync(lambda: run_cli(
            "status", "--database-url", db_dsn, "--data-dir", str(server.config.data_dir), "--url", server.url,
            env={"CHATD_METRICS": "loopback"}))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"chatd at {server.url}: ok (database ok" in out
    assert "1 messages" in out and "1 users" in out
    assert "connections           1" in out
    assert "messages sent" in out and "ack latency           p50 ≤" in out
