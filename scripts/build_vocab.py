#!/usr/bin/env python
"""Build the run-time vocabulary files shipped in ``consent/data/`` from the reference ontologies.

Why a build step: the reference files (``duo.owl``, 100 kB of OWL/RDF-XML; ``mondo.tsv``, 1.5 MB)
are not what the hub should parse on every start. We derive exactly what the matcher needs:

- ``consent/data/duo.json``: every DUO class (id, shorthand, label, description, parents from
  ``rdfs:subClassOf``, kind, obsolete flag) plus an ``attribution`` key;
- ``consent/data/mondo.tsv.gz``: id, label, parents; a leading ``# `` attribution line;
  gzip with ``mtime=0`` and no file name, so a rebuild from the same input is byte-identical;
- ``consent/data/ATTRIBUTION.md``: sources, versions and licence (CC BY 4.0 requires it).

Usage::

    python scripts/build_vocab.py                   # write consent/data/ from ../shared/ontologies
    python scripts/build_vocab.py --check           # exit 1 when the shipped files are stale
    python scripts/build_vocab.py --mondo new.obo   # take MONDO from an OBO (or TSV) release
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import xml.etree.ElementTree as ET  # noqa: S405 - parses our own read-only reference file
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from consent.vocabulary import (  # noqa: E402 - needs ROOT on sys.path when run as a script
    MondoTerms,
    read_mondo_file,
    write_mondo_tsv_gz,
)

DEFAULT_SOURCE = ROOT.parent / "shared" / "ontologies"
DEFAULT_OUT = ROOT / "consent" / "data"

OBO = "http://purl.obolibrary.org/obo/"
NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "obo": OBO,
    "oboInOwl": "http://www.geneontology.org/formats/oboInOwl#",
}
RDF_ABOUT = f"{{{NS['rdf']}}}about"
RDF_RESOURCE = f"{{{NS['rdf']}}}resource"
OBSOLETE_CLASS = NS["oboInOwl"] + "ObsoleteClass"

# Where each DUO branch hangs (DUO 2021-02-23): permissions under "data use permission",
# modifiers under "data use modifier", research types under OBI "investigation".
PERMISSION_ROOT = "DUO:0000001"
MODIFIER_ROOT = "DUO:0000017"
INVESTIGATION = "OBI:0000066"

LICENCE = "CC BY 4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
DUO_HOME = "https://github.com/EBISPOT/DUO"
MONDO_HOME = "https://mondo.monarchinitiative.org/"


def iri_to_curie(iri: str) -> str:
    """``http://purl.obolibrary.org/obo/DUO_0000042`` -> ``DUO:0000042``."""
    if iri.startswith(OBO):
        local = iri[len(OBO) :]
        prefix, _, number = local.partition("_")
        return f"{prefix}:{number}" if number else local
    return iri


def _text(element: ET.Element, tag: str) -> str:
    found = element.find(tag, NS)
    return (found.text or "").strip() if found is not None else ""


def parse_duo_owl(path: Path) -> tuple[str, dict[str, dict]]:
    """Return (release version, ``{curie: term}``) for every DUO ``owl:Class`` in ``path``.

    The CURIE comes from ``oboInOwl:id`` rather than the IRI: DUO 2021-02-23 misspells NPOA's IRI
    as ``DUO_00000044`` while its id (and duo.csv) say ``DUO:0000044``.
    """
    tree = ET.parse(path)  # noqa: S314 - trusted local file; expat does not fetch entities
    root = tree.getroot()
    version_iri = root.find("owl:Ontology/owl:versionIRI", NS)
    version = ""
    if version_iri is not None:
        parts = version_iri.get(RDF_RESOURCE, "").split("/")
        version = next((p for p in parts if p[:4].isdigit() and "-" in p), "")

    iri_to_id: dict[str, str] = {}
    terms: dict[str, dict] = {}
    for cls in root.findall("owl:Class", NS):
        iri = cls.get(RDF_ABOUT, "")
        if not iri.startswith(OBO + "DUO_"):
            continue
        curie = _text(cls, "oboInOwl:id") or iri_to_curie(iri)
        iri_to_id[iri] = curie
        parents: list[str] = []
        restricted_to: list[str] = []
        obsolete = False
        for sub in cls.findall("rdfs:subClassOf", NS):
            target = sub.get(RDF_RESOURCE)
            if target == OBSOLETE_CLASS:
                obsolete = True
            elif target:
                parents.append(target)
            else:  # an owl:Restriction: "is_restricted_to some X" (DS -> MONDO, GS -> GAZ, ...)
                some = sub.find("owl:Restriction/owl:someValuesFrom", NS)
                if some is not None and some.get(RDF_RESOURCE):
                    restricted_to.append(iri_to_curie(some.get(RDF_RESOURCE, "")))
        deprecated = _text(cls, "owl:deprecated").lower() == "true"
        terms[curie] = {
            "id": curie,
            "shorthand": _text(cls, "oboInOwl:shorthand"),
            "label": _text(cls, "rdfs:label"),
            "description": _text(cls, "obo:IAO_0000115"),
            "parents": parents,  # IRIs for now; mapped to CURIEs below
            "obsolete": obsolete or deprecated,
            "restricted_to": sorted(restricted_to),
        }
    for term in terms.values():
        term["parents"] = sorted(iri_to_id.get(p, iri_to_curie(p)) for p in term["parents"])
    return version, terms


def classify(terms: dict[str, dict]) -> None:
    """Set each term's ``kind`` from where it sits in the DUO tree."""

    def ancestors(curie: str) -> set[str]:
        seen: set[str] = set()
        todo = [curie]
        while todo:
            node = todo.pop()
            for parent in terms.get(node, {}).get("parents", []):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen

    for curie, term in terms.items():
        above = ancestors(curie)
        if term["obsolete"]:
            term["kind"] = "obsolete"
        elif curie in (PERMISSION_ROOT, MODIFIER_ROOT):
            term["kind"] = "category"
        elif PERMISSION_ROOT in above:
            term["kind"] = "permission"
        elif MODIFIER_ROOT in above:
            term["kind"] = "modifier"
        elif INVESTIGATION in above:
            term["kind"] = "research_type"
        else:
            term["kind"] = "other"


def merge_csv(terms: dict[str, dict], path: Path) -> list[str]:
    """Prefer duo.csv's shorthand/label/description (the curated table); report disagreements."""
    notes: list[str] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            curie = row["id"].strip()
            term = terms.get(curie)
            if term is None:
                notes.append(f"{curie} is in duo.csv but not in duo.owl")
                continue
            for key in ("shorthand", "label", "description"):
                value = (row.get(key) or "").strip()
                if value and term[key] and value != term[key]:
                    notes.append(f"{curie} {key}: csv {value!r} != owl {term[key]!r}")
                if value:
                    term[key] = value
    return notes


def attribution_text(duo_version: str, mondo_version: str) -> str:
    return (
        f"Contains data derived from the GA4GH Data Use Ontology (DUO), EBISPOT/DUO release "
        f"v{duo_version} ({DUO_HOME}), and from the Mondo Disease Ontology (MONDO), "
        f"{mondo_version} ({MONDO_HOME}); both licensed {LICENCE} ({LICENCE_URL}). "
        f"Changes: reduced to term ids, labels, definitions and is_a parents."
    )


def attribution_markdown(duo_version: str, mondo_version: str, mondo_count: int) -> str:
    return f"""# Attribution

The files in this folder are derived from two ontologies, both published under the
[Creative Commons Attribution 4.0 International licence]({LICENCE_URL}) ({LICENCE}).
They are rebuilt by `scripts/build_vocab.py`; do not edit them by hand.

- `duo.json`: the GA4GH Data Use Ontology (DUO), from `duo.owl` and `duo.csv`,
  release v{duo_version} (EBISPOT/DUO commit 81f5c3d), {DUO_HOME}, licence {LICENCE}.
- `mondo.tsv.gz`: the Mondo Disease Ontology (MONDO), monarch-initiative, {MONDO_HOME},
  {mondo_version}, {mondo_count} non-deprecated classes, licence {LICENCE}.

DUO: Lawson J. et al., "The Data Use Ontology to streamline responsible access to human
biomedical datasets", Cell Genomics 1(2), 100028 (2021). Contributors to the GA4GH Data Use
Ontology workstream are listed at {DUO_HOME}#contributions.

MONDO: Vasilevsky N. A. et al., "Mondo: Unifying diseases for the world, by the world",
medRxiv (2022), and the Monarch Initiative contributors.

Changes made: both ontologies were reduced to what the consent matcher needs (term ids, labels,
DUO definitions and shorthands, `is_a` / `rdfs:subClassOf` parents). DUO:0000044 (NPOA) is
listed under its correct CURIE although the source OWL misspells its IRI as `DUO_00000044`.
No endorsement by the ontology authors is implied.
"""


def build(source: Path, out: Path, mondo_source: Path | None, mondo_version: str) -> list[str]:
    """Write the three files into ``out``; return notes worth showing to the operator."""
    duo_version, terms = parse_duo_owl(source / "duo.owl")
    notes = merge_csv(terms, source / "duo.csv")
    classify(terms)
    mondo: MondoTerms = read_mondo_file(mondo_source or source / "mondo.tsv")
    missing = {p for _, parents in mondo.values() for p in parents if p not in mondo}
    if missing:
        notes.append(f"MONDO: {len(missing)} parent ids are not terms, e.g. {sorted(missing)[0]}")
    text = attribution_text(duo_version, mondo_version)

    out.mkdir(parents=True, exist_ok=True)
    document = {
        "attribution": text,
        "source": {
            "ontology": "DUO",
            "version": duo_version,
            "url": DUO_HOME,
            "licence": LICENCE,
        },
        "terms": [terms[c] for c in sorted(terms)],
    }
    (out / "duo.json").write_text(
        json.dumps(document, indent=1, ensure_ascii=False, sort_keys=True) + "\n", "utf-8"
    )
    write_mondo_tsv_gz(mondo, out / "mondo.tsv.gz", text)
    (out / "ATTRIBUTION.md").write_text(
        attribution_markdown(duo_version, mondo_version, len(mondo)), "utf-8"
    )
    notes.append(f"DUO v{duo_version}: {len(terms)} classes; MONDO: {len(mondo)} classes")
    return notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="reference folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--mondo", type=Path, help="MONDO .tsv/.obo (default: SOURCE/mondo.tsv)")
    parser.add_argument("--mondo-version", default="release as extracted in 2022")
    parser.add_argument("--check", action="store_true", help="exit 1 if OUT is not up to date")
    args = parser.parse_args(argv)

    if not args.check:
        for note in build(args.source, args.out, args.mondo, args.mondo_version):
            sys.stdout.write(note + "\n")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        build(args.source, Path(tmp), args.mondo, args.mondo_version)
        stale = [
            name
            for name in ("duo.json", "mondo.tsv.gz", "ATTRIBUTION.md")
            if not (args.out / name).exists()
            or (args.out / name).read_bytes() != (Path(tmp) / name).read_bytes()
        ]
    for name in stale:
        sys.stdout.write(f"stale: {args.out / name}\n")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
