"""A test whose program is missing skips on a developer's machine and fails under CI=true,
where .ci/run installs every such program (a skip there would hide the test)."""

import pytest

from tests.conftest import missing_tool


def test_a_missing_tool_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="groff is not installed"):
        missing_tool("groff is not installed")


def test_a_missing_tool_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"groff is not installed \(CI=true: .ci/run"):
        missing_tool("groff is not installed")
