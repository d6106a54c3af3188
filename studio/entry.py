"""The programs `studio` and `python render.py`: Ctrl-C is answered cleanly from the first
instant (imports take seconds), and click's own errors keep their one-line form."""

from __future__ import annotations

import os
import sys

from studio.errors import INTERRUPTED, PRESSED


def _on_interrupt(signum, _frame) -> None:
    PRESSED.append(signum)
    raise KeyboardInterrupt


def run(name: str = "main", prog_name: str | None = None) -> None:
    import signal

    signal.signal(signal.SIGINT, _on_interrupt)
    try:
        import click

        from studio import cli

        command = getattr(cli, name)
        try:
            code = command.main(prog_name=prog_name, standalone_mode=False)
        except click.exceptions.Abort:  # click's form of Ctrl-C
            raise KeyboardInterrupt from None
        except click.ClickException as error:
            error.show()
            sys.exit(error.exit_code)
        except SystemExit as done:  # a command's own exit status (2 for a bad preset, ...)
            code = done.code
        if code is not None and not isinstance(code, int):  # sys.exit("message")
            sys.stderr.write(f"{code}\n")
            code = 1
        finish(code or 0)
    except KeyboardInterrupt:
        sys.stderr.write(INTERRUPTED)
        quiet_exit()
        sys.exit(130)


def quiet_exit() -> None:
    """Once the last word is said, a signal (torchrun stopping the team, a second Ctrl-C) ends
    the process as the system would, not with a traceback from the exit handlers."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def finish(code: int) -> None:
    """Exit once the command is done, skipping the interpreter's teardown where torch is loaded:
    unloading it and its CUDA libraries costs half a second on a CPU machine, after every file is
    already closed. Under torchrun, a profiler or a coverage tracer (and with STUDIO_FULL_EXIT set)
    the exit is the ordinary one, so their exit handlers run and write what they gathered."""
    quiet_exit()
    if ("torch" not in sys.modules or "WORLD_SIZE" in os.environ or os.environ.get("STUDIO_FULL_EXIT")
            or sys.getprofile() is not None or sys.gettrace() is not None):
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`): nothing more can reach it
            pass
    os._exit(code)


def main() -> None:
    """`studio ...`"""
    run("main")


def render_main() -> None:
    """`python render.py ...`: the same options as `studio render`."""
    run("render", prog_name="render.py")
