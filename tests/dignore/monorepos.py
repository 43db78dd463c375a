"""Made-up monorepos, one per ecosystem plus a mixed one with a compose file, and for each service the files its
build context must hold: the service's, its dependencies', the root files; never what the root .dockerignore drops.

Each service's Dockerfile copies the whole context to /ctx, so the image a real build makes shows what the build
received. The expected sets are written out by hand, from what each ecosystem's tool needs, not from dignore's output.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LISTING = "COPY . /ctx\n"
ROOT_IGNORE = ".git\n**/node_modules\n**/*.log\n.env\n"


def dockerfile(base: str) -> str:
    return f"FROM {base}\n{LISTING}"


@dataclass
class Monorepo:
    """``files`` (path -> text; ``{base}`` in a Dockerfile is the base image) and, per service DIR, what it keeps."""

    name: str
    files: dict[str, str]
    services: dict[str, set[str]]
    root_files: set[str] = field(default_factory=set)

    def tree(self, base: str) -> dict[str, str]:
        return {p: t.replace("{base}", base) for p, t in self.files.items()}


NOISE = {".git/HEAD": "ref\n", ".env": "SECRET=1\n", "debug.log": "log\n", ".dockerignore": ROOT_IGNORE}

GO = Monorepo(
    "go-workspace",
    {
        **NOISE,
        "go.work": "go 1.22\n\nuse (\n\t./svc/api\n\t./svc/worker\n\t./lib/common\n\t./lib/log\n)\n",
        "go.work.sum": "",
        "svc/api/Dockerfile": dockerfile("{base}"),
        "svc/api/go.mod": "module example.com/svc/api\n\ngo 1.22\n\nrequire example.com/lib/common v0.0.0\n\n"
        "replace example.com/x => ../../third_party/x\n",
        "svc/api/main.go": "package main\n",
        "svc/api/app.log": "dropped by the root's **/*.log\n",
        "svc/worker/Dockerfile": dockerfile("{base}"),
        "svc/worker/go.mod": "module example.com/svc/worker\n\n"
        "require (\n\texample.com/lib/log v0.0.0 // indirect\n)\n",
        "svc/worker/main.go": "package main\n",
        "lib/common/go.mod": "module example.com/lib/common\n\nrequire example.com/lib/log v0.0.0\n",
        "lib/common/common.go": "package common\n",
        "lib/log/go.mod": "module example.com/lib/log\n",
        "lib/log/log.go": "package log\n",
        "lib/unused/go.mod": "module example.com/lib/unused\n",
        "third_party/x/go.mod": "module example.com/x\n",
        "third_party/x/x.go": "package x\n",
    },
    {
        "svc/api": {
            *("svc/api/Dockerfile", "svc/api/go.mod", "svc/api/main.go"),
            *("lib/common/go.mod", "lib/common/common.go", "lib/log/go.mod", "lib/log/log.go"),
            *("third_party/x/go.mod", "third_party/x/x.go", "svc/worker/go.mod"),
        },
        "svc/worker": {
            *("svc/worker/Dockerfile", "svc/worker/go.mod", "svc/worker/main.go", "lib/log/go.mod", "lib/log/log.go"),
            *("svc/api/go.mod", "lib/common/go.mod"),
        },
    },
    {"go.work", "go.work.sum"},
)

PNPM = Monorepo(
    "pnpm",
    {
        **NOISE,
        "package.json": '{"name": "root", "private": true}\n',
        "pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
        "pnpm-workspace.yaml": "packages:\n  - 'apps/*'\n  - 'packages/*'\n  - '!packages/legacy'\n",
        "apps/web/Dockerfile": dockerfile("{base}"),
        "apps/web/package.json": '{\n  "name": "web",\n  "dependencies": {\n    "@acme/ui": "workspace:*",\n'
        '    "left-pad": "^1.3.0"\n  }\n}\n',
        "apps/web/index.js": "web\n",
        "apps/web/node_modules/left-pad/index.js": "dropped by the root's **/node_modules\n",
        "packages/ui/package.json": '{"name": "@acme/ui", "dependencies": {"@acme/tokens": "workspace:^"}}\n',
        "packages/ui/index.js": "ui\n",
        "packages/tokens/package.json": '{"name": "@acme/tokens"}\n',
        "packages/tokens/index.js": "tokens\n",
        "packages/unused/package.json": '{"name": "@acme/unused"}\n',
        "packages/legacy/package.json": '{"name": "@acme/legacy"}\n',
    },
    {
        "apps/web": {
            *("apps/web/Dockerfile", "apps/web/package.json", "apps/web/index.js"),
            *("packages/ui/package.json", "packages/ui/index.js", "packages/tokens/package.json"),
            "packages/tokens/index.js",
        }
    },
    {"package.json", "pnpm-lock.yaml", "pnpm-workspace.yaml"},
)

NPM = Monorepo(
    "npm-workspaces",
    {
        **NOISE,
        "package.json": '{"name": "root", "workspaces": ["services/*", "libs/*"]}\n',
        "package-lock.json": "{}\n",
        "services/api/Dockerfile": dockerfile("{base}"),
        "services/api/package.json": '{"name": "api", "dependencies": {"@acme/db": "*", "cfg": "file:../../config/cfg"}'
        ', "devDependencies": {"jest": "^29"}}\n',
        "services/api/server.js": "api\n",
        "libs/db/package.json": '{"name": "@acme/db", "dependencies": {"@acme/util": "^1.0.0"}}\n',
        "libs/db/db.js": "db\n",
        "libs/util/package.json": '{"name": "@acme/util"}\n',
        "libs/util/util.js": "util\n",
        "libs/other/package.json": '{"name": "@acme/other"}\n',
        "config/cfg/package.json": '{"name": "cfg"}\n',
        "config/cfg/index.js": "cfg\n",
    },
    {
        "services/api": {
            *("services/api/Dockerfile", "services/api/package.json", "services/api/server.js"),
            *("libs/db/package.json", "libs/db/db.js", "libs/util/package.json", "libs/util/util.js"),
            *("config/cfg/package.json", "config/cfg/index.js"),
        }
    },
    {"package.json", "package-lock.json"},
)

CARGO = Monorepo(
    "cargo",
    {
        **NOISE,
        "Cargo.toml": '[workspace]\nmembers = ["crates/*"]\nexclude = ["crates/experimental"]\n\n'
        '[workspace.dependencies]\nshared = { path = "crates/shared" }\n',
        "Cargo.lock": "version = 3\n",
        "crates/app/Dockerfile": dockerfile("{base}"),
        "crates/app/Cargo.toml": '[package]\nname = "app"\n\n[dependencies]\nshared = { workspace = true }\n'
        'util = { path = "../../vendor/util" }\nserde = "1"\n',
        "crates/app/src/main.rs": "fn main() {}\n",
        "crates/shared/Cargo.toml": '[package]\nname = "shared"\n',
        "crates/shared/src/lib.rs": "\n",
        "crates/cli/Cargo.toml": '[package]\nname = "cli"\n',
        "crates/cli/src/main.rs": "fn main() {}\n",
        "crates/experimental/Cargo.toml": '[package]\nname = "experimental"\n',
        "vendor/util/Cargo.toml": '[package]\nname = "util"\n\n[dev-dependencies]\nhelper = { path = "../helper" }\n',
        "vendor/util/src/lib.rs": "\n",
        "vendor/helper/Cargo.toml": '[package]\nname = "helper"\n',
        "target/debug/app": "build output, not a member\n",
    },
    {
        "crates/app": {
            *("crates/app/Dockerfile", "crates/app/Cargo.toml", "crates/app/src/main.rs"),
            *(
                "crates/shared/Cargo.toml",
                "crates/shared/src/lib.rs",
                "crates/cli/Cargo.toml",
                "crates/cli/src/main.rs",
            ),
            *("vendor/util/Cargo.toml", "vendor/util/src/lib.rs", "vendor/helper/Cargo.toml"),
        }
    },
    {"Cargo.toml", "Cargo.lock"},
)

UV = Monorepo(
    "uv",
    {
        **NOISE,
        "pyproject.toml": '[project]\nname = "root"\nversion = "0"\n\n[tool.uv.workspace]\nmembers = ["packages/*"]\n'
        'exclude = ["packages/scratch"]\n\n[tool.uv.sources]\ncore = { workspace = true }\n',
        "uv.lock": "version = 1\n",
        "packages/api/Dockerfile": dockerfile("{base}"),
        "packages/api/pyproject.toml": '[project]\nname = "api"\nversion = "0"\ndependencies = ["core", "plug>=1", '
        '"httpx"]\n\n[tool.uv.sources]\nplug = { path = "../../plugins/plug" }\n',
        "packages/api/api.py": "",
        "packages/core/pyproject.toml": '[project]\nname = "Core"\nversion = "0"\n\n[tool.poetry.dependencies]\n'
        'legacy = { path = "../../legacy/lib", develop = true }\n',
        "packages/core/core.py": "",
        "packages/unused/pyproject.toml": '[project]\nname = "unused"\nversion = "0"\n',
        "plugins/plug/pyproject.toml": '[project]\nname = "plug"\nversion = "1"\n',
        "legacy/lib/pyproject.toml": '[tool.poetry]\nname = "legacy"\n',
        "legacy/lib/lib.py": "",
        "legacy/other.py": "",
    },
    {
        "packages/api": {
            *("packages/api/Dockerfile", "packages/api/pyproject.toml", "packages/api/api.py"),
            *("packages/core/pyproject.toml", "packages/core/core.py", "plugins/plug/pyproject.toml"),
            *("legacy/lib/pyproject.toml", "legacy/lib/lib.py"),
        }
    },
    {"pyproject.toml", "uv.lock"},
)

ECOSYSTEMS = [GO, PNPM, NPM, CARGO, UV]


@dataclass
class ComposeRepo:
    """A monorepo with a compose file: per service, its build context (relative to the root) and what it holds."""

    files: dict[str, str]
    services: dict[str, tuple[str, str | None, str, set[str]]]  # name -> (context, target, Dockerfile, files)

    def tree(self, base: str) -> dict[str, str]:
        return {p: t.replace("{base}", base) for p, t in self.files.items()}


MIXED_ROOT = {"compose.yaml", "package.json", "package-lock.json", "README.md", "Cargo.toml"}
API = {
    *("services/api/Dockerfile", "services/api/Dockerfile.dockerignore", "services/api/go.mod"),
    *("services/api/main.go", "config/prod/app.conf", "jobs/run.sh", "lib/go/common/go.mod", "lib/go/common/c.go"),
}
MIXED = ComposeRepo(
    {
        **NOISE,
        ".dockerignore": ROOT_IGNORE + "**/*.md\n!README.md\n",
        "README.md": "# mixed\n",
        "compose.yaml": """\
services:
  api:
    build:
      context: .
      dockerfile: services/api/Dockerfile
      target: prod
  worker:
    build:
      context: .
      dockerfile: services/api/Dockerfile
      target: worker
  web:
    build: {context: ., dockerfile: apps/web/Dockerfile}
    x-dignore:
      keep: [shared/assets]
      exclude: ["**/*.map"]
  rs:
    build:
      context: .
      dockerfile: crates/app/Dockerfile
      additional_contexts:
        extra: ./vendor
  tool:
    build: ./tools/gen
  db:
    image: postgres:16
""",
        "package.json": '{"name": "mixed", "private": true, "workspaces": ["apps/*", "packages/*"]}\n',
        "package-lock.json": "{}\n",
        "Cargo.toml": '[workspace]\nmembers = ["crates/*"]\n',
        "services/api/Dockerfile": "FROM {base} AS base\n\nFROM base AS prod\nCOPY services/api /src/api\n"
        "RUN --mount=type=bind,source=config/prod,target=/cfg cat /cfg/app.conf\n" + LISTING + "\n"
        "FROM base AS worker\nCOPY jobs/ /jobs/\n" + LISTING,
        "services/api/go.mod": "module example.com/api\n\nreplace example.com/common => ../../lib/go/common\n",
        "services/api/main.go": "package main\n",
        "services/api/notes.md": "dropped by the root's **/*.md\n",
        "services/api/app.log": "dropped by the root's **/*.log\n",
        "config/prod/app.conf": "prod\n",
        "config/dev/app.conf": "dev\n",
        "jobs/run.sh": "echo job\n",
        "lib/go/common/go.mod": "module example.com/common\n",
        "lib/go/common/c.go": "package common\n",
        "lib/go/unused/go.mod": "module example.com/unused\n",
        "apps/web/Dockerfile": dockerfile("{base}"),
        "apps/web/package.json": '{"name": "web", "dependencies": {"@acme/ui": "*"}}\n',
        "apps/web/index.js": "web\n",
        "apps/web/index.js.map": "dropped by x-dignore exclude\n",
        "apps/web/node_modules/@acme/ui/index.js": "dropped by the root's **/node_modules\n",
        "packages/ui/package.json": '{"name": "@acme/ui"}\n',
        "packages/ui/index.js": "ui\n",
        "packages/other/package.json": '{"name": "@acme/other"}\n',
        "shared/assets/logo.svg": "<svg/>\n",
        "shared/fonts/a.ttf": "font\n",
        "crates/app/Dockerfile": dockerfile("{base}"),
        "crates/app/Cargo.toml": '[package]\nname = "app"\n',
        "crates/app/src/main.rs": "fn main() {}\n",
        "crates/lib/Cargo.toml": '[package]\nname = "lib"\n',
        "crates/lib/src/lib.rs": "\n",
        "vendor/extra/x.txt": "an additional context, not this one\n",
        "tools/gen/Dockerfile": dockerfile("{base}"),
        "tools/gen/gen.sh": "echo gen\n",
        "tools/gen/data/x.txt": "x\n",
    },
    {
        "api": (".", "prod", "services/api/Dockerfile", API | MIXED_ROOT),
        "worker": (".", "worker", "services/api/Dockerfile", API | MIXED_ROOT),
        "web": (
            ".",
            None,
            "apps/web/Dockerfile",
            {
                *("apps/web/Dockerfile", "apps/web/Dockerfile.dockerignore", "apps/web/package.json"),
                *("apps/web/index.js", "packages/ui/package.json", "packages/ui/index.js", "shared/assets/logo.svg"),
            }
            | MIXED_ROOT,
        ),
        "rs": (
            ".",
            None,
            "crates/app/Dockerfile",
            {
                *("crates/app/Dockerfile", "crates/app/Dockerfile.dockerignore", "crates/app/Cargo.toml"),
                *("crates/app/src/main.rs", "crates/lib/Cargo.toml", "crates/lib/src/lib.rs"),
            }
            | MIXED_ROOT,
        ),
        "tool": ("tools/gen", None, "Dockerfile", {"Dockerfile", "Dockerfile.dockerignore", "gen.sh", "data/x.txt"}),
    },
)
