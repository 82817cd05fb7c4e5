"""Which packages and files the hub's wheel carries (the rest is in pyproject.toml).

templates/, static/ and locale/ stay at the top of the repository, where Django finds them in a
checkout; the wheel carries them inside the ``lifes`` package (``lifes/templates`` ...), where
lifes/settings.py looks when the checkout's directories are not there. pyproject.toml alone
cannot both find packages and map these directories, hence this file. ``lifes_node`` is left
out: it is its own distribution (lifes_node/pyproject.toml).
"""

from pathlib import Path

from setuptools import find_namespace_packages, setup

ROOT = Path(__file__).resolve().parent
APPS = ["lifes", "accounts", "catalogue", "audit", "consent", "requests_app", "permits"]
APPS += ["reports", "demo", "outbox", "idempotency"]
DATA_DIRS = {"lifes.templates": "templates", "lifes.static": "static", "lifes.locale": "locale"}


def data_packages() -> dict[str, list[str]]:
    """Every directory under the data dirs as a package of data files (setuptools' way)."""
    packages = {}
    for package, directory in DATA_DIRS.items():
        for path in [ROOT / directory, *sorted((ROOT / directory).rglob("*"))]:
            if path.is_dir():
                relative = path.relative_to(ROOT / directory).parts
                packages[".".join([package, *relative])] = ["*"]
    return packages


DATA = data_packages()

setup(
    packages=[
        *find_namespace_packages(include=[f"{app}*" for app in APPS], exclude=["lifes_node*"]),
        *DATA,
    ],
    package_dir=DATA_DIRS,
    package_data={"": ["*.json", "*.gz", "*.txt", "*.csv", "*.md"], **DATA},
)
