"""Management command options: out-of-range values are refused with a message, and every option says what it does."""

import re

import pytest
from django.core.management import CommandError, call_command, load_command_class

pytestmark = pytest.mark.django_db

COMMANDS = {
    "prune_streams": "docg.executions",
    "rotate_keys": "docg.common",
    "run_workflow": "docg.executions",
}


@pytest.mark.parametrize(
    ("command", "args", "expected"),
    [
        ("prune_streams", ["--older-than", "-5"], "--older-than: must be a whole number of at least 0"),
        ("rotate_keys", ["--batch-size", "0"], "--batch-size: must be a whole number of at least 1"),
        ("rotate_keys", ["--batch-size", "ten"], "--batch-size: must be a whole number of at least 1"),
    ],
)
def test_out_of_range_options_are_refused_before_anything_runs(command, args, expected):
    with pytest.raises(CommandError) as refused:
        call_command(command, *args)
    assert expected in str(refused.value)


def test_run_workflow_until_lists_the_phases_by_name():
    with pytest.raises(CommandError) as refused:
        call_command("run_workflow", "00000000-0000-0000-0000-000000000000", "--until", "nope")
    message = str(refused.value)
    assert re.search(r"choose from '?delivery'?, '?preflight'?, '?render'?\)", message), message
    assert "Phase." not in message


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_option_has_help_text(command):
    parser = load_command_class(COMMANDS[command], command).create_parser("manage.py", command)
    django_own = {"help", "version", "verbosity", "settings", "pythonpath", "traceback", "no_color", "force_color"}
    own = [a for a in parser._actions if a.dest not in {*django_own, "skip_checks"}]
    for action in own:
        assert action.help and len(action.help) > 10, (command, action.dest)
