"""jobs.report.phases: the demo's phase table (no Spark)."""

from jobs.report.phases import PhaseClock


def test_parts_are_shown_under_their_phase_and_not_counted_twice(capsys):
    clock = PhaseClock("demo", [("set-up", 2.0)])
    with clock.phase("jobs"):
        pass
    clock.part("gd, in the application", 1.5)
    assert clock.total() < 2.5  # set-up + the (instant) jobs phase, not the part
    rows = clock.markdown()
    assert rows[2] == "| set-up | 2.0 |"
    assert rows[3].startswith("| jobs | ")
    assert rows[4] == "| &nbsp;&nbsp;of which: gd, in the application | 1.5 |"
    assert rows[5] == f"| **total** | **{clock.total():.1f}** |"
    assert "demo:   of which gd, in the application: 1.5 s" in capsys.readouterr().err
