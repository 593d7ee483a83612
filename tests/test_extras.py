"""Installs without an extra: the feature that needs it says which extra to install.

Nothing is uninstalled: the child processes below make `import fastjsonschema` fail the way a
missing package does, with a `None` entry in `sys.modules`, then use the feature.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

import pytest

from instantly._extras import MissingExtraError, needs_extra

# Runs in a child process before the code under test: the `testing` extra is "not installed".
_WITHOUT_TESTING = "import sys; sys.modules['fastjsonschema'] = None\n"


def run_without_testing(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _WITHOUT_TESTING + code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_importing_the_mock_names_the_testing_extra() -> None:
    done = run_without_testing(
        "try:\n"
        "    from instantly.testing import MockInstantly\n"
        "except ModuleNotFoundError as exc:\n"
        "    print(type(exc).__name__, exc.name, exc.extra)\n"
        "    print(exc)\n"
    )
    assert done.returncode == 0, done.stderr
    kind, message = done.stdout.splitlines()
    assert kind == "MissingExtraError fastjsonschema testing"
    assert message == (
        "instantly.testing needs the 'fastjsonschema' package, which comes with the 'testing' "
        "extra: pip install 'instantly-sdk[testing]' (from a checkout: pip install -e '.[testing]')"
    )


def test_the_light_parts_of_instantly_testing_still_import() -> None:
    # The pytest plugin imports the package in every test run of a project with the SDK.
    done = run_without_testing("import instantly.testing, instantly.testing.pytest_plugin")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("code", "prog", "extra"),
    [
        ("import runpy; runpy.run_module('instantly.testing', run_name='__main__')",
         "python -m instantly.testing", "testing"),
        ("from instantly.cli import main; raise SystemExit(main(['mock', '--port', '0']))",
         "instantly", "cli"),
        ("from instantly.cli import main; raise SystemExit(main(['demo', '--leads', '10']))",
         "instantly", "cli"),
    ],
    ids=["python -m instantly.testing", "instantly mock", "instantly demo"],
)  # fmt: skip
def test_commands_that_run_the_mock_say_one_line_and_exit_2(
    code: str, prog: str, extra: str
) -> None:
    done = run_without_testing(code)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr  # one line, no traceback
    assert done.stderr.startswith(f"{prog}: ")
    assert f"pip install 'instantly-sdk[{extra}]'" in done.stderr
    assert "'fastjsonschema'" in done.stderr


def test_a_module_outside_the_extra_is_a_broken_install_and_raised_as_it_is() -> None:
    with (
        pytest.raises(ModuleNotFoundError) as caught,
        needs_extra("x", "testing", ("fastjsonschema",)),
    ):
        import instantly_no_such_module  # type: ignore[import-not-found]  # noqa: F401
    assert type(caught.value) is ModuleNotFoundError
    assert caught.value.name == "instantly_no_such_module"


def test_missing_extra_error_is_a_module_not_found_error() -> None:
    # Code that guards an optional import with `except ImportError` keeps working.
    with pytest.raises(ImportError) as caught, needs_extra("thing", "testing", ("gone",)):
        raise ModuleNotFoundError("No module named 'gone.sub'", name="gone.sub")
    assert isinstance(caught.value, MissingExtraError)
    assert caught.value.name == "gone"


def test_the_testing_extra_brings_what_the_mock_and_its_fixture_need() -> None:
    requires = metadata.requires("instantly-sdk") or []
    testing = {
        r.split(";")[0].split(">")[0].strip()
        for r in requires
        if "extra == 'testing'" in r.replace('"', "'")
    }
    assert {"fastjsonschema", "pytest-asyncio"} <= testing
