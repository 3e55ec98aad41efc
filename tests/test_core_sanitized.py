"""The C++ core and the native highway model under AddressSanitizer + UBSan, every C++ target
warning-free (-Werror), and the model concept's compile-time messages."""

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
        # -O0 -g: the sanitizers check every access, and it builds 4x faster than -O2 -g
        # (the optimized headers' warnings: the extension build above).
        "-DCMAKE_BUILD_TYPE=Debug",
        "-DRQLBENCH_PYTHON=OFF",
        "-DRQLBENCH_CORE_TESTS=ON",
        "-DRQLBENCH_SANITIZE=ON",
    )
    env = os.environ | {"ASAN_OPTIONS": "detect_leaks=1", "UBSAN_OPTIONS": "print_stacktrace=1"}
    # The search core (csrc/tests/test_core.cpp) and the native highway model
    # (csrc/tests/test_highway.cpp: simulator, observation, rewards, planning model, search).
    for suite in ("core", "highway"):
        run = subprocess.run(
            [str(tmp_path / f"rqlbench_{suite}_tests")], capture_output=True, text=True, env=env
        )
        assert run.returncode == 0, f"{suite} tests failed:\n{run.stdout}\n{run.stderr}"
        assert f"{suite} tests passed: 0 failed" in run.stdout


MODEL = """
#include "mcts/batch.h"
using namespace rqlbench::mcts;
struct Model {
  using State = int;
  static constexpr bool kOpenLoop = false;
  int num_actions() const { return 2; }
  Transition<State> step(const State& s, int) STEP_CONST { return {s, 0.0, false}; }
  LOG_PRIOR
  bool has_rollout() const { return false; }
  double rollout(const State&, int, double, uint64_t) const { return 0.0; }
};
int main() {
  Model model;
  Config config;
  CALL;
}
"""
LOG_PRIOR = (
    "void log_prior(const State&, double* out) const { out[0] = out[1] = -0.6931471805599453; }"
)
SEARCH = "Searcher<Model>(model, config).run(0)"
BATCH = "search_batch(model, std::vector<int>{0, 1}, config, 2)"


def _compile(source: str, tmp_path: Path) -> subprocess.CompletedProcess:
    path = tmp_path / "model.cpp"
    path.write_text(source)
    compiler = os.environ.get("CXX") or _tool("c++")
    command = [compiler, "-std=c++17", "-fsyntax-only", f"-I{REPO / 'csrc'}", str(path)]
    return subprocess.run(command, capture_output=True, text=True)


def _model(step_const: str = "const", log_prior: str = LOG_PRIOR, call: str = SEARCH) -> str:
    return (
        MODEL.replace("STEP_CONST", step_const)
        .replace("LOG_PRIOR", log_prior)
        .replace("CALL", call)
    )


@pytest.mark.parametrize(
    ("call", "broken", "message"),
    [
        (SEARCH, {"log_prior": ""}, "MCTS model: missing `void log_prior(const State&, double*"),
        (BATCH, {"step_const": ""}, "search_batch shares one model between threads"),
    ],
    ids=["missing-method", "batch-needs-const"],
)
def test_a_model_breaking_the_concept_gets_a_readable_compile_error(
    tmp_path, call, broken, message
):
    assert _compile(_model(call=call), tmp_path).returncode == 0, "the full model must compile"
    compiled = _compile(_model(call=call, **broken), tmp_path)
    assert compiled.returncode != 0
    assert message in compiled.stderr
