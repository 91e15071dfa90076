"""The README documents every setting and keeps its promise of two set-up commands."""

import re
from pathlib import Path

from qa.config import settings_help

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented_in_the_readme():
    missing = [name for name, _, _ in settings_help() if f"`{name}`" not in README]
    assert missing == []


def test_setup_section_has_exactly_two_commands_run_and_test():
    setup = README.split("## Set-up", 1)[1].split("##", 1)[0]
    block = re.search(r"```sh\n(.*?)```", setup, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make run", "make test"]


def test_ci_runs_the_readme_test_command():
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "make test" in ci
