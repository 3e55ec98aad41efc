"""One source for the MCTS defaults: csrc/mcts/config.h, read by the bindings and by MCTSConfig."""

import ast
import dataclasses
from pathlib import Path

from rqlbench import _mcts
from rqlbench.mcts import MCTSConfig

STUB = Path(__file__).resolve().parents[1] / "rqlbench" / "_mcts.pyi"
FIELDS = [field.name for field in dataclasses.fields(MCTSConfig)]


def test_python_defaults_are_the_cpp_defaults():
    native = _mcts.Config()
    for name in FIELDS:
        assert getattr(MCTSConfig(), name) == getattr(native, name), name
    cpp_fields = {name for name in dir(native) if not name.startswith("_")}
    assert cpp_fields == set(FIELDS), "MCTSConfig and the C++ Config name different fields"


def test_every_field_reaches_the_cpp_config():
    changed = MCTSConfig(
        omega=0.3,
        alpha=0.7,
        epsilon=0.25,
        gamma=0.5,
        num_simulations=17,
        max_depth=3,
        rollout_depth=2,
        num_rollouts=4,
        action_selection="most_visited",
        max_nodes=9,
        seed=11,
    )
    native = changed.native()
    for name in FIELDS:
        assert getattr(native, name) == getattr(changed, name) != getattr(MCTSConfig(), name), name


def _stub_class(name: str) -> ast.ClassDef:
    tree = ast.parse(STUB.read_text())
    return next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name)


def test_stub_names_the_cpp_fields_without_repeating_defaults():
    config = _stub_class("Config")
    attributes = [n.target.id for n in config.body if isinstance(n, ast.AnnAssign)]
    init = next(n for n in config.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    assert attributes == FIELDS
    assert [a.arg for a in init.args.kwonlyargs] == FIELDS
    for default in init.args.kw_defaults:
        assert isinstance(default, ast.Constant) and default.value is Ellipsis, (
            "the stub must not repeat a default (csrc/mcts/config.h holds them): use `= ...`"
        )
