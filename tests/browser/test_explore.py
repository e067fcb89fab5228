"""The explorer in a real browser: headless Chromium against a real `mandel serve`."""

import urllib.parse

from conftest import metric

# Two animation frames: whatever was scheduled has been drawn.
FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def settle(page):
    """Waits until every tile of the view has arrived and been drawn."""
    page.evaluate(FRAMES)
    page.wait_for_function("document.body.dataset.pending === '0'", timeout=120_000)
    page.evaluate(FRAMES)


def open_explorer(browser, url):
    """A page (in a context of its own: an empty browser cache) showing `url`, settled, and
    the list of every request it made."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(url)
    settle(page)
    return page, requests


COMPARE = """async (src) => {
    const img = new Image();
    img.src = src;
    await img.decode();
    const off = new OffscreenCanvas(img.width, img.height);
    const octx = off.getContext('2d');
    octx.drawImage(img, 0, 0);
    const want = octx.getImageData(0, 0, img.width, img.height).data;
    const c = document.getElementById('map');
    const got = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    if (got.length !== want.length) return null;
    let differing = 0, changes = 0;
    const colours = new Set();
    for (let i = 0; i < got.length; i += 4) {
        if (got[i] !== want[i] || got[i + 1] !== want[i + 1] || got[i + 2] !== want[i + 2]) differing++;
        if (got[i] !== got[i + 4] || got[i + 1] !== got[i + 5]) changes++;
        colours.add(got[i] << 16 | got[i + 1] << 8 | got[i + 2]);
    }
    return { differing, changes, colours: colours.size, pixels: got.length / 4 };
}"""


def compare_with_render(page, render):
    """The drawn map against the picture at `render` (a /render URL), pixel by pixel: how
    many differ, how many differ from their right-hand neighbour, its colours and pixels; None
    if the sizes differ."""
    return page.evaluate(COMPARE, render)


def params(page):
    """The view in the page's URL, once the page has written it (it does so at most every
    250 ms)."""
    page.wait_for_function("document.body.dataset.url !== 'pending'")
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(page.url).query))


def test_the_map_shows_tiles_from_this_server_alone(server, browser):
    page, requests = open_explorer(browser, server + "/explore")
    tiles = [u for u in requests if "/tile?" in u]
    assert tiles, "no tile was asked for"
    outside = [
        u for u in requests if not u.startswith("data:")
        and urllib.parse.urlsplit(u).hostname != "127.0.0.1"
    ]
    assert outside == []
    colours = page.evaluate("""() => {
        const c = document.getElementById('map');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const seen = new Set();
        for (let i = 0; i < d.length; i += 4 * 97) seen.add(d[i] << 16 | d[i + 1] << 8 | d[i + 2]);
        return seen.size;
    }""")
    assert colours > 50, f"the map has {colours} colours: no picture"
    assert params(page)["re"] == "-0.75" and params(page)["zoom"] == "1"


def test_drag_and_wheel_move_the_view_and_the_url_and_a_link_reopens_it(server, browser):
    page, _ = open_explorer(browser, server + "/explore")
    before = params(page)
    page.mouse.move(800, 400)
    page.mouse.down()
    page.mouse.move(900, 450, steps=5)
    page.mouse.up()
    dragged = params(page)
    # Dragged right and down: the view moved left and up, by 100 and 50 pixels.
    spacing = 3.5 / float(before["zoom"]) / 1280
    assert abs(float(dragged["re"]) - (float(before["re"]) - 100 * spacing)) < spacing / 10
    assert abs(float(dragged["im"]) - (float(before["im"]) + 50 * spacing)) < spacing / 10
    page.mouse.move(1000, 300)
    page.mouse.wheel(0, -400)
    zoomed = params(page)
    assert float(zoomed["zoom"]) > 2 * float(dragged["zoom"])
    settle(page)
    # (The panel's text boxes are masked: the picture is the map.)
    first = page.screenshot(mask=[page.locator("#panel")])
    # Back returns to the view before the wheel.
    again, _ = open_explorer(browser, page.url)
    assert params(again) == params(page)
    second = again.screenshot(mask=[again.locator("#panel")])
    assert second == first, "the link does not reopen the same picture"
    page.go_back()
    page.evaluate(FRAMES)
    assert params(page)["zoom"] == dragged["zoom"]


def test_tiles_line_up_with_one_render_of_the_view(server, browser):
    # At zoom 0.7 a 1280-pixel window is 5 wide: 2^-8 per pixel, the pixels of level-2 tiles,
    # drawn one to one from x = -3.25, y = 1.5625.
    style = "max_iter=300&colormap=classic&color=smooth&cycle=64"
    page, _ = open_explorer(browser, f"{server}/explore?re=-0.75&im=0&zoom=0.7&{style}")
    render = (
        f"/render?xmin=-3.25&xmax=1.75&ymin=-1.5625&ymax=1.5625&width=1280&height=800&{style}"
    )
    found = compare_with_render(page, render)
    assert found is not None, "the map and the render differ in size"
    assert found["differing"] == 0, f"the map differs from one /render of its view: {found}"


def test_a_second_visit_is_served_from_the_tile_cache(server, browser):
    url = f"{server}/explore?re=-0.1&im=0.9&zoom=6&colormap=magma"
    open_explorer(browser, url)
    rendered = metric(server, "mandel_tiles_total", 'source="render"')
    cached = metric(server, "mandel_tiles_total", 'source="cache"')
    # A new context: nothing in the browser's cache, so every tile is asked for again.
    _, requests = open_explorer(browser, url)
    tiles = [u for u in requests if "/tile?" in u]
    assert tiles
    assert metric(server, "mandel_tiles_total", 'source="render"') == rendered
    assert metric(server, "mandel_tiles_total", 'source="cache"') == cached + len(tiles)


def test_a_view_at_zoom_1e30_shows_the_structure_of_one_render(server, browser):
    # Zoom 0.7·2^100 (about 8.9e29) makes a 1280-pixel window 2^-108 a pixel, level 102's
    # tiles drawn one to one, about c = i, a corner of tiles at every level: the tip of a
    # filament (a Misiurewicz point). Every tile is perturbed about a reference of its own family's;
    # the render about the centre: they may differ at a pixel that direct iteration itself
    # cannot settle.
    zoom = str(7 * 2**100 // 10) + ".2"
    style = "max_iter=3000&colormap=twilight&color=smooth&cycle=64"
    page, _ = open_explorer(browser, f"{server}/explore?re=0&im=1&zoom={zoom}&{style}")
    assert params(page)["zoom"] == "8.8735542e29"
    render = f"/render?center=0,1&zoom={zoom}&width=1280&height=800&{style}"
    found = compare_with_render(page, render)
    assert found is not None, "the map and the render differ in size"
    # Structure, not blocks: in doubles the whole window is within one unit of i's last
    # place, a single colour; here the smooth colours change from pixel to pixel along the
    # filaments and across the glow about them.
    assert found["colours"] >= 200, found
    assert found["changes"] > 0.05 * found["pixels"], found
    assert found["differing"] <= 0.001 * found["pixels"], found


def test_at_zoom_1e30_drag_and_wheel_move_the_view_by_exact_pixels(server, browser):
    # Doubles cannot hold these centres: a pixel is 10^-33 of the coordinates. The page keeps
    # them exactly (fixed-point BigInts), so a drag moves the centre by its pixels and the
    # wheel zooms about the plane point under the cursor, to the URL's hundredth of a pixel.
    from decimal import Decimal, getcontext

    getcontext().prec = 80
    page, _ = open_explorer(
        browser, f"{server}/explore?re=0.25&im=1.0000000000000000000000000000001&zoom=1e30"
        "&max_iter=2000&color=counts"
    )
    before = params(page)
    pixel = lambda p: Decimal("3.5") / Decimal(p["zoom"]) / 1280
    page.mouse.move(700, 300)
    page.mouse.down()
    page.mouse.move(800, 350, steps=5)
    page.mouse.up()
    dragged = params(page)
    s = pixel(before)
    assert abs(Decimal(dragged["re"]) - (Decimal(before["re"]) - 100 * s)) < s / 10
    assert abs(Decimal(dragged["im"]) - (Decimal(before["im"]) + 50 * s)) < s / 10
    # The wheel, about device pixel (1000, 300): the point under it stays there.
    under = lambda p: (
        Decimal(p["re"]) + (1000 - 640) * pixel(p),
        Decimal(p["im"]) - (300 - 400) * pixel(p),
    )
    page.mouse.move(1000, 300)
    page.mouse.wheel(0, -400)
    zoomed = params(page)
    assert Decimal(zoomed["zoom"]) > 2 * Decimal(dragged["zoom"])
    for a, b in zip(under(dragged), under(zoomed)):
        assert abs(a - b) < pixel(zoomed), (under(dragged), under(zoomed))
