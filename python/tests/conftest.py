"""Shared fixtures: the repository, `polc`, bundles of the example policy sets, Spark."""

from __future__ import annotations

import os
import shutil
import sys
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUPPORT_DESK = ROOT / "examples" / "support-desk"


def _polc() -> Path:
    given = os.environ.get("POL_POLC")
    path = Path(given) if given else ROOT / "target" / "debug" / "polc"
    if not path.exists():
        subprocess.run(
            ["cargo", "build", "--quiet", "-p", "pol-compiler", "--bin", "polc"],
            cwd=ROOT,
            check=True,
        )
        path = ROOT / "target" / "debug" / "polc"
    return path


@pytest.fixture(scope="session")
def polc() -> Path:
    """The `polc` binary (built if missing)."""
    return _polc()


@pytest.fixture(scope="session")
def support_desk_bundle(polc: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The support-desk example compiled by `polc build`."""
    out = tmp_path_factory.mktemp("bundles") / "support-desk.polb"
    subprocess.run([str(polc), "build", str(SUPPORT_DESK), "-o", str(out)], check=True)
    return out


@pytest.fixture(scope="session")
def spark():
    """A local Spark session (`local[2]`). Missing Java or pyspark skips the Spark tests
    locally and fails them in CI (CI=true): they never pass silently there."""
    in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")

    def unavailable(why: str):
        if in_ci:
            pytest.fail(f"the Spark tests cannot run in CI: {why}", pytrace=False)
        pytest.skip(why)

    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        unavailable("no Java found (install a JDK 17 or set JAVA_HOME)")
    try:
        from pyspark.sql import SparkSession
    except ImportError as e:  # pragma: no cover - depends on the environment
        unavailable(f"pyspark is not installed ({e}); run scripts/python-env")
    # The Python workers must be this environment's interpreter (it has `pol` installed).
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("pol-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture
def compile_policies(polc: Path, tmp_path: Path):
    """A function that builds one policy file's text into a bundle (`polc build`) and returns
    the bundle's path."""

    def build(text: str, name: str = "set") -> Path:
        src = tmp_path / name
        src.mkdir()
        (src / "p.pol").write_text(text)
        out = tmp_path / f"{name}.polb"
        subprocess.run([str(polc), "build", str(src), "-o", str(out)], check=True)
        return out

    return build
