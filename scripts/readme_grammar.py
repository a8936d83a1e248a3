"""Rewrites the `%kfp_secret` grammar block of README.md from the subcommands' parsers.

    .venv/bin/python scripts/readme_grammar.py

(tests/test_magics.py fails until the README shows what this writes.)
"""

from pathlib import Path

from kfp_nbsecrets.magics import KfpSecretMagics

README = Path(__file__).resolve().parents[1] / "README.md"
HEADING = "### The `%kfp_secret` grammar"

text = README.read_text(encoding="utf-8")
start = text.index("```\n", text.index(HEADING))
end = text.index("```\n", start + 4)
README.write_text(text[:start + 4] + KfpSecretMagics.grammar() + text[end:], encoding="utf-8")
print(f"wrote the grammar into {README}")
