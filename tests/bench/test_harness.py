import json

import pytest

from bench import __main__ as bench_main
from bench import harness


@pytest.fixture
def registry(monkeypatch):
    """An empty benchmark registry, so that the project's own benchmarks neither register nor run."""
    fresh: dict = {}
    monkeypatch.setattr(harness, "REGISTRY", fresh)
    monkeypatch.setattr(harness, "discover", lambda: None)
    return fresh


def test_percentile_interpolates_between_ranks():
    samples = [4.0, 1.0, 3.0, 2.0]
    assert harness.percentile(samples, 50) == 2.5
    assert harness.percentile(samples, 95) == pytest.approx(3.85)
    assert harness.percentile([7.0], 95) == 7.0
    with pytest.raises(ValueError):
        harness.percentile([], 50)


def test_result_has_every_key_and_the_ratio_to_the_floor():
    record = harness.result("x", [1.0, 2.0, 3.0], floor_p50_ms=0.5, goal="p50 <= 3 ms")
    assert tuple(record) == harness.RESULT_KEYS
    assert record["p50_ms"] == 2.0 and record["n"] == 3 and record["ratio"] == 4.0
    assert harness.result("y", [1.0], floor_p50_ms=None, goal="")["ratio"] is None


def test_sample_measures_n_calls_after_warmup():
    calls = []
    samples = harness.sample(lambda: calls.append(1), n=5, warmup=2)
    assert len(samples) == 5 and len(calls) == 7
    assert all(ms >= 0 for ms in samples)


def test_benchmark_decorator_registers_once(registry):
    @harness.benchmark
    def fast():
        return harness.result("fast", [1.0], floor_p50_ms=None, goal="")

    assert registry == {"fast": fast}
    with pytest.raises(ValueError):
        harness.benchmark(fast)


def test_list_prints_the_names_results_get(registry, capsys):
    size = 7

    @harness.benchmark(name=f"class_of_{size}")
    def class_of_n():
        return harness.result(f"class_of_{size}", [1.0], floor_p50_ms=None, goal="")

    assert registry == {"class_of_7": class_of_n}
    assert bench_main.main(["--list"]) == 0
    assert capsys.readouterr().out == "class_of_7\n"
    with pytest.raises(ValueError):
        harness.benchmark(name="class_of_7")(class_of_n)


def test_classroom_dashboard_is_named_after_the_course_files():
    from bench import classroom

    files = [
        p for p in (classroom.ROOT / "course" / classroom.COURSE).glob("*.yaml") if p.name != "course.yaml"
    ]
    assert f"classroom_dashboard_drawn_{classroom.STUDENTS}x{len(files)}" == classroom.DASHBOARD_DRAWN
    assert classroom.DASHBOARD_DRAWN in harness.REGISTRY


def test_run_reports_broken_benchmarks_without_losing_the_others():
    def ok():
        return {"extra": 7, **harness.result("ok", [1.0], floor_p50_ms=None, goal="")}

    def crashes():
        raise RuntimeError("boom")

    def incomplete():
        return {"name": "incomplete"}

    results, errors = harness.run({"ok": ok, "crashes": crashes, "incomplete": incomplete})
    assert [r["name"] for r in results] == ["ok"]
    assert list(results[0]) == [*harness.RESULT_KEYS, "extra"]
    assert set(errors) == {"crashes", "incomplete"}


def test_main_without_benchmarks_writes_an_empty_list(registry, tmp_path, capsys):
    output = tmp_path / "results.json"
    assert bench_main.main(["--output", str(output)]) == 0
    assert json.loads(output.read_text()) == []
    assert "no benchmarks registered" in capsys.readouterr().out


def test_main_prints_a_table_and_fails_when_a_benchmark_fails(registry, tmp_path, capsys):
    @harness.benchmark
    def good():
        return harness.result("good", [1.0, 3.0], floor_p50_ms=1.0, goal="ratio <= 3")

    @harness.benchmark
    def bad():
        raise RuntimeError("kernel said no")

    output = tmp_path / "results.json"
    assert bench_main.main(["--output", str(output)]) == 1
    assert [r["name"] for r in json.loads(output.read_text())] == ["good"]
    captured = capsys.readouterr()
    assert captured.out.splitlines()[1].split() == [
        "good",
        "2.0",
        "2.9",
        "2",
        "1.0",
        "2.0",
        "ratio",
        "<=",
        "3",
    ]
    assert "kernel said no" in captured.err
