"""The verification snippet of webhooks/WEBHOOKS.md, taken from the file as a receiver would
copy it: the tests verify real deliveries with it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

DOC = Path(settings.BASE_DIR) / "webhooks" / "WEBHOOKS.md"


def doc_snippet() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, "WEBHOOKS.md has exactly one Python snippet"
    return blocks[0]


def doc_verify() -> Callable[..., dict]:
    namespace: dict = {}
    exec(compile(doc_snippet(), str(DOC), "exec"), namespace)  # noqa: S102 - our own docs
    return namespace["verify_webhook"]
