"""The C++ core under AddressSanitizer + UBSan, and every C++ target warning-free (-Werror)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    # The test extras install cmake and ninja into the environment's bin directory.
    found = shutil.which(
        name, path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    )
    assert found, f"{name} not found: install the test extras (pip install -e '.[test]')"
    return found


def _build(build_dir: Path, *options: str) -> None:
    configure = [
        _tool("cmake"), "-S", str(REPO), "-B", str(build_dir), "-G", "Ninja",
        f"-DCMAKE_MAKE_PROGRAM={_tool('ninja')}", "-DRQLBENCH_WERROR=ON", *options,
    ]  # fmt: skip
    configured = subprocess.run(configure, capture_output=True, text=True)
    assert configured.returncode == 0, f"cmake configure failed:\n{configured.stderr}"
    build = subprocess.run(
        [_tool("cmake"), "--build", str(build_dir)], capture_output=True, text=True
    )
    assert build.returncode == 0, f"build failed (warnings are errors):\n{build.stdout}"


def test_python_extension_builds_without_warnings(tmp_path):
    import pybind11

    _build(
        tmp_path,
        "-DCMAKE_BUILD_TYPE=Release",
        f"-Dpybind11_DIR={pybind11.get_cmake_dir()}",
        f"-DPython_EXECUTABLE={sys.executable}",
    )
    assert list(tmp_path.glob("_mcts*.so"))


@pytest.mark.sanitize
def test_core_under_address_and_undefined_behaviour_sanitizers(tmp_path):
    _build(
        tmp_path,
        "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
        "-DRQLBENCH_PYTHON=OFF",
        "-DRQLBENCH_CORE_TESTS=ON",
        "-DRQLBENCH_SANITIZE=ON",
    )
    env = os.environ | {"ASAN_OPTIONS": "detect_leaks=1", "UBSAN_OPTIONS": "print_stacktrace=1"}
    run = subprocess.run(
        [str(tmp_path / "rqlbench_core_tests")], capture_output=True, text=True, env=env
    )
    assert run.returncode == 0, f"core tests failed:\n{run.stdout}\n{run.stderr}"
    assert "core tests passed: 0 failed" in run.stdout
