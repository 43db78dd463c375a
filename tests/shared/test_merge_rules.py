"""Every merge rule and every pitfall of the issue, each with the exact text minid must write."""

from __future__ import annotations

import pytest

from dockit.dockerfile import parse
from dockit.merge import minify, minify_dockerfile, shell_info


def merged(text: str) -> str:
    out = minify(text).text
    parse(out)  # the output always parses
    return out


def unchanged(text: str) -> None:
    result = minify(text)
    assert result.text == text
    assert not result.changed


# --- the original's example ------------------------------------------------------------------------------------

ORIGINAL_EXAMPLE = """\
FROM golang:1.10-alpine3.8 AS build

ENV DEP_VERSION 0.4.1

WORKDIR /go/src/github.com/orisano/gobase

RUN apk add --no-cache git make mailcap tzdata
RUN wget -O /usr/local/bin/dep https://example.org/dep-linux-amd64 && chmod +x /usr/local/bin/dep
RUN wget -O /usr/local/bin/depinst https://example.org/depinst-linux-amd64 && chmod +x /usr/local/bin/depinst

COPY Gopkg.lock Gopkg.toml ./
RUN dep ensure -vendor-only

ENV CGO_ENABLED=0
ENV GO_LDFLAGS="-extldflags='-static'"
RUN go build -i ./vendor/...

COPY . .
RUN make build
"""


def test_the_originals_example_goes_from_8_layers_to_5() -> None:
    """The ENVs between two RUNs stay after the merged RUN; the second command gets them inside its subshell."""
    result = minify(ORIGINAL_EXAMPLE)
    assert (
        result.text
        == """\
FROM golang:1.10-alpine3.8 AS build

ENV DEP_VERSION 0.4.1

WORKDIR /go/src/github.com/orisano/gobase

RUN (apk add --no-cache git make mailcap tzdata) \\
    && (wget -O /usr/local/bin/dep https://example.org/dep-linux-amd64 && chmod +x /usr/local/bin/dep) \\
    && (wget -O /usr/local/bin/depinst https://example.org/depinst-linux-amd64 && chmod +x /usr/local/bin/depinst)

COPY Gopkg.lock Gopkg.toml ./
RUN (dep ensure -vendor-only) \\
    && export CGO_ENABLED='0' && export GO_LDFLAGS="-extldflags='-static'" && (go build -i ./vendor/...)

ENV CGO_ENABLED=0 GO_LDFLAGS="-extldflags='-static'"

COPY . .
RUN make build
"""
    )
    assert [(s.before, s.after) for s in result.stats] == [(8, 5)]


# --- RUN ---------------------------------------------------------------------------------------------------------


def test_each_command_runs_in_its_own_subshell() -> None:
    assert merged("FROM a\nRUN cd /src\nRUN export X=1\nRUN umask 077\nRUN exit 0\nRUN make\n") == (
        "FROM a\nRUN (cd /src) \\\n    && (export X=1) \\\n    && (umask 077) \\\n    && (exit 0) \\\n    && (make)\n"
    )


def test_a_trailing_comment_does_not_swallow_what_follows() -> None:
    text = "FROM a\nRUN apk add curl # the client\nRUN echo 'not # a comment' && make # build\nRUN true\n"
    assert merged(text) == (
        "FROM a\n# the client\nRUN (apk add curl) \\\n    # build\n"
        "    && (echo 'not # a comment' && make) \\\n    && (true)\n"
    )


def test_a_comment_inside_a_continuation_swallows_the_rest_of_its_own_command_only() -> None:
    text = "FROM a\nRUN echo a # note \\\n    && echo swallowed\nRUN echo b\n"
    assert merged(text) == "FROM a\n# note     && echo swallowed\nRUN (echo a) \\\n    && (echo b)\n"


def test_a_command_that_may_switch_e_on_runs_as_a_statement_with_its_own_options() -> None:
    text = "FROM a\nRUN set -eux; apt-get update; apt-get install -y curl\nRUN cd /x && make\nRUN echo $(date)\n"
    assert merged(text) == (
        "FROM a\nRUN set -e; \\\n"
        "    (set +e; set -eux; apt-get update; apt-get install -y curl); \\\n"
        "    (cd /x && make); \\\n"
        "    (set +e; echo $(date))\n"
    )


def test_under_an_errexit_shell_simple_lists_join_with_and() -> None:
    text = 'FROM a\nSHELL ["/bin/bash", "-eo", "pipefail", "-c"]\nRUN curl x | tar -x\nRUN cd /x && make\n'
    assert merged(text) == (
        'FROM a\nSHELL ["/bin/bash", "-eo", "pipefail", "-c"]\nRUN (curl x | tar -x) \\\n    && (cd /x && make)\n'
    )


def test_under_an_errexit_shell_other_commands_are_statements() -> None:
    text = 'FROM a\nSHELL ["/bin/sh", "-ec"]\nRUN false; echo no\nRUN echo b\n'
    assert merged(text) == 'FROM a\nSHELL ["/bin/sh", "-ec"]\nRUN (false; echo no); \\\n    (echo b)\n'


def test_line_breaks_of_each_command_are_kept() -> None:
    text = (
        "FROM a\nRUN apt-get update \\\n # which tools\n && apt-get install -y \\\n      curl \\\n"
        " && rm -rf /var/lib/apt/lists/*\nrun echo done\n"
    )
    assert merged(text) == (
        "FROM a\nRUN (apt-get update \\\n # which tools\n && apt-get install -y \\\n      curl \\\n"
        " && rm -rf /var/lib/apt/lists/*) \\\n    && (echo done)\n"
    )


def test_flags_must_be_identical() -> None:
    unchanged("FROM a\nRUN --mount=type=cache,target=/c make\nRUN --mount=type=cache,target=/d make\n")
    unchanged("FROM a\nRUN --network=none make\nRUN make\n")
    unchanged("FROM a\nRUN --security=insecure make\nRUN --security=sandbox make\n")
    assert merged("FROM a\nRUN --network=none a\nRUN --network=none b\n") == (
        "FROM a\nRUN --network=none (a) \\\n    && (b)\n"
    )


@pytest.mark.parametrize(
    "run",
    [
        'RUN ["echo", "two words"]',  # a word the shell would split
        "RUN <<EOF\necho heredoc\nEOF",
        "RUN cat <<<here-string",
        "RUN sleep 1 &",
        "RUN echo 'unterminated",
        "RUN echo $'bash only'",
        "RUN if true; then echo open",
        "RUN echo a &> /dev/null",
    ],
)
def test_runs_that_cannot_be_isolated_stay_alone(run: str) -> None:
    unchanged(f"FROM a\nRUN echo before\n{run}\n")


def test_a_run_left_alone_splits_the_chain() -> None:
    text = 'FROM a\nRUN a\nRUN b\nRUN ["c", "$HOME"]\nRUN d\nRUN e\n'
    assert merged(text) == 'FROM a\nRUN (a) \\\n    && (b)\nRUN ["c", "$HOME"]\nRUN (d) \\\n    && (e)\n'


@pytest.mark.parametrize(
    "shell",
    [
        '["powershell", "-Command"]',
        '["cmd", "/S", "/C"]',
        '["/bin/zsh", "-c"]',
        '["/bin/bash", "--rcfile", "x", "-c"]',
        '["/bin/bash", "-l", "-c"]',
        '["/bin/bash", "--login", "-c"]',
        '["/bin/sh", "-ic"]',
    ],
)
def test_runs_under_a_non_posix_shell_stay_alone(shell: str) -> None:
    unchanged(f"FROM a\nSHELL {shell}\nRUN a\nRUN b\n")


def test_windows_bases_default_to_cmd_and_stay_alone() -> None:
    unchanged("FROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN a\nRUN b\n")


def test_a_stage_inherits_the_shell_of_its_base_stage() -> None:
    text = 'FROM a AS base\nSHELL ["pwsh", "-c"]\nFROM base\nRUN a\nRUN b\nFROM a\nRUN c\nRUN d\n'
    assert (
        merged(text)
        == 'FROM a AS base\nSHELL ["pwsh", "-c"]\nFROM base\nRUN a\nRUN b\nFROM a\nRUN (c) \\\n    && (d)\n'
    )


def test_bash_env_makes_one_shell_differ_from_many() -> None:
    unchanged('FROM a\nSHELL ["/bin/bash", "-c"]\nENV BASH_ENV=/etc/profile\nRUN a\nRUN b\n')


def test_nothing_merges_across_from_or_other_instructions() -> None:
    unchanged("FROM a\nRUN a\nFROM b\nRUN b\n")
    unchanged("FROM a\nRUN a\nWORKDIR /x\nRUN b\nUSER x\nRUN c\n")


def test_shell_info_reads_options() -> None:
    assert shell_info(["/bin/sh", "-c"]) is not None and not shell_info(["/bin/sh", "-c"]).errexit  # type: ignore[union-attr]
    assert shell_info(["/bin/bash", "-o", "errexit", "-c"]).errexit  # type: ignore[union-attr]
    assert shell_info(["/bin/busybox", "sh", "-ec"]).errexit  # type: ignore[union-attr]
    assert shell_info(["/bin/bash", "-e", "+o", "errexit", "-c"]).errexit is False  # type: ignore[union-attr]
    assert shell_info(["/bin/sh", "-c", "extra"]) is None


# --- ENV / LABEL ------------------------------------------------------------------------------------------------


def test_env_merges_and_converts_the_legacy_form_with_quotes() -> None:
    text = "FROM a\nENV A=1\nENV B some value  here\nENV C 'it''s'\nENV D=\"x y\"\n"
    assert merged(text) == "FROM a\nENV A=1 B=\"some value  here\" C='it''s' D=\"x y\"\n"


def test_legacy_values_with_quotes_and_blanks_get_escaped_blanks() -> None:
    assert merged("FROM a\nENV A=1\nENV B 'a b' \"c d\" e\n") == "FROM a\nENV A=1 B='a b'\\ \"c d\"\\ e\n"


def test_env_splits_where_a_value_reads_a_variable_set_in_the_group() -> None:
    text = "FROM a\nENV A=1\nENV B=$A C=2\nENV D=${C:-x} E=3\nENV F=$HOME\n"
    assert merged(text) == "FROM a\nENV A=1\nENV B=$A C=2\nENV D=${C:-x} E=3 F=$HOME\n"


def test_env_in_a_backtick_file() -> None:
    text = "# escape=`\nFROM a\nENV A 'x y' z\nENV B=2\n"
    assert merged(text) == "# escape=`\nFROM a\nENV A='x y'` z B=2\n"


def test_long_groups_put_one_item_per_line() -> None:
    values = [f"VARIABLE_{i}=value-number-{i}" for i in range(6)]
    text = "FROM a\n" + "".join(f"ENV {v}\n" for v in values)
    assert merged(text) == "FROM a\nENV " + " \\\n    ".join(values) + "\n"


def test_labels_merge_with_their_quoting() -> None:
    text = 'FROM a\nLABEL a=b\nLABEL legacy some value\nLABEL "com.example.x"="y z" k=\'v\'\n'
    assert merged(text) == 'FROM a\nLABEL a=b legacy="some value" "com.example.x"="y z" k=\'v\'\n'


# --- COPY / ADD -------------------------------------------------------------------------------------------------


def test_copy_merges_into_the_same_directory_with_the_same_flags() -> None:
    text = "FROM a\nCOPY --chown=1:1 a /app/\nCOPY --chown=1:1 b c /app/\nCOPY --chown=2 d /app/\nCOPY e /app/\n"
    assert merged(text) == "FROM a\nCOPY --chown=1:1 a b c /app/\nCOPY --chown=2 d /app/\nCOPY e /app/\n"


def test_copy_flag_order_does_not_matter_but_every_flag_must_match() -> None:
    assert merged("FROM a\nCOPY --link --chmod=644 a /d/\nCOPY --chmod=644 --link b /d/\n") == (
        "FROM a\nCOPY --link --chmod=644 a b /d/\n"
    )
    unchanged("FROM a AS x\nFROM b\nCOPY --from=x a /d/\nCOPY a /d/\n")
    unchanged("FROM a\nCOPY --exclude=*.md a /d/\nCOPY b /d/\n")
    unchanged("FROM a\nCOPY --parents a /d/\nCOPY b /d/\n")


def test_copy_from_a_stage_index_merges() -> None:
    text = "FROM a\nFROM b\nCOPY --from=0 /x /d/\nCOPY --from=0 /y /d/\n"
    assert merged(text) == "FROM a\nFROM b\nCOPY --from=0 /x /y /d/\n"


def test_copy_needs_the_same_directory_destination() -> None:
    unchanged("FROM a\nCOPY a /d\nCOPY b /d\n")  # /d may be a file: COPY a b /d would fail
    unchanged("FROM a\nCOPY a /d/\nCOPY b /e/\n")


def test_add_of_urls_and_git_refs_stays_alone() -> None:
    unchanged("FROM a\nADD https://example.org/a.tgz /d/\nADD b /d/\n")
    unchanged("FROM a\nADD git@github.com:moby/buildkit.git /d/\nADD b /d/\n")
    assert merged("FROM a\nADD a.tar /d/\nADD b.tar /d/\n") == "FROM a\nADD a.tar b.tar /d/\n"


def test_copy_json_form_is_converted_exactly() -> None:
    assert merged('FROM a\nCOPY ["a", "/d/"]\nCOPY b /d/\n') == "FROM a\nCOPY a b /d/\n"
    assert merged('FROM a\nCOPY ["a b", "/d/"]\nCOPY c /d/\n') == 'FROM a\nCOPY ["a b", "c", "/d/"]\n'
    # a shell-form word with quotes means something else inside JSON: no group can hold both
    unchanged('FROM a\nCOPY ["a b", "/d/"]\nCOPY "c" /d/\n')


def test_heredoc_copy_stays_alone() -> None:
    unchanged("FROM a\nCOPY <<EOF /d/x\nhello\nEOF\nCOPY b /d/\n")


# --- the file around the merges ---------------------------------------------------------------------------------


def test_directives_stay_first_and_comments_move_above_the_merged_instruction() -> None:
    text = "# syntax=docker/dockerfile:1\nFROM a\n\n# first\nRUN a\n\n# second\nRUN b\n# third\nRUN c\n# end\n"
    assert merged(text) == (
        "# syntax=docker/dockerfile:1\nFROM a\n\n# first\n# second\n# third\n"
        "RUN (a) \\\n    && (b) \\\n    && (c)\n# end\n"
    )


def test_backtick_escape_is_used_for_continuations() -> None:
    text = "# escape=`\nFROM a\nRUN echo a `\n    && echo b\nRUN echo c\n"
    assert merged(text) == "# escape=`\nFROM a\nRUN (echo a `\n    && echo b) `\n    && (echo c)\n"


def test_no_newline_at_the_end_is_kept() -> None:
    assert merged("FROM a\nRUN a\nRUN b") == "FROM a\nRUN (a) \\\n    && (b)"


def test_crlf_files_merge_on_single_lines() -> None:
    assert merged("FROM a\r\nRUN a \\\r\n && b\r\nRUN c\r\n") == "FROM a\r\nRUN (a  && b) \\\r\n    && (c)\r\n"


def test_onbuild_and_other_instructions_are_kept_verbatim() -> None:
    unchanged("FROM a\nONBUILD RUN a\nONBUILD RUN b\nEXPOSE 80\nEXPOSE 81\nVOLUME /a\nVOLUME /b\n")


def test_stats_count_layers_per_stage() -> None:
    result = minify("FROM a AS b\nRUN a\nRUN b\nCOPY x /d/\nFROM b\nENV A=1\nENV B=2\nRUN c\n")
    assert [(s.label, s.before, s.after) for s in result.stats] == [("b", 3, 2), ("1", 1, 1)]


def test_a_base_from_an_arg_without_default_needs_no_build_arg() -> None:
    """minid never needs the base image: ``ARG BASE`` / ``FROM ${BASE}`` merges without --build-arg."""
    assert minify("ARG BASE\nFROM ${BASE}\nRUN a\nRUN b\n").text == "ARG BASE\nFROM ${BASE}\nRUN (a) \\\n    && (b)\n"
    # it may name a stage that changed its SHELL: then nothing after it is merged on a guess
    text = 'FROM a AS ps\nSHELL ["pwsh", "-c"]\nFROM ${BASE}\nRUN a\nRUN b\n'
    unchanged("ARG BASE\n" + text)
    assert minify("ARG BASE\n" + text, build_args={"BASE": "alpine"}).changed


# --- asking about two instructions (dlayer's findings) ---------------------------------------------------------

WHY_APART = """\
FROM a AS build
RUN add-cache
ENV A=1
EXPOSE 80
RUN use-cache
COPY x /x
RUN delete-cache
WORKDIR /w
RUN --network=none offline
FROM build
RUN delete-in-next-stage
"""


def test_why_apart_answers_for_any_two_instructions_of_the_parsed_file() -> None:
    """None for two instructions one merge holds (across ENV and metadata), else the first reason between them, in
    minid's words, naming its lines when they are not the two asked about."""
    df = parse(WHY_APART)
    result = minify_dockerfile(df)
    add, env, _, use, copy, delete, workdir, offline = df.stages[0].instructions
    (next_stage,) = df.stages[1].instructions
    assert result.why_apart(add, use) is None
    assert result.why_apart(use, copy) == "a RUN and a COPY do not merge"
    assert result.why_apart(add, delete) == "lines 5 and 6 stay apart: a RUN and a COPY do not merge"
    assert result.why_apart(delete, offline) == "WORKDIR at line 8 is between them"
    assert result.why_apart(add, next_stage) == "they are in different stages"
    assert result.why_apart(delete, workdir) == "minid does not merge WORKDIR layers"  # some builders make one
    assert result.why_apart(env, use) == "minid does not merge ENV layers"


def test_why_apart_gives_the_rules_own_refusals() -> None:
    df = parse("FROM a\nRUN --mount=type=cache,target=/c a\nRUN b\n# minid: keep\nRUN c\nRUN echo 'open\n")
    result = minify_dockerfile(df)
    a, b, c, d = df.stages[0].instructions
    assert result.why_apart(a, b) == "different flags (--mount, --network, --security)"
    assert result.why_apart(b, c) == "a pragma keeps line 5 apart (# minid: keep at line 4)"
    assert result.why_apart(c, d) == "a pragma keeps line 5 apart (# minid: keep at line 4)"
