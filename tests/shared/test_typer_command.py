"""dockit.typer_command's deferral of the rich modules our help never uses: the stand-ins typer.rich_utils gets
still work, importing the real module the first time they are used (in a fresh interpreter each)."""

from __future__ import annotations

import subprocess
import sys


def fresh(code: str) -> subprocess.CompletedProcess[str]:
    """``code`` run in a new interpreter (the stand-ins exist only before rich.markdown is imported)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)


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
    done = fresh(USED_LATER)
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
    done = fresh(code)
    assert (done.returncode, done.stderr) == (0, "")


# After a tool's help is rendered in-process (typer.rich_utils imported with the stand-ins, which stay bound there):
# nothing of the deferral is left that other code of the process could trip on.
AFTER_HELP = """\
import contextlib, io, pickle, sys
from dockit.typer_command import _RichUtilsFinder
from targd.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):
    main(["--help"])
assert "Usage: " in out.getvalue()
rich_utils = sys.modules["typer.rich_utils"]
assert type(rich_utils.Markdown).__name__ == "_Deferred" and "rich.markdown" not in sys.modules
assert not [f for f in sys.meta_path if isinstance(f, _RichUtilsFinder)]

class Shouting(rich_utils.Markdown):
    def __init__(self, markup):
        super().__init__(markup.upper())

import rich.markdown, rich.traceback
assert type(Shouting) is type(rich.markdown.Markdown) and Shouting.__mro__[1] is rich.markdown.Markdown
assert isinstance(Shouting("x"), rich.markdown.Markdown) and Shouting("x").markup == "X"
assert isinstance(rich.markdown.Markdown("x"), rich_utils.Markdown)
for stand_in, real in [(rich_utils.Markdown, rich.markdown.Markdown), (rich_utils.Traceback, rich.traceback.Traceback)]:
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        assert pickle.loads(pickle.dumps(stand_in, protocol)) is real
print(pickle.dumps(rich_utils.Markdown).hex())
"""


def test_after_help_the_finder_is_gone_and_the_stand_ins_subclass_and_pickle_as_the_real_classes() -> None:
    done = fresh(AFTER_HELP)
    assert (done.returncode, done.stderr) == (0, "")
    # the pickle loads where dockit was never imported: it names only rich's class (and the standard library)
    load = (
        "import pickle, sys\n"
        f"cls = pickle.loads(bytes.fromhex({done.stdout.strip()!r}))\n"
        "import rich.markdown\n"
        "assert cls is rich.markdown.Markdown and not [m for m in sys.modules if m.startswith(('dockit', 'typer'))]\n"
    )
    loaded = fresh(load)
    assert (loaded.returncode, loaded.stderr) == (0, "")


def test_the_finder_is_inserted_once() -> None:
    code = (
        "import sys\n"
        "from dockit.typer_command import _RichUtilsFinder, _defer_rich_modules_our_help_never_uses\n"
        "_defer_rich_modules_our_help_never_uses()\n"
        "_defer_rich_modules_our_help_never_uses()\n"
        "assert len([f for f in sys.meta_path if isinstance(f, _RichUtilsFinder)]) == 1\n"
        "import typer.rich_utils\n"
        "_defer_rich_modules_our_help_never_uses()\n"
        "assert not [f for f in sys.meta_path if isinstance(f, _RichUtilsFinder)]\n"
    )
    done = fresh(code)
    assert (done.returncode, done.stderr) == (0, "")
