"""The C++ core's own tests, built with -Wall -Wextra -Werror under AddressSanitizer + UBSan."""

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


@pytest.mark.sanitize
def test_core_under_address_and_undefined_behaviour_sanitizers(tmp_path):
    configure = [
        _tool("cmake"), "-S", str(REPO), "-B", str(tmp_path), "-G", "Ninja",
        f"-DCMAKE_MAKE_PROGRAM={_tool('ninja')}", "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
        "-DRQLBENCH_PYTHON=OFF", "-DRQLBENCH_CORE_TESTS=ON", "-DRQLBENCH_SANITIZE=ON",
        "-DRQLBENCH_WERROR=ON",
    ]  # fmt: skip
    subprocess.run(configure, check=True, capture_output=True, text=True)
    build = subprocess.run(
        [_tool("cmake"), "--build", str(tmp_path)], capture_output=True, text=True
    )
    assert build.returncode == 0, f"core build failed (warnings are errors):\n{build.stdout}"
    env = os.environ | {"ASAN_OPTIONS": "detect_leaks=1", "UBSAN_OPTIONS": "print_stacktrace=1"}
    run = subprocess.run(
        [str(tmp_path / "rqlbench_core_tests")], capture_output=True, text=True, env=env
    )
    assert run.returncode == 0, f"core tests failed:\n{run.stdout}\n{run.stderr}"
    assert "core tests passed: 0 failed" in run.stdout
