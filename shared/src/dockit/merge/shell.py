"""A POSIX sh tokenizer for one RUN command line: where its comment starts and whether it can be isolated safely.

minid wraps each original RUN command in a subshell, ``( cmd )``. That is only safe when the command is complete on
its own: every quote, ``$( )``, ``${ }``, backquote, ``( )``, ``{ }``, ``if``/``fi``, loop and ``case`` closed, no
heredoc (its body would swallow the lines after it), no background job (it would outlive its step and run during the
next one), and no construct that dash and bash read differently (``$'...'``, ``&>``, ``|&``, ``<(``). The tokenizer
follows the token rules of POSIX (XCU 2.3, 2.10) closely enough to answer exactly these questions; anything it is
not sure about makes the command unsafe, and an unsafe RUN is left alone.

>>> a = analyze("cd /src && make # build it")
>>> (a.ok, a.code, a.comment, a.simple)
(True, 'cd /src && make', ' build it', True)
>>> analyze("echo 'unterminated").reason
'unterminated single quote'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Words after which -e may be switched on inside the command (directly, or by code the word runs): a command that
# contains one must keep exactly its own -e state, so it cannot sit on the left of `&&` (where sh ignores -e).
ERREXIT_WORDS = frozenset({"set", "shopt", ".", "source", "eval", "alias", "trap"})
RESERVED = frozenset({"if", "then", "else", "elif", "fi", "do", "done", "case", "esac", "while", "until", "for"})
RESERVED |= frozenset({"{", "}", "!", "in", "function", "select"})
_OPERATORS: tuple[str, ...] = ("<<<", "<<-", "&&", "||", ";;", ";&", "<<", ">>", "<&", ">&", "<>", ">|", "&>", "|&")
_OPERATORS += ("&", "|", ";", "(", ")", "<", ">")
_META = set("&|;<>() \t\n")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
_UNOPENED = {"fi": "'fi' without if", "done": "'done' without a loop", "esac": "'esac' without case"}
_UNOPENED["}"] = "'}' without '{'"
_REDIRECTS = frozenset({"<", ">", ">>", "<&", ">&", "<>", ">|"})


class Unsafe(Exception):
    """The command cannot be isolated safely; the message says why."""


@dataclass
class Analysis:
    """What minid needs to know about one shell command line.

    ``code`` is the command without its trailing comment (and trailing blanks); ``comment`` the comment's text after
    ``#`` (None when there is none). ``simple`` is True for an AND-OR list of simple commands (pipelines joined by
    ``&&``/``||``, no ``;``, no compound command, no substitution): for such a list ``set -e`` changes nothing.
    ``errexit`` is True when the command may switch ``-e`` on (``set``, ``.``, ``eval``..., or a command name that
    is only known at run time).
    """

    ok: bool
    reason: str = ""
    code: str = ""
    comment: str | None = None
    simple: bool = True
    errexit: bool = False
    words: list[str | None] = field(default_factory=list)


def analyze(command: str, bash: bool = False) -> Analysis:
    """Tokenize one shell command line; ``ok`` is False (with ``reason``) when it cannot be isolated safely.

    ``bash``: the command runs under bash (``SHELL ["/bin/bash", ...]``), so bash's own syntax (``<<<``, ``&>``,
    ``|&``, ``$'...'``) means one thing and is fine.
    """
    scanner = _Scanner(command, bash)
    try:
        end, comment_at = scanner.parse_list(0, closer=None)
    except Unsafe as e:
        return Analysis(ok=False, reason=str(e))
    assert end == len(command)
    code = command if comment_at is None else command[:comment_at]
    comment = None if comment_at is None else command[comment_at + 1 :]
    errexit = any(w is None or w in ERREXIT_WORDS for w in scanner.command_words) or any(
        w in ERREXIT_WORDS for w in scanner.words if w is not None
    )
    return Analysis(
        ok=True,
        code=code.rstrip(" \t"),
        comment=comment,
        simple=scanner.simple,
        errexit=errexit,
        words=scanner.words,
    )


@dataclass
class _Frame:
    kind: str  # "(", "{", "if", "loop", "case"
    state: str = ""  # for case: "word", "in", "pattern", "body"; for loop after for: "name", "in", "list"


@dataclass
class _ListState:
    """Where the scan of one command list is: the open compound commands and what the next token may be."""

    closer: str | None
    stack: list[_Frame] = field(default_factory=list)
    at_command: bool = True  # the next word is in command position
    want_target: bool = False  # a redirection operator waits for its word
    dangling: bool = False  # the last token was an operator that needs a command after it
    function_name: bool = False  # the previous token was a command name that `(` `)` may turn into a function
    assigned: bool = False  # the command so far is assignments only (`X=1 && ...` is a whole command)
    background: bool = False  # a top-level `&` was seen: the list must end with a bare `wait`
    tail: list[str | None] = field(default_factory=list)  # words and operators of the last top-level and-or list

    def command_starts(self) -> None:
        self.at_command, self.dangling, self.assigned = True, False, False


class _Scanner:
    def __init__(self, text: str, bash: bool = False) -> None:
        self.text = text
        self.bash = bash
        self.simple = True
        self.words: list[str | None] = []  # every word (quote-removed), None when it holds an expansion
        self.command_words: list[str | None] = []  # the command names

    # --- the command-level grammar -------------------------------------------------------------------------------
    def parse_list(self, pos: int, closer: str | None) -> tuple[int, int | None]:
        """Scan from ``pos`` to the end of the text (``closer`` None) or to the ``)`` closing a ``$(``.

        Returns the position after the list (after the ``)`` for a substitution) and where a top-level comment
        starts.
        """
        st = _ListState(closer)
        text = self.text
        while True:
            pos = self._skip_blanks(pos)
            if pos >= len(text):
                self._end(st)
                return pos, None
            ch = text[pos]
            if ch == "\n":
                raise Unsafe("newline in the command")
            if ch == "#":
                if closer is not None:
                    raise Unsafe("comment inside $( )")
                if st.stack or st.want_target or st.dangling:
                    raise Unsafe("comment inside an unfinished command")
                self._end(st)
                return len(text), pos
            op = self._operator(pos)
            if op is not None:
                pos, finished = self._on_operator(st, op, pos + len(op))
                if finished:
                    return pos, None
                continue
            start = pos
            pos, value = self._word(pos)
            self._on_word(st, value, text[start:pos])

    def _end(self, st: _ListState) -> None:
        if st.closer is not None:
            raise Unsafe("unterminated $(")
        if st.stack:
            raise Unsafe(f"unclosed {st.stack[-1].kind}")
        if st.want_target or st.dangling:
            raise Unsafe("command ends with an operator")
        if st.background and st.tail != ["wait"]:
            raise Unsafe("background job (&) that the command does not wait for")

    def _on_operator(self, st: _ListState, op: str, pos: int) -> tuple[int, bool]:
        """Apply an operator; returns the position after it and whether it closed the ``$(`` being scanned."""
        text = self.text
        top = st.stack[-1] if st.stack else None
        if st.want_target:
            raise Unsafe(f"redirection without a target before {op!r}")
        if op in ("<<", "<<-"):
            raise Unsafe("heredoc in a shell-form command")
        if op in ("<<<", "&>", "|&") and not self.bash:
            raise Unsafe(f"{op!r} means different things to dash and bash")
        if op == ";&":
            raise Unsafe(f"{op!r} means different things to dash and bash")
        if op in _REDIRECTS or op in ("<<<", "&>"):
            if pos < len(text) and text[pos] == "(":
                raise Unsafe("process substitution")
            st.want_target = True
            st.function_name = False
            return pos, False
        if top is not None and top.kind == "case" and top.state == "pattern":
            if op == ")":
                top.state = "body"
                st.command_starts()
            elif op not in ("(", "|"):
                raise Unsafe(f"unexpected {op!r} in a case pattern")
            return pos, False
        if top is not None and top.kind == "loop" and top.state in ("name", "in", "list"):
            if op != ";":
                raise Unsafe(f"unexpected {op!r} in a for loop")
            top.state = ""
            st.command_starts()
            self.simple = False
            return pos, False
        if op == "&":
            if st.stack or st.closer is not None:
                raise Unsafe("background job (&)")
            if st.at_command and not st.assigned:
                raise Unsafe("'&' without a command before it")
            self.simple = False
            st.background = True
            st.command_starts()
            st.tail = []
        elif op in ("&&", "||", "|", "|&"):
            if st.at_command and not st.assigned:
                raise Unsafe(f"{op!r} without a command before it")
            st.command_starts()
            st.dangling = True
            st.tail.append(op)
        elif op == ";":
            if st.at_command and not st.assigned and not (top is not None and top.kind in ("if", "loop", "{", "(")):
                raise Unsafe("';' without a command before it")
            self.simple = False
            st.command_starts()
            st.tail = []
        elif op == ";;":
            if top is None or top.kind != "case" or top.state != "body":
                raise Unsafe("';;' outside a case")
            top.state = "pattern"
            st.command_starts()
        elif op == "(":
            self.simple = False
            if st.function_name:
                pos = self._skip_blanks(pos)
                if self._operator(pos) != ")":
                    raise Unsafe("unexpected '('")
                st.command_starts()
                st.dangling = True
                st.function_name = False
                return pos + 1, False
            if not st.at_command or st.assigned:
                raise Unsafe("unexpected '('")
            st.stack.append(_Frame("("))
            st.command_starts()
        elif op == ")":
            if top is not None and top.kind == "(":
                st.stack.pop()
                st.at_command, st.dangling, st.assigned = False, False, False
            elif top is None and st.closer == ")":
                if st.dangling:
                    raise Unsafe("command ends with an operator")
                return pos, True
            else:
                raise Unsafe("unbalanced ')'")
        st.function_name = False
        return pos, False

    def _on_word(self, st: _ListState, value: str | None, raw: str) -> None:
        self.words.append(value)
        st.function_name = False
        if st.want_target:
            st.want_target = False
            return
        st.tail.append(value)
        top = st.stack[-1] if st.stack else None
        literal = value if value == raw else None  # reserved words count only when unquoted
        if top is not None and top.kind == "case" and top.state in ("word", "in", "pattern"):
            if top.state == "word":
                top.state = "in"
            elif top.state == "in":
                if literal != "in":
                    raise Unsafe("case without 'in'")
                top.state = "pattern"
            elif literal == "esac":
                st.stack.pop()
                st.at_command, st.dangling = False, False
            return
        if top is not None and top.kind == "loop" and top.state in ("name", "in", "list"):
            if top.state == "name":
                top.state = "in"
            elif top.state == "in" and literal == "in":
                top.state = "list"
            elif top.state == "in" and literal == "do":
                top.state = ""
                st.command_starts()
            elif top.state == "in":
                raise Unsafe("for without 'in' or 'do'")
            return
        if st.at_command and literal in RESERVED:
            if st.assigned:
                raise Unsafe(f"'{literal}' after an assignment")
            self._on_reserved(st, literal, top)
            return
        if st.at_command:
            if value is not None and "=" in value and _NAME.match(value.split("=", 1)[0]) and "=" in raw:
                st.dangling = False
                st.assigned = True
                return  # an assignment: the command name (if any) comes next
            self.command_words.append(value)
            st.function_name = value is not None and _NAME.match(value) is not None
            st.at_command = False
        st.dangling = False

    def _on_reserved(self, st: _ListState, literal: str, top: _Frame | None) -> None:
        self.simple = False
        st.dangling = literal not in ("fi", "done", "}", "esac")
        if literal in ("function", "select", "in"):
            raise Unsafe(f"'{literal}' where a command is expected")
        opens = {"if": "if", "while": "loop", "until": "loop", "case": "case", "{": "{"}
        closes = {"fi": "if", "done": "loop", "esac": "case", "}": "{"}
        if literal in opens:
            st.stack.append(_Frame(opens[literal], "word" if literal == "case" else ""))
        elif literal == "for":
            st.stack.append(_Frame("loop", "name"))
        elif literal in ("then", "else", "elif"):
            if top is None or top.kind != "if":
                raise Unsafe(f"'{literal}' outside an if")
        elif literal == "do":
            if top is None or top.kind != "loop":
                raise Unsafe("'do' outside a loop")
        elif literal in closes:
            if top is None or top.kind != closes[literal]:
                raise Unsafe(_UNOPENED[literal])
            st.stack.pop()
        st.at_command = literal not in ("fi", "done", "}", "esac")

    # --- tokens --------------------------------------------------------------------------------------------------
    def _skip_blanks(self, pos: int) -> int:
        while pos < len(self.text) and self.text[pos] in " \t":
            pos += 1
        return pos

    def _operator(self, pos: int) -> str | None:
        for op in _OPERATORS:
            if self.text.startswith(op, pos):
                return op
        return None

    def _word(self, pos: int) -> tuple[int, str | None]:
        """Scan one word; return the position after it and its quote-removed value (None if it expands)."""
        text = self.text
        out: list[str] = []
        literal = True
        while pos < len(text) and text[pos] not in _META:
            ch = text[pos]
            if ch == "\\":
                if pos + 1 >= len(text):
                    raise Unsafe("backslash at the end of the command")
                if text[pos + 1] == "\n":
                    raise Unsafe("newline in the command")
                out.append(text[pos + 1])
                pos += 2
            elif ch == "'":
                end = text.find("'", pos + 1)
                if end < 0:
                    raise Unsafe("unterminated single quote")
                out.append(text[pos + 1 : end])
                pos = end + 1
            elif ch == '"':
                pos, value = self._double_quoted(pos + 1)
                literal = literal and value is not None
                out.append(value or "")
            elif ch == "$":
                pos, expands = self._dollar(pos)
                if expands:
                    literal = False
                else:
                    out.append("$")
            elif ch == "`":
                pos = self._backquote(pos)
                literal = False
            else:
                out.append(ch)
                pos += 1
        return pos, "".join(out) if literal else None

    def _double_quoted(self, pos: int) -> tuple[int, str | None]:
        text = self.text
        out: list[str] = []
        literal = True
        while pos < len(text):
            ch = text[pos]
            if ch == '"':
                return pos + 1, "".join(out) if literal else None
            if ch == "\\":
                if pos + 1 >= len(text):
                    raise Unsafe("unterminated double quote")
                nxt = text[pos + 1]
                out.append(nxt if nxt in '$`"\\' else ch + nxt)
                pos += 2
            elif ch == "$":
                pos, expands = self._dollar(pos, quoted=True)
                if expands:
                    literal = False
                else:
                    out.append("$")
            elif ch == "`":
                pos = self._backquote(pos)
                literal = False
            elif ch == "\n":
                raise Unsafe("newline in the command")
            else:
                out.append(ch)
                pos += 1
        raise Unsafe("unterminated double quote")

    def _dollar(self, pos: int, quoted: bool = False) -> tuple[int, bool]:
        """Scan an expansion at ``$``; return the position after it and whether it expands (a lone ``$`` does not)."""
        text = self.text
        nxt = text[pos + 1] if pos + 1 < len(text) else ""
        if nxt == "(":
            self.simple = False
            if text.startswith("((", pos + 1):
                return self._arithmetic(pos + 3), True
            end, _ = self.parse_list(pos + 2, closer=")")
            return end, True
        if nxt == "{":
            if text.startswith("-", pos + 2) or text.startswith("#-", pos + 2):
                self.simple = False  # ${-}: the option letters, which -e changes
            return self._braced(pos + 2), True
        if nxt == "'" and not quoted:
            if not self.bash:
                raise Unsafe("$'...' quoting (bash only)")
            pos += 2
            while pos < len(text) and text[pos] != "'":
                if text[pos] == "\n":
                    raise Unsafe("newline in the command")
                pos += 2 if text[pos] == "\\" else 1
            if pos >= len(text):
                raise Unsafe("unterminated $'")
            return pos + 1, True
        if nxt == '"' and not quoted:
            return pos + 1, False  # $"..." : the quotes pair the same way in dash and bash
        if nxt and (nxt.isalnum() or nxt == "_"):
            pos += 1
            if nxt.isdigit():
                return pos + 1, True
            while pos < len(text) and (text[pos].isalnum() or text[pos] == "_"):
                pos += 1
            return pos, True
        if nxt and nxt in "@*#?-$!":
            if nxt == "-":
                self.simple = False  # $-: the option letters, which -e changes
            return pos + 2, True
        return pos + 1, False

    def _braced(self, pos: int) -> int:
        """Scan a ``${...}`` body from after ``${``; quotes, nested expansions and escapes may appear in it."""
        text = self.text
        while pos < len(text):
            ch = text[pos]
            if ch == "}":
                return pos + 1
            if ch == "\\":
                pos += 2
            elif ch == "'":
                end = text.find("'", pos + 1)
                if end < 0:
                    raise Unsafe("unterminated single quote")
                pos = end + 1
            elif ch == '"':
                pos, _ = self._double_quoted(pos + 1)
            elif ch == "$":
                pos, _ = self._dollar(pos, quoted=True)
            elif ch == "`":
                pos = self._backquote(pos)
            elif ch == "\n":
                raise Unsafe("newline in the command")
            else:
                pos += 1
        raise Unsafe("unterminated ${")

    def _arithmetic(self, pos: int) -> int:
        """Scan ``$(( ... ))`` from after ``$((``: parentheses balance, expansions nest."""
        text = self.text
        depth = 0
        while pos < len(text):
            ch = text[pos]
            if ch == "(":
                depth += 1
            elif ch == ")":
                if depth == 0:
                    if text.startswith("))", pos):
                        return pos + 2
                    raise Unsafe("unbalanced $((")
                depth -= 1
            elif ch == "$":
                pos, _ = self._dollar(pos, quoted=True)
                continue
            elif ch in "'\"`\\\n":
                raise Unsafe("quoting inside $(( ))")
            pos += 1
        raise Unsafe("unterminated $((")

    def _backquote(self, pos: int) -> int:
        """Scan a backquoted substitution; its content (unescaped) must itself be a complete command."""
        text = self.text
        inner: list[str] = []
        pos += 1
        while pos < len(text):
            ch = text[pos]
            if ch == "`":
                self.simple = False
                sub = _Scanner("".join(inner), self.bash)
                try:
                    sub.parse_list(0, closer=None)
                except Unsafe as e:
                    raise Unsafe(f"inside backquotes: {e}") from None
                self.words.extend(sub.words)
                self.command_words.extend(sub.command_words)
                return pos + 1
            if ch == "\\" and pos + 1 < len(text) and text[pos + 1] in "$`\\":
                inner.append(text[pos + 1])
                pos += 2
                continue
            if ch == "\n":
                raise Unsafe("newline in the command")
            inner.append(ch)
            pos += 1
        raise Unsafe("unterminated backquote")
