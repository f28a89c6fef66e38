"""The GraphiQL page: what it puts in the headers editor and the query editor."""

from __future__ import annotations

import json
import re

from leadbridge_gateway._graphiql import graphiql_page

CONFIG = re.compile(r'<script id="leadbridge-graphiql" type="application/json">(.*?)</script>')


def _config(page: str) -> dict[str, object]:
    found = CONFIG.search(page)
    assert found is not None
    doc: dict[str, object] = json.loads(found.group(1))
    return doc


def test_without_a_token_the_page_says_what_to_paste_where() -> None:
    page = bytes(graphiql_page("/graphiql/").body).decode()
    config = _config(page)
    assert config["token"] is None
    assert '{"Authorization": "Bearer <token>"}' in str(config["query"])
    assert "Headers tab" in str(config["query"])
    assert "lbt_…" not in page  # no placeholder a browser would refuse to send


def test_the_demo_token_is_filled_in_and_cannot_break_out_of_the_page() -> None:
    plain = bytes(graphiql_page("/graphiql/", token="lbt_abc").body).decode()
    assert _config(plain)["token"] == "lbt_abc"
    hostile = "lbt_</script><script>alert(1)</script>"
    page = bytes(graphiql_page("/graphiql/", token=hostile).body).decode()
    assert page.count("</script>") == plain.count("</script>")
    assert _config(page)["token"] == hostile
