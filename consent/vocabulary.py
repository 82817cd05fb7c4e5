"""The DUO and MONDO vocabularies the consent matcher reasons with.

The hub ships a derived, compressed copy of both ontologies in ``consent/data/`` (built by
``scripts/build_vocab.py`` from the reference files, CC BY 4.0, see ``data/ATTRIBUTION.md``), so
the matcher works offline, in a bare checkout and without a database. Both files are read lazily,
once per process, behind a lock: web workers and Celery tasks share one copy, and importing this
module costs nothing until a term is looked up.

This module must stay free of Django imports: the node-side code and the benchmarks use it too.
The parsers (TSV and OBO to ``{id: (label, parents)}``) live here so that a management command
loading a newer MONDO release reuses exactly the code that built the shipped file.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DATA_DIR",
    "DUO_JSON",
    "MONDO_TSV_GZ",
    "DuoTerm",
    "MondoTerms",
    "configure",
    "duo_ancestors",
    "duo_term",
    "duo_terms",
    "is_covered",
    "is_duo",
    "is_mondo",
    "mondo_ancestors",
    "mondo_label",
    "mondo_size",
    "parse_mondo_tsv",
    "parse_obo",
    "read_mondo_file",
    "write_mondo_tsv_gz",
]

DATA_DIR = Path(__file__).resolve().parent / "data"
DUO_JSON = DATA_DIR / "duo.json"
MONDO_TSV_GZ = DATA_DIR / "mondo.tsv.gz"

#: Environment variables that point the hub at other vocabulary files (for example a newer MONDO
#: release written by a management command) without touching the shipped ones.
ENV_MONDO = "LIFES_MONDO_FILE"
ENV_DUO = "LIFES_DUO_FILE"

#: ``{curie: (label, parent curies)}``: what every MONDO parser returns.
MondoTerms = dict[str, tuple[str, tuple[str, ...]]]

DUO_CURIE = re.compile(r"^DUO:\d{7}$")
MONDO_CURIE = re.compile(r"^MONDO:\d{7}$")
MONDO_HEADER = ("id", "label", "parents")


@dataclass(frozen=True, slots=True)
class DuoTerm:
    """One DUO class as shipped in ``duo.json``.

    ``parents`` are the direct ``rdfs:subClassOf`` targets as CURIEs (including non-DUO ones such
    as ``OBI:0000066`` for research types); ``restricted_to`` names the class a term must be
    coupled with (``MONDO:0000001`` for DS, ``GAZ:00000448`` for GS). ``kind`` is where the term
    sits in DUO: ``permission`` (under DUO:0000001), ``modifier`` (under DUO:0000017),
    ``research_type`` (under OBI:0000066, "investigation"), ``category`` (DUO:0000001 and
    DUO:0000017 themselves) or ``obsolete``.
    """

    id: str
    shorthand: str
    label: str
    description: str
    parents: tuple[str, ...]
    kind: str = "other"
    obsolete: bool = False
    restricted_to: tuple[str, ...] = ()

    @property
    def display(self) -> str:
        """How reasons name the term: label, shorthand and code, so a reader can look it up."""
        if self.shorthand:
            return f"{self.label} ({self.shorthand}, {self.id})"
        return f"{self.label} ({self.id})"


# --------------------------------------------------------------------------------------------
# Parsers and writers (shared with scripts/build_vocab.py and the MONDO loading command)
# --------------------------------------------------------------------------------------------


def parse_mondo_tsv(lines: Iterable[str]) -> MondoTerms:
    """Parse ``id<TAB>label<TAB>parents`` (``|``-separated) lines.

    Lines starting with ``#`` (the attribution comment) and the header are skipped. Raises
    ``ValueError`` naming the line for anything else that is not three tab-separated columns,
    because a silently truncated hierarchy would make the matcher refuse (or allow) wrongly.
    """
    terms: MondoTerms = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line or line.startswith("#"):
            continue
        cols = line.split("\t")
        if tuple(cols) == MONDO_HEADER:
            continue
        if len(cols) != 3:
            raise ValueError(f"line {number}: expected 3 tab-separated columns, got {len(cols)}")
        curie, label, parents = cols
        terms[curie] = (label, tuple(p for p in parents.split("|") if p))
    return terms


_OBO_TAG = re.compile(r"^([A-Za-z_-]+):\s*(.*)$")
_OBO_TRAILING = re.compile(r"\s*(\{[^}]*\})?\s*(!.*)?$")


def _obo_value(value: str) -> str:
    """Strip OBO trailing qualifiers (``{...}``) and comments (``! name``) from a tag value."""
    return _OBO_TRAILING.sub("", value).strip()


def _obo_unquote(value: str) -> str:
    """The text of an OBO quoted string (``name`` is bare, but ``def`` and synonyms are quoted)."""
    if value.startswith('"'):
        end = value.find('"', 1)
        while end > 0 and value[end - 1] == "\\":
            end = value.find('"', end + 1)
        return value[1:end] if end > 0 else value[1:]
    return value


def parse_obo(lines: Iterable[str], prefix: str = "MONDO:") -> MondoTerms:
    """Parse the ``[Term]`` stanzas of an OBO 1.4 file into ``{id: (label, is_a parents)}``.

    Only ids starting with ``prefix`` are kept, obsolete terms are dropped (as in the shipped
    TSV, which lists non-deprecated classes), and ``is_a`` parents outside ``prefix`` or pointing
    at dropped terms are removed so that every ancestor walk stays inside the returned mapping.
    """
    raw: dict[str, tuple[str, list[str]]] = {}
    stanza: str | None = None
    curie = ""
    label = ""
    parents: list[str] = []
    obsolete = False

    def flush() -> None:
        if stanza == "Term" and curie.startswith(prefix) and not obsolete:
            raw[curie] = (label, parents)

    for raw_line in lines:
        line = raw_line.strip()
        if not line or line.startswith("!"):
            continue
        if line.startswith("[") and line.endswith("]"):
            flush()
            stanza = line[1:-1]
            curie, label, parents, obsolete = "", "", [], False
            continue
        if stanza != "Term":
            continue
        match = _OBO_TAG.match(line)
        if not match:
            continue
        tag, value = match.groups()
        if tag == "id":
            curie = _obo_value(value)
        elif tag == "name":
            label = _obo_unquote(_obo_value(value))
        elif tag == "is_a":
            parent = _obo_value(value).split()[0] if _obo_value(value) else ""
            if parent.startswith(prefix):
                parents.append(parent)
        elif tag == "is_obsolete":
            obsolete = _obo_value(value).lower() == "true"
    flush()
    return {c: (lab, tuple(p for p in ps if p in raw)) for c, (lab, ps) in raw.items()}


def _open_text(path: Path) -> io.TextIOBase:
    if path.name.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return path.open(encoding="utf-8")


def read_mondo_file(path: str | os.PathLike[str]) -> MondoTerms:
    """Read a MONDO hierarchy from ``.tsv``, ``.tsv.gz``, ``.obo`` or ``.obo.gz``."""
    path = Path(path)
    stem = path.name.removesuffix(".gz")
    with _open_text(path) as handle:
        if stem.endswith(".obo"):
            return parse_obo(handle)
        if stem.endswith((".tsv", ".txt")):
            return parse_mondo_tsv(handle)
    raise ValueError(f"{path}: unknown MONDO file type (want .tsv, .tsv.gz, .obo or .obo.gz)")


def write_mondo_tsv_gz(
    terms: Mapping[str, tuple[str, Iterable[str]]],
    path: str | os.PathLike[str],
    attribution: str,
) -> None:
    """Write ``terms`` as the shipped format: ``# attribution``, header, rows sorted by id.

    The gzip header carries no file name and ``mtime=0`` so that rebuilding from the same input
    gives byte-identical output (reviewable diffs, reproducible wheels).
    """
    comment = " ".join(attribution.split())
    out = io.StringIO()
    out.write(f"# {comment}\n")
    out.write("\t".join(MONDO_HEADER) + "\n")
    for curie in sorted(terms):
        label, parents = terms[curie]
        if "\t" in label or "\n" in label:
            raise ValueError(f"{curie}: label contains a tab or newline")
        out.write(f"{curie}\t{label}\t{'|'.join(sorted(parents))}\n")
    with (
        Path(path).open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(out.getvalue().encode("utf-8"))


# --------------------------------------------------------------------------------------------
# The loaded vocabulary (module-level, lazily built once, thread-safe)
# --------------------------------------------------------------------------------------------


class _Vocabulary:
    """Both ontologies in memory, with memoised ancestor closures."""

    def __init__(self, duo: dict[str, DuoTerm], mondo: MondoTerms) -> None:
        self.duo = duo
        self.mondo = mondo
        self._duo_ancestors: dict[str, frozenset[str]] = {}
        self._mondo_ancestors: dict[str, frozenset[str]] = {}
        self._lock = threading.Lock()

    def ancestors(self, curie: str, *, of_mondo: bool) -> frozenset[str]:
        """Reflexive, transitive ``is_a`` closure, memoised per term.

        Closures are computed iteratively (no recursion limit), children reuse their parents'
        cached sets, and a cycle in a malformed file cannot loop forever.
        """
        cache = self._mondo_ancestors if of_mondo else self._duo_ancestors
        found = cache.get(curie)
        if found is not None:
            return found
        parents_of = self._mondo_parents if of_mondo else self._duo_parents
        parents_of(curie)  # raises KeyError for an unknown term before any work is done
        # Post-order walk: compute the parents' closures first, then the node's.
        stack: list[tuple[str, bool]] = [(curie, False)]
        visiting: set[str] = set()
        while stack:
            node, expanded = stack.pop()
            if node in cache:
                continue
            parents = parents_of(node)
            if expanded:
                closure = {node}
                for parent in parents:
                    closure |= cache.get(parent, frozenset((parent,)))
                with self._lock:
                    cache.setdefault(node, frozenset(closure))
                visiting.discard(node)
                continue
            visiting.add(node)
            stack.append((node, True))
            stack.extend((p, False) for p in parents if p not in cache and p not in visiting)
        return cache[curie]

    def _mondo_parents(self, curie: str) -> tuple[str, ...]:
        try:
            return self.mondo[curie][1]
        except KeyError:
            raise KeyError(f"unknown MONDO term {curie!r}") from None

    def _duo_parents(self, curie: str) -> tuple[str, ...]:
        term = self.duo.get(curie)
        if term is None:
            if curie.startswith("DUO:"):
                raise KeyError(f"unknown DUO term {curie!r}")
            return ()  # a non-DUO parent (IAO, OBI, ...): a leaf of the walk
        return term.parents


_lock = threading.Lock()
_vocab: _Vocabulary | None = None
_paths: dict[str, Path | None] = {"duo": None, "mondo": None}


def _load_duo(path: Path) -> dict[str, DuoTerm]:
    with path.open(encoding="utf-8") as handle:
        data = json.load(handle)
    return {
        item["id"]: DuoTerm(
            id=item["id"],
            shorthand=item.get("shorthand", ""),
            label=item["label"],
            description=item.get("description", ""),
            parents=tuple(item.get("parents", ())),
            kind=item.get("kind", "other"),
            obsolete=bool(item.get("obsolete", False)),
            restricted_to=tuple(item.get("restricted_to", ())),
        )
        for item in data["terms"]
    }


def _get() -> _Vocabulary:
    """The process-wide vocabulary, loaded on first use (double-checked locking)."""
    global _vocab
    vocab = _vocab
    if vocab is not None:
        return vocab
    with _lock:
        if _vocab is None:
            duo_path = _paths["duo"] or Path(os.environ.get(ENV_DUO) or DUO_JSON)
            mondo_path = _paths["mondo"] or Path(os.environ.get(ENV_MONDO) or MONDO_TSV_GZ)
            _vocab = _Vocabulary(_load_duo(duo_path), read_mondo_file(mondo_path))
        return _vocab


def configure(
    *,
    mondo_path: str | os.PathLike[str] | None = None,
    duo_path: str | os.PathLike[str] | None = None,
) -> None:
    """Point the vocabulary at other files and drop the loaded copy (reloaded on next use).

    For a management command that installed a newer MONDO release, and for tests. ``None``
    restores the default (environment variable, else the shipped file).
    """
    global _vocab
    with _lock:
        _paths["mondo"] = Path(mondo_path) if mondo_path is not None else None
        _paths["duo"] = Path(duo_path) if duo_path is not None else None
        _vocab = None


# --------------------------------------------------------------------------------------------
# Public look-ups
# --------------------------------------------------------------------------------------------


def duo_term(curie: str) -> DuoTerm:
    """The DUO term ``curie``; ``KeyError`` when DUO has no such class."""
    try:
        return _get().duo[curie]
    except KeyError:
        raise KeyError(f"unknown DUO term {curie!r}") from None


def duo_terms() -> Iterator[DuoTerm]:
    """Every shipped DUO term (obsolete ones included, flagged), sorted by id."""
    duo = _get().duo
    return (duo[c] for c in sorted(duo))


def is_duo(curie: object) -> bool:
    """True when ``curie`` is a DUO class in the shipped release (obsolete ones included)."""
    return isinstance(curie, str) and curie in _get().duo


def duo_ancestors(curie: str) -> frozenset[str]:
    """``curie`` and every class above it in DUO (non-DUO parents such as ``OBI:0000066``
    included, so callers can tell research types from permissions and modifiers)."""
    return _get().ancestors(curie, of_mondo=False)


def mondo_label(curie: str) -> str:
    """The MONDO label of ``curie``; ``KeyError`` when the release has no such class."""
    try:
        return _get().mondo[curie][0]
    except KeyError:
        raise KeyError(f"unknown MONDO term {curie!r}") from None


def is_mondo(curie: object) -> bool:
    """True when ``curie`` is a (non-deprecated) MONDO class in the loaded release."""
    return isinstance(curie, str) and curie in _get().mondo


def mondo_size() -> int:
    """How many MONDO classes the loaded release has (for status pages and sanity checks)."""
    return len(_get().mondo)


def mondo_ancestors(curie: str) -> frozenset[str]:
    """``curie`` and all its ``is_a`` ancestors; memoised; ``KeyError`` for an unknown term."""
    return _get().ancestors(curie, of_mondo=True)


def is_covered(purpose_disease: str, dataset_disease: str) -> bool:
    """Whether research on ``purpose_disease`` falls within consent for ``dataset_disease``.

    DUO DS (DUO:0000007) allows use "provided it is related to the specified disease"; DUOS
    approves a disease-specific purpose when the dataset is tagged "to this disease exactly or
    a parent disease" (consent-ontology, docs/Algorithms.md). So we walk *up* from the purpose:
    a narrower purpose disease is covered by a broader consented one, never the reverse.
    Unknown terms are not covered (fail closed); validate input with ``is_mondo`` first.
    """
    try:
        return dataset_disease in mondo_ancestors(purpose_disease)
    except KeyError:
        return False


_mondo_index: tuple[int, list[tuple[str, str, str]]] | None = None


def _mondo_lowercase() -> list[tuple[str, str, str]]:
    """(id, label, lower-case label) of every MONDO class, built once per loaded release."""
    global _mondo_index
    vocab = _get()
    index = _mondo_index
    if index is None or index[0] != id(vocab):
        rows = sorted((c, label, label.casefold()) for c, (label, _p) in vocab.mondo.items())
        index = _mondo_index = (id(vocab), rows)
    return index[1]


def mondo_search(query: str, *, limit: int = 20) -> list[tuple[str, str]]:
    """MONDO classes whose id or label matches ``query``, best first: the id itself, labels
    starting with the query, labels with a word starting with it, then labels containing it
    (shorter labels first within each). Every word of the query must occur. The shipped
    release carries English labels only (MONDO has no Dutch labels to ship)."""
    text = " ".join(query.split()).casefold()
    if not text:
        return []
    curie = text.upper()
    if curie.startswith("MONDO:") and is_mondo(curie):
        return [(curie, mondo_label(curie))]
    words = text.split()
    ranked: list[tuple[int, int, str, str]] = []
    for term, label, folded in _mondo_lowercase():
        if not all(w in folded for w in words):
            continue
        if folded.startswith(text):
            rank = 0
        elif f" {words[0]}" in f" {folded}":
            rank = 1
        else:
            rank = 2
        ranked.append((rank, len(label), term, label))
    ranked.sort()
    return [(term, label) for _rank, _length, term, label in ranked[:limit]]
