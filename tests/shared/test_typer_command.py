"""dockit.typer_command's deferral of the rich modules our help never uses: the stand-ins typer.rich_utils gets
still work, importing the real module the first time they are used (in a fresh interpreter each)."""

from __future__ import annotations

import subprocess
import sys

USED_LATER = """\
import sys
from dockit.typer_command import _defer_rich_modules_our_help_never_uses
_defer_rich_modules_our_help_never_uses()
from typer import rich_utils
assert not {"rich.markdown", "rich.traceback", "markdown_it"} & set(sys.modules)
rendered = rich_utils._make_rich_text(text="**bold**", markup_mode="markdown")
import rich.markdown
assert type(rendered) is rich.markdown.Markdown and isinstance(rendered, rich_utils.Markdown)
assert issubclass(rich.markdown.Markdown, rich_utils.Markdown) and rich_utils.Markdown.elements
try:
    raise ValueError("x")
except ValueError as e:
    from rich.traceback import Traceback
    assert type(Traceback.from_exception(type(e), e, None)) is Traceback
    assert type(rich_utils.Traceback.from_exception(type(e), e, None)) is Traceback
print("ok")
"""


def test_the_stand_ins_import_the_real_classes_when_used() -> None:
    done = subprocess.run([sys.executable, "-c", USED_LATER], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "ok\n", "")


def test_nothing_stands_in_for_a_module_already_imported() -> None:
    code = (
        "import rich.markdown\n"
        "from dockit.typer_command import _defer_rich_modules_our_help_never_uses\n"
        "_defer_rich_modules_our_help_never_uses()\n"
        "from typer import rich_utils\n"
        "assert rich_utils.Markdown is rich.markdown.Markdown\n"
        "assert type(rich_utils.Traceback).__name__ == '_Deferred'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stderr) == (0, "")
