"""The project owns its documents: the data contract and the 2022 note live in docs/, and
every file the README links to exists in the repository."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_links_only_to_files_in_the_repository():
    text = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\(((?!https?:)[^)#]+)\)", text)
    assert "docs/DATA_CONTRACT.md" in links and "docs/EFFECT_NOTE_2022.md" in links
    assert not [x for x in links if not (ROOT / x).exists()]
    assert "../shared" not in text


def test_the_contract_in_docs_names_every_register_the_readers_know():
    from sibeval.extract.contract import SCHEMAS

    contract = (ROOT / "docs" / "DATA_CONTRACT.md").read_text()
    assert not [r for r in SCHEMAS if r not in contract]
