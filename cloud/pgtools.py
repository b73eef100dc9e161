"""The PostgreSQL client programs a backup and a restore run: found on PATH, their major
version checked against the server's or the dump's, and the connection handed to them
through libpq's environment (never on the command line, where `ps` shows it)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

from sqlalchemy.engine import URL, make_url

_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")


class BackupError(Exception):
    """A backup or a restore refused or failed; the message is for the operator (zh-CN)."""


@dataclass(frozen=True)
class Tool:
    name: str
    path: str
    version: str  # "15.20"

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])


def find_tool(name: str) -> Tool:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"找不到 {name}：请安装与数据库服务器同一主版本（或更新）的 "
                          "PostgreSQL 客户端（Debian/Ubuntu：postgresql-client）")
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    found = _VERSION.search(out.stdout)
    if out.returncode != 0 or found is None:
        raise BackupError(f"无法识别 {path} 的版本：{out.stdout.strip() or out.stderr.strip()}")
    return Tool(name, path, f"{found.group(1)}.{found.group(2) or 0}")


def require_at_least(tool: Tool, major: int, what: str) -> None:
    """pg_dump cannot dump a newer server, and pg_restore cannot read a newer pg_dump's
    archive: say so before they fail half-way with their own English message."""
    if tool.major < major:
        raise BackupError(f"{tool.name} 版本 {tool.version} 低于{what}的主版本 {major}；"
                          f"请安装 PostgreSQL {major} 或更新版本的客户端")


def libpq(database_url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and an environment carrying it."""
    url = make_url(database_url)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    # The query (sslmode, connect_timeout, …) is libpq's own vocabulary under psycopg2.
    plain = URL.create("postgresql", username=url.username, host=url.host, port=url.port,
                       database=url.database, query=url.query)
    return plain.render_as_string(hide_password=False), env


def _failed(what: str, code: int, stderr: bytes) -> BackupError:
    tail = stderr.decode("utf-8", "replace").strip()[-2000:]
    return BackupError(f"{what}失败（退出码 {code}）：{tail}")


def run(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, check=False)
    if done.returncode != 0:
        raise _failed(what, done.returncode, done.stderr)


def pipe(producer: list[str], consumer: list[str], env: dict[str, str], what: str) -> None:
    """`producer | consumer`, streamed (a dump may be larger than memory); either one
    failing fails the whole."""
    # The producer's stderr goes to a file: a pipe nobody reads could fill and stall it.
    with tempfile.TemporaryFile() as errors, subprocess.Popen(
        producer, env=env, stdout=subprocess.PIPE, stderr=errors
    ) as first:
        assert first.stdout is not None
        second = subprocess.run(consumer, env=env, stdin=first.stdout, capture_output=True,
                                check=False)
        first.stdout.close()
        first.wait()
        errors.seek(0)
        first_err = errors.read()
    if first.returncode != 0:
        raise _failed(what, first.returncode, first_err)
    if second.returncode != 0:
        raise _failed(what, second.returncode, second.stderr + second.stdout)
