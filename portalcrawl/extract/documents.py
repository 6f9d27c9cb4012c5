"""Document files (attachments): the one list of their extensions, and the pattern of a URL ending in one."""

from __future__ import annotations

import re

DOCUMENT_EXTENSIONS = frozenset(
    [
        "pdf",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "wps",
        "et",
        "dps",
        "ppt",
        "pptx",
        "ofd",
        "ceb",
        "txt",
        "rtf",
        "zip",
        "rar",
        "7z",
    ]
)
# The extensions as a regex alternation, for patterns that end in one.
EXTENSION_ALTERNATION = "|".join(sorted(DOCUMENT_EXTENSIONS))
# A link to a document file: listed attachments are never fetched as articles.
DOCUMENT_URL = re.compile(rf"\.(?:{EXTENSION_ALTERNATION})$", re.IGNORECASE)
