"""Does the students' requirements.txt install everywhere? pip's dry run, per platform and Python.

For each platform students use, and Colab, pip resolves the requirements the build writes
(``instructor.build.runtime_requirements``) as binary wheels for that platform and Python,
installing nothing: ``pip install --dry-run --ignore-installed --only-binary=:all:
--platform ... --python-version ... --target <tmp> -r requirements.txt``. Prints a Markdown
table (platform x Python: resolves, or pip's error) and exits 1 if any combination fails.

pip downloads the wheels it resolves (TensorFlow's are 250 to 600 MB each), so this is run
by hand: ``make platforms``.
"""

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

PYTHONS = ("3.11", "3.12", "3.13")


@dataclass(frozen=True)
class Platform:
    name: str
    wheel_tags: tuple[str, ...]
    markers: dict
    """The PEP 508 marker values a Python on this platform reports."""
    pythons: tuple[str, ...] = PYTHONS


def manylinux_tags(arch: str, newest_glibc: int) -> tuple[str, ...]:
    """Wheel tags a Linux with glibc 2.``newest_glibc`` accepts, newest first (pip expands only
    the legacy ``manylinux2014`` alias by itself, not ``manylinux_2_x``).

    Example:
    >>> manylinux_tags("aarch64", 18)
    ('manylinux_2_18_aarch64', 'manylinux_2_17_aarch64', 'manylinux2014_aarch64')
    """
    return (*(f"manylinux_2_{minor}_{arch}" for minor in range(newest_glibc, 16, -1)), f"manylinux2014_{arch}")


LINUX = {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"}
# glibc 2.28: Debian 10, RHEL 8, Ubuntu 20.04 (2.31) and later. Colab runs Ubuntu 22.04 (2.35)
# with Python 3.12.
PLATFORMS = (
    Platform("Linux x86-64", manylinux_tags("x86_64", 28), {**LINUX, "platform_machine": "x86_64"}),
    Platform("Linux aarch64", manylinux_tags("aarch64", 28), {**LINUX, "platform_machine": "aarch64"}),
    Platform("Windows x86-64", ("win_amd64",),
             {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt", "platform_machine": "AMD64"}),
    # pip expands a macOS tag to every older macOS version itself.
    Platform("macOS arm64 (macOS 12+)", ("macosx_12_0_arm64",),
             {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix", "platform_machine": "arm64"}),
    Platform("Google Colab", manylinux_tags("x86_64", 35), {**LINUX, "platform_machine": "x86_64"}, ("3.12",)),
)

# pip evaluates environment markers (ours and those of every dependency) against the Python
# that runs it, whatever --platform and --python-version say; so pip runs here with the
# target's marker values, or a macOS dry run would still pick tensorflow-cpu.
PIP_WITH_MARKERS = """
import json, sys
from pip._vendor.packaging import markers
target = json.loads(sys.argv.pop(1))
host = markers.default_environment
markers.default_environment = lambda: {**host(), **target}
from pip._internal.cli.main import main
sys.exit(main())
"""


def marker_environment(platform: Platform, python: str) -> dict:
    """The marker values of ``python`` on ``platform``.

    Example:
    >>> marker_environment(PLATFORMS[2], "3.12")["python_full_version"]
    '3.12.0'
    """
    return {**platform.markers, "python_version": python, "python_full_version": f"{python}.0",
            "implementation_version": f"{python}.0"}


def resolve(requirements: Path, platform: Platform, python: str) -> str:
    """'resolves', or pip's last error line, for ``requirements`` on ``platform`` and ``python``."""
    tags = [arg for tag in platform.wheel_tags for arg in ("--platform", tag)]
    with tempfile.TemporaryDirectory(prefix="platforms-") as target:
        result = subprocess.run(
            [sys.executable, "-c", PIP_WITH_MARKERS, json.dumps(marker_environment(platform, python)),
             "install", "--dry-run", "--ignore-installed", "--only-binary=:all:", *tags, "--python-version", python,
             "--target", target, "--quiet", "-r", str(requirements)],
            capture_output=True, text=True,
        )
    if result.returncode == 0:
        return "resolves"
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    return (errors or result.stderr.splitlines() or ["pip failed"])[0]


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from instructor.build import runtime_requirements

    with tempfile.TemporaryDirectory() as tmp:
        requirements = Path(tmp) / "requirements.txt"
        requirements.write_text("\n".join(runtime_requirements()) + "\n")
        print("| platform | Python | pip dry run |\n|---|---|---|", flush=True)
        outcomes = []
        for platform in PLATFORMS:
            for python in platform.pythons:
                outcomes.append(resolve(requirements, platform, python))
                print(f"| {platform.name} | {python} | {outcomes[-1]} |", flush=True)
    return 0 if all(outcome == "resolves" for outcome in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
