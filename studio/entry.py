"""The programs `studio` and `python render.py`: Ctrl-C is answered cleanly from the first
instant (imports take seconds), and click's own errors keep their one-line form."""

from __future__ import annotations

import sys

INTERRUPTED = ("\ninterrupted: finished files are kept and no partial file was left; run the same "
               "command again to render the rest.\n")


def run(name: str = "main", prog_name: str | None = None) -> None:
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
        sys.exit(code if isinstance(code, int) else 0)
    except KeyboardInterrupt:
        sys.stderr.write(INTERRUPTED)
        sys.exit(130)


def main() -> None:
    """`studio ...`"""
    run("main")


def render_main() -> None:
    """`python render.py ...`: the same options as `studio render`."""
    run("render", prog_name="render.py")
