"""cluster.notebook.write_passwd: the notebook container's users (no Docker)."""

from cluster import notebook


def test_a_user_other_than_root_and_spark_gets_a_name_in_the_container(tmp_path):
    path = notebook.write_passwd(tmp_path / "passwd", uid=1500, gid=1501)
    users = [line.split(":") for line in path.read_text().splitlines()]
    assert [(name, uid, gid) for name, _, uid, gid, *_ in users] == [
        ("root", "0", "0"),
        ("spark", "1000", "1000"),
        ("lab", "1500", "1501"),
    ]
    assert users[-1][5] == "/tmp"  # a home the user can write


def test_root_and_spark_are_named_once(tmp_path):
    for uid in (0, 1000):
        text = notebook.write_passwd(tmp_path / f"passwd-{uid}", uid=uid, gid=uid).read_text()
        assert [line.split(":")[2] for line in text.splitlines()] == ["0", "1000"]
