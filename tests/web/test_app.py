"""The application's frame: headers, static files, robots.txt, 404 pages."""

from __future__ import annotations

from web.app import CONTENT_SECURITY_POLICY


async def test_every_page_forbids_inline_scripts(client):
    for path in ("/", "/robots.txt", "/no/such/page"):
        response = await client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert csp == CONTENT_SECURITY_POLICY, path
        assert "'unsafe-inline'" not in csp and "script-src 'self'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_unknown_page_is_the_sites_own_404(client):
    response = await client.get("/no/such/page")
    assert response.status == 404
    assert response.content_type == "text/html"
    text = await response.text()
    assert "Not found" in text and 'href="/"' in text


async def test_unknown_api_route_is_a_json_404(client):
    response = await client.get("/api/nothing")
    assert response.status == 404
    assert await response.json() == {"error": "There is no page at this address."}


async def test_robots_txt(client):
    response = await client.get("/robots.txt")
    assert response.status == 200
    assert response.content_type == "text/plain"
    assert "Disallow: /api/" in await response.text()


async def test_static_files_are_versioned_and_cached(client):
    page = await (await client.get("/")).text()
    start = page.index("/static/style.css?v=")
    url = page[start : page.index('"', start)]
    response = await client.get(url)
    assert response.status == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    unversioned = await client.get("/static/style.css")
    assert unversioned.headers["Cache-Control"] == "public, max-age=3600"
    assert (await client.get("/static/nothing.css")).status == 404
