"""Across machines, the parts that need no Docker: addresses, names, the refusal, the compose files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cluster import across, settings
from cluster.project import ComposeProject
from cluster.settings import ClusterError


def test_a_host_is_known_to_spark_by_a_name_made_from_its_address():
    assert across.host_name("192.168.1.20") == "sparklab-192-168-1-20"


def test_advertise_takes_an_ip_address_only():
    assert across.address(" 10.0.0.5 ") == "10.0.0.5"
    with pytest.raises(ClusterError, match="give an IP address"):
        across.address("hostb.lan")


def test_the_master_is_given_as_spark_url_on_port_7077():
    assert across.master_address("spark://10.1.2.3:7077") == "10.1.2.3"
    with pytest.raises(ClusterError, match="spark://ADDR:7077"):
        across.master_address("spark://10.1.2.3:7000")


def test_publishing_beyond_loopback_without_encryption_is_refused_in_one_line():
    unencrypted = ComposeProject.of_checkout().with_variables(SPARKLAB_ENCRYPTION="false")
    with pytest.raises(ClusterError) as refused:
        across.advertised(unencrypted, "192.168.1.10")
    assert "\n" not in str(refused.value)
    assert "SPARKLAB_ENCRYPTION=true" in str(refused.value)
    assert across.advertised(unencrypted, "127.0.0.1").value(settings.ADVERTISE_ENV)


def test_compose_command_adds_the_override_files_only_when_advertising():
    plain = ComposeProject(name="sparklab-test").command("ps")
    assert plain == ["docker", "compose", "-f", str(settings.COMPOSE_FILE), "ps"]
    encrypted = ComposeProject(name="sparklab-test").with_variables(SPARKLAB_ENCRYPTION="true")
    command = across.advertised(encrypted, "10.251.3.1", ["10.252.3.1", ""]).command("ps")
    files = [command[i + 1] for i, part in enumerate(command) if part == "-f"]
    assert files[:2] == [str(settings.COMPOSE_FILE), str(settings.ADVERTISE_FILE)]
    spec = json.loads(Path(files[2]).read_text())
    worker = spec["services"]["worker"]
    assert worker["hostname"] == "sparklab-10-251-3-1"
    assert worker["environment"]["SPARKLAB_WORKER_HOST"] == "sparklab-10-251-3-1"
    assert worker["extra_hosts"] == ["sparklab-10-252-3-1:10.252.3.1"]
    assert spec["services"]["driver"]["extra_hosts"] == worker["extra_hosts"]
    assert "command" not in worker  # only `join` points the worker elsewhere


def test_join_points_the_worker_at_the_remote_master():
    project = across.advertised(
        ComposeProject(name="sparklab-test"), "10.252.3.1", ["10.251.3.1"], join="spark://10.251.3.1:7077"
    )
    spec = json.loads(project.files[2].read_text())
    assert spec["services"]["worker"]["command"] == ["worker", "spark://10.251.3.1:7077"]


def test_only_a_master_published_beyond_loopback_means_hosts_may_join():
    from cluster.lifecycle import _published_beyond_loopback

    def master(*publishers):
        return [{"Service": "master", "Publishers": list(publishers)}]

    loopback = {"URL": "127.0.0.1", "TargetPort": 8080, "PublishedPort": 8080}
    advertised = {"URL": "10.251.3.1", "TargetPort": 7077, "PublishedPort": 7077}
    unpublished = {"URL": "", "TargetPort": 7077, "PublishedPort": 0}
    assert not _published_beyond_loopback(master(loopback, unpublished), "master")
    assert _published_beyond_loopback(master(loopback, advertised), "master")
    assert not _published_beyond_loopback([{"Service": "worker", "Publishers": [advertised]}], "master")
    assert not _published_beyond_loopback([{"Service": "master", "Publishers": None}], "master")


def test_a_refused_secret_is_told_from_the_workers_log():
    refused = (
        "INFO Worker: Connecting to master 10.251.3.1:7077...\n"
        "INFO AuthClientBootstrap: New auth protocol failed, trying SASL.\n"
        "ERROR TransportClientFactory: Exception while bootstrapping client after 14 ms\n"
        "WARN Worker: Failed to connect to master 10.251.3.1:7077\n"
    )
    assert across.AUTH_REFUSED.search(refused)
    unreachable = "INFO Worker: Connecting to master 10.251.3.1:7077...\nWARN Worker: Failed to connect"
    assert not across.AUTH_REFUSED.search(unreachable)
    assert not across.AUTH_REFUSED.search("INFO SecurityManager: authentication enabled; ui acls disabled")
