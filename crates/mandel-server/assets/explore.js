// The explorer: a full-window canvas of the server's /tile tiles, panned and zoomed with a
// mouse, fingers or keys. The view lives in the URL (?re=&im=&zoom=&max_iter=&colormap=
// &color=&cycle=), so a link opens exactly what it shows, and back and forward navigate.
"use strict";

const TILE = 256; // pixels along a tile's side
const MAX_LEVEL = 10000; // the server's deepest tile level
const BASE_LOG2 = 2; // a level-0 tile's side in the plane is 4 = 2^2: level L's is 2^(2 - L)
const VIEW_WIDTH = 3.5; // at zoom 1 the window is 3.5 wide, as `mandel render --zoom`
const MIN_ZOOM_LOG2 = -2; // zoom 1/4
const ANCESTORS = 8; // levels up to look for a tile to stand in, scaled, for a missing one
const KEEP_TILES = 400; // decoded tiles kept for reuse
const RETRY_MS = 2000; // before a tile that failed is asked for again
const PREVIEW_UP = 3; // levels up of the coarse tile asked for where nothing can stand in
// The server's highest max-iter (put in by the server).
const MAX_ITER = Number("__MANDEL_MAX_ITER__") || 1e6;

// Coordinates in the plane are fixed-point BigInts: a value v is held as round(v·2^P), fine
// enough for the pixels of the deepest level, exact for every tile edge. Doubles would lose
// the view's centre past a zoom of about 10^15.
const P = MAX_LEVEL + 64;
const ONE = 1n << BigInt(P);

const canvas = document.getElementById("map");
const ctx = canvas.getContext("2d");
const $ = (id) => document.getElementById(id);

// zoomLog2: log2 of the zoom, which can be far beyond a double's range.
const DEFAULTS = {
  re: parseFixed("-0.75"),
  im: 0n,
  zoomLog2: 0,
  maxIter: null,
  colormap: "classic",
  color: "smooth",
  cycle: 64,
};
let view = { ...DEFAULTS };

// ---- Numbers ----------------------------------------------------------------------------

/** The fixed-point value of a decimal text (`-0.75`, `1.5e-30`, any number of digits), or
 * undefined if it is not one, or not within |v| < 8. */
function parseFixed(text) {
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text ?? "");
  if (!m || (m[2] + (m[3] ?? "")).length === 0) return undefined;
  const fraction = m[3] ?? "";
  const exponent = Number(m[4] ?? 0) - fraction.length;
  if (Math.abs(exponent) > 4 * P) return undefined;
  let n = BigInt(m[2] + fraction) * ONE;
  n = exponent >= 0 ? n * 10n ** BigInt(exponent) : roundDiv(n, 10n ** BigInt(-exponent));
  if ((n < 0n ? -n : n) >= 8n * ONE) return undefined;
  return m[1] === "-" ? -n : n;
}

/** a / b rounded to the nearest integer (b > 0). */
function roundDiv(a, b) {
  const q = a / b;
  const r = a - q * b;
  return 2n * (r < 0n ? -r : r) >= b ? q + (a < 0n ? -1n : 1n) : q;
}

/** The fixed-point `n` as a decimal with `places` digits after the point, trailing zeros
 * dropped. */
function formatFixed(n, places) {
  const negative = n < 0n;
  const scaled = roundDiv((negative ? -n : n) * 10n ** BigInt(places), ONE);
  const digits = scaled.toString().padStart(places + 1, "0");
  const whole = digits.slice(0, digits.length - places);
  const fraction = digits.slice(digits.length - places).replace(/0+$/, "");
  const text = fraction ? `${whole}.${fraction}` : whole;
  return negative && text !== "0" ? "-" + text : text;
}

/** log2 of a positive decimal text of any size (`2`, `1e30`, `4.0E533`), or undefined. */
function parseZoomLog2(text) {
  const m = /^\s*\+?(\d*\.?\d*)(?:[eE]([+-]?\d+))?\s*$/.exec(text ?? "");
  const mantissa = Number(m?.[1]);
  if (!m || !(mantissa > 0)) return undefined;
  const z = Math.log2(mantissa) + Number(m[2] ?? 0) * Math.log2(10);
  return Number.isFinite(z) ? z : undefined;
}

/** The zoom 2^z as a decimal to `n` significant digits: `0.7`, `3000`, `1.2345e30`. */
function formatZoom(z, n) {
  // Below 10^21 a double writes it without an exponent.
  if (2 ** z < 1e21) return fmt(2 ** z, n);
  const e10 = z * Math.log10(2);
  let exponent = Math.floor(e10);
  let mantissa = trimZeros((10 ** (e10 - exponent)).toPrecision(n));
  if (Number(mantissa) >= 10) [mantissa, exponent] = ["1", exponent + 1];
  return `${mantissa}e${exponent}`;
}

/** `v` to `n` significant digits, without trailing zeros. */
function fmt(v, n) {
  const s = v.toPrecision(n);
  return s.includes("e") ? s : trimZeros(s);
}

const trimZeros = (s) => (s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s);

// ---- The view and the URL ---------------------------------------------------------------

/** The view a query string describes, each bad or missing value at its default. */
function viewFromQuery(search) {
  const q = new URLSearchParams(search);
  const number = (key, ok) => {
    const v = Number(q.get(key));
    return q.has(key) && Number.isFinite(v) && ok(v) ? v : undefined;
  };
  const pick = (key, allowed) => (allowed.includes(q.get(key)) ? q.get(key) : undefined);
  return {
    re: parseFixed(q.get("re")) ?? DEFAULTS.re,
    im: parseFixed(q.get("im")) ?? DEFAULTS.im,
    zoomLog2: clampZoom(parseZoomLog2(q.get("zoom")) ?? DEFAULTS.zoomLog2),
    maxIter: number("max_iter", (v) => Number.isInteger(v) && v >= 1 && v <= MAX_ITER) ?? null,
    colormap: pick("colormap", [...$("colormap").options].map((o) => o.value)) ?? DEFAULTS.colormap,
    color: pick("color", ["smooth", "counts"]) ?? DEFAULTS.color,
    cycle: q.get("cycle") === "" ? null : number("cycle", (v) => v > 0) ?? DEFAULTS.cycle,
  };
}

/** The centre's texts, to a hundredth of a pixel. */
function centreTexts() {
  const places = Math.max(4, Math.ceil((view.zoomLog2 + Math.log2(canvas.width / VIEW_WIDTH)) * Math.log10(2)) + 2);
  return [formatFixed(view.re, places), formatFixed(view.im, places)];
}

/** The query string of the view: what the URL, a copied link and a reload hold. */
function queryOfView() {
  const [re, im] = centreTexts();
  const q = new URLSearchParams({ re, im, zoom: formatZoom(view.zoomLog2, 8) });
  if (view.maxIter !== null) q.set("max_iter", view.maxIter);
  q.set("colormap", view.colormap);
  q.set("color", view.color);
  q.set("cycle", view.cycle ?? "");
  return q.toString();
}

let resting = true;
let restTimer = 0;
let urlTimer = 0;
let lastWrite = -Infinity;
/** Makes the view the one its URL holds, to its digits (a reload draws the same), and writes
 * that URL, at most every 250 ms: browsers limit history calls. A change that starts after
 * the view has rested makes a new history entry, so that back returns to where one stopped. */
function updateUrl() {
  view = viewFromQuery(queryOfView());
  document.body.dataset.url = "pending";
  if (!urlTimer) {
    const wait = Math.max(0, 250 - (performance.now() - lastWrite));
    urlTimer = setTimeout(writeUrl, wait);
  }
  clearTimeout(restTimer);
  restTimer = setTimeout(() => {
    writeUrl();
    resting = true;
  }, 600);
}

function writeUrl() {
  clearTimeout(urlTimer);
  urlTimer = 0;
  lastWrite = performance.now();
  const url = "?" + queryOfView();
  try {
    if (resting) history.pushState(null, "", url);
    else if (location.search !== url) history.replaceState(null, "", url);
  } catch {
    // Over the browser's limit: the next write carries the view.
  }
  resting = false;
  document.body.dataset.url = "written";
}

window.addEventListener("popstate", () => {
  resting = true;
  view = viewFromQuery(location.search);
  syncControls();
  redraw();
});

// ---- Geometry ---------------------------------------------------------------------------
// Distances on the screen are doubles (device pixels); places in the plane are fixed-point
// BigInts; between the two, a distance of a few screens converts exactly enough (to 2^-40 of
// a pixel) at any zoom.

/** log2 of the fixed-point units per device pixel. */
const unitsLog2 = () => P + Math.log2(VIEW_WIDTH / canvas.width) - view.zoomLog2;

/** The bits a fixed-point distance is shifted by to convert it: ~2^40 units a pixel. */
const shift = () => Math.max(0, Math.floor(unitsLog2()) - 40);

/** `px` device pixels as a fixed-point distance. */
function toUnits(px) {
  const s = shift();
  return BigInt(Math.round(px * 2 ** (unitsLog2() - s))) << BigInt(s);
}

/** A fixed-point distance (a few screens at most) in device pixels. */
function toPixels(units) {
  const s = shift();
  return Number(units >> BigInt(s)) * 2 ** (s - unitsLog2());
}

function clampZoom(z) {
  const deepest = MAX_LEVEL + 6 + Math.log2(VIEW_WIDTH / Math.max(canvas.width, 1));
  return Math.min(Math.max(z, MIN_ZOOM_LOG2), deepest);
}

/** Zooms by `factor` keeping the plane point under device pixel (px, py) where it is. */
function zoomAbout(px, py, factor) {
  const [dx, dy] = [px - canvas.width / 2, py - canvas.height / 2];
  const before = [toUnits(dx), toUnits(dy)];
  view.zoomLog2 = clampZoom(view.zoomLog2 + Math.log2(factor));
  view.re += before[0] - toUnits(dx);
  view.im -= before[1] - toUnits(dy);
  changed();
}

function panBy(dx, dy) {
  view.re -= toUnits(dx);
  view.im += toUnits(dy);
  changed();
}

/** max-iter for tiles of level `l`: 200 at the whole set, growing with the digits of the
 * magnification, up to the server's limit. By level, not by zoom, so that a level's tiles
 * (and the parents that stand in for them) keep their URLs while one zooms. */
function autoMaxIter(l) {
  const depth = Math.max(0, (l - 3) * Math.LOG10E * Math.LN2);
  return Math.min(MAX_ITER, Math.round(200 * (1 + depth) ** 1.5));
}

/** The max-iter of level `l`'s tiles (the view's, by default). */
const maxIter = (l = level()) => view.maxIter ?? autoMaxIter(l);

/** The tile level whose pixels are as fine as the screen's, or finer (a hair's tolerance,
 * so that a view drawn one to one stays at its level). */
function level() {
  const l = Math.ceil(P - unitsLog2() + BASE_LOG2 - Math.log2(TILE) - 1e-9);
  return Math.min(Math.max(l, 0), MAX_LEVEL);
}

// ---- Tiles ------------------------------------------------------------------------------

/** Decoded tiles (ImageBitmap) and tiles on their way (an AbortController), by URL. */
const tiles = new Map();

/** The query of level `l`'s tiles, after their place: their max-iter and style. */
function styleQuery(l) {
  const q = new URLSearchParams({ max_iter: maxIter(l), colormap: view.colormap, color: view.color });
  if (view.cycle !== null) q.set("cycle", view.cycle);
  // This build's version (put in by the server): tiles are kept a year by browsers.
  q.set("v", "__MANDEL_VERSION__");
  return q.toString();
}

const tileUrl = (l, x, y) => `/tile?level=${l}&x=${x}&y=${y}&${styleQuery(l)}`;

/** Starts fetching a tile; it is drawn when it arrives. */
function fetchTile(url) {
  const abort = new AbortController();
  tiles.set(url, { abort });
  fetch(url, { signal: abort.signal })
    .then(async (r) => {
      if (r.ok) return r.blob();
      const why = await r.json().then((b) => b.error, () => r.statusText);
      return Promise.reject(Object.assign(new Error(why), { status: r.status }));
    })
    .then((blob) => createImageBitmap(blob))
    .then((bitmap) => {
      tiles.set(url, { bitmap, used: performance.now() });
      evict();
      redraw();
    })
    .catch((e) => {
      if (tiles.get(url)?.abort !== abort) return;
      if (abort.signal.aborted) {
        tiles.delete(url);
        return;
      }
      if (e.status >= 400 && e.status < 500) {
        // Refused (a max-iter over the server's limit, say): asking again cannot help.
        tiles.set(url, { refused: true });
        $("problem").textContent = `tiles refused: ${e.message}`;
        redraw();
        return;
      }
      // Failed (the server busy, or away): asked again in a while, if still in view.
      tiles.set(url, { failed: true });
      setTimeout(() => {
        if (tiles.get(url)?.failed) tiles.delete(url);
        redraw();
      }, RETRY_MS);
      redraw();
    });
}

/** Drops the least recently drawn decoded tiles past KEEP_TILES. */
function evict() {
  const decoded = [...tiles].filter(([, t]) => t.bitmap);
  if (decoded.length <= KEEP_TILES) return;
  decoded.sort((a, b) => a[1].used - b[1].used);
  for (const [url, t] of decoded.slice(0, decoded.length - KEEP_TILES)) {
    t.bitmap.close();
    tiles.delete(url);
  }
}

// ---- Drawing ----------------------------------------------------------------------------

let frame = 0;
function redraw() {
  if (!frame) frame = requestAnimationFrame(draw);
}

function draw() {
  frame = 0;
  const l = level();
  const sideShift = BigInt(P + BASE_LOG2 - l); // a tile's side is 2^sideShift units
  // The plane's place of the window's top-left corner.
  const left = view.re - toUnits(canvas.width / 2);
  const top = view.im + toUnits(canvas.height / 2);
  const right = view.re + toUnits(canvas.width / 2);
  const bottom = view.im - toUnits(canvas.height / 2);
  // A tile edge's device pixel, rounded, so that neighbours meet without a seam.
  const sx = (x) => Math.round(toPixels((x << sideShift) - left));
  const sy = (y) => Math.round(toPixels(top - (y << sideShift)));
  const span = 1n << BigInt(l);
  const clamp = (i) => (i < -span ? -span : i >= span ? span - 1n : i);
  const [x0, x1] = [clamp(left >> sideShift), clamp(right >> sideShift)];
  const [y0, y1] = [clamp(bottom >> sideShift), clamp(top >> sideShift)];
  const wanted = new Set();
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  for (let y = y1; y >= y0; y--) {
    for (let x = x0; x <= x1; x++) {
      const url = tileUrl(l, x, y);
      wanted.add(url);
      const [px, py, pw, ph] = [sx(x), sy(y + 1n), sx(x + 1n) - sx(x), sy(y) - sy(y + 1n)];
      const tile = tiles.get(url);
      if (tile?.bitmap) {
        tile.used = performance.now();
        ctx.drawImage(tile.bitmap, px, py, pw, ph);
        continue;
      }
      if (!tile) fetchTile(url);
      if (!drawStandIn(l, x, y, px, py, pw, ph) && l >= PREVIEW_UP) {
        // Nothing to stand in yet: a coarse tile (1/64 of the pixels) is asked for too.
        const up = BigInt(PREVIEW_UP);
        const coarse = tileUrl(l - PREVIEW_UP, x >> up, y >> up);
        wanted.add(coarse);
        if (!tiles.has(coarse)) fetchTile(coarse);
      }
    }
  }
  // Tiles on their way that are no longer in view are cancelled.
  for (const [url, t] of tiles) {
    if (t.abort && !wanted.has(url)) {
      t.abort.abort();
      tiles.delete(url);
    }
  }
  showReadout();
  // For scripts and tests: how many tiles are still on their way.
  document.body.dataset.pending = [...tiles.values()].filter((t) => t.abort).length;
}

/** Draws the nearest decoded ancestor's part of tile (l, x, y), scaled up, if there is one;
 * returns whether there was. */
function drawStandIn(l, x, y, px, py, pw, ph) {
  for (let up = 1; up <= Math.min(ANCESTORS, l); up++) {
    const n = 2 ** up;
    const [ax, ay] = [x >> BigInt(up), y >> BigInt(up)];
    const parent = tiles.get(tileUrl(l - up, ax, ay));
    if (!parent?.bitmap) continue;
    const part = TILE / n;
    // Bitmap rows run from the tile's top (its highest im) down.
    const [fx, fy] = [Number(x - (ax << BigInt(up))), n - 1 - Number(y - (ay << BigInt(up)))];
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(parent.bitmap, fx * part, fy * part, part, part, px, py, pw, ph);
    ctx.imageSmoothingEnabled = true;
    return true;
  }
  return false;
}

// ---- Readout and controls ---------------------------------------------------------------

function showReadout() {
  const [re, im] = centreTexts();
  $("re").textContent = re;
  $("im").textContent = (im.startsWith("-") ? "" : "+") + im + "i";
  $("zoom").textContent = formatZoom(view.zoomLog2, 4);
  $("iter").textContent = maxIter() + (view.maxIter === null ? " (auto)" : "");
  if (view.maxIter === null) $("maxiter").value = maxIter();
  const [w, h] = pictureSize();
  const common = {
    center: `${re},${im}`,
    zoom: formatZoom(view.zoomLog2, 8),
    max_iter: maxIter(),
    colormap: view.colormap,
    color: view.color,
  };
  // The cycle the tiles have: the view's, else max-iter (as the server colours tiles).
  const q = new URLSearchParams({ ...common, width: w, height: h, cycle: view.cycle ?? maxIter() });
  q.set("format", "png");
  $("save").href = "/render?" + q;
  $("save").download = `mandel-${w}x${h}.png`;
  const cycle = view.cycle !== null ? ` --cycle ${view.cycle}` : ` --cycle ${maxIter()}`;
  $("command").value =
    `mandel render --center=${common.center} --zoom ${common.zoom} --width ${w} --height ${h} ` +
    `--max-iter ${common.max_iter} --colormap ${view.colormap} --color ${view.color}${cycle} -o mandel.png`;
}

function pictureSize() {
  const choice = $("size").value;
  if (choice === "window") return [canvas.width, canvas.height];
  return choice.split("x").map(Number);
}

function syncControls() {
  $("auto").checked = view.maxIter === null;
  $("maxiter").disabled = view.maxIter === null;
  $("maxiter").value = maxIter();
  $("colormap").value = view.colormap;
  $("color").value = view.color;
  $("cycle").value = view.cycle ?? "";
}

function changed() {
  $("problem").textContent = "";
  updateUrl();
  redraw();
}

$("auto").addEventListener("change", () => {
  view.maxIter = $("auto").checked ? null : maxIter();
  syncControls();
  changed();
});
$("maxiter").addEventListener("change", () => {
  const v = Math.round(Number($("maxiter").value));
  if (Number.isFinite(v) && v >= 1 && v <= MAX_ITER) view.maxIter = v;
  syncControls();
  changed();
});
$("colormap").addEventListener("change", () => {
  view.colormap = $("colormap").value;
  changed();
});
$("color").addEventListener("change", () => {
  view.color = $("color").value;
  changed();
});
$("cycle").addEventListener("change", () => {
  const v = Number($("cycle").value);
  view.cycle = $("cycle").value === "" ? null : v > 0 ? v : view.cycle;
  syncControls();
  changed();
});
$("size").addEventListener("change", showReadout);
$("copy").addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(location.origin + location.pathname + "?" + queryOfView());
    $("copy").textContent = "copied";
  } catch {
    $("copy").textContent = "copy failed";
  }
  setTimeout(() => ($("copy").textContent = "copy link"), 1200);
});
function fold(folded) {
  $("panel").classList.toggle("folded", folded);
  $("fold").setAttribute("aria-expanded", String(!folded));
}
$("fold").addEventListener("click", () => fold(!$("panel").classList.contains("folded")));
// On a phone the map comes first: the panel starts folded.
if (window.matchMedia("(max-width: 520px)").matches) fold(true);

// ---- Gestures ---------------------------------------------------------------------------

const pointers = new Map(); // pointer id -> last device position
const devicePoint = (e) => {
  const r = canvas.getBoundingClientRect();
  const k = canvas.width / r.width;
  return [(e.clientX - r.left) * k, (e.clientY - r.top) * k];
};

canvas.addEventListener("pointerdown", (e) => {
  canvas.setPointerCapture(e.pointerId);
  pointers.set(e.pointerId, devicePoint(e));
  canvas.classList.add("dragging");
});
canvas.addEventListener("pointermove", (e) => {
  if (!pointers.has(e.pointerId)) return;
  const [x, y] = devicePoint(e);
  if (pointers.size === 1) {
    const [lx, ly] = pointers.get(e.pointerId);
    pointers.set(e.pointerId, [x, y]);
    panBy(x - lx, y - ly);
    return;
  }
  // Two fingers: the midpoint pans, the distance zooms about it.
  const [a, b] = [...pointers.values()];
  const before = { mid: [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2], dist: Math.hypot(a[0] - b[0], a[1] - b[1]) };
  pointers.set(e.pointerId, [x, y]);
  const [c, d] = [...pointers.values()];
  const mid = [(c[0] + d[0]) / 2, (c[1] + d[1]) / 2];
  const dist = Math.hypot(c[0] - d[0], c[1] - d[1]);
  panBy(mid[0] - before.mid[0], mid[1] - before.mid[1]);
  if (before.dist > 0 && dist > 0) zoomAbout(mid[0], mid[1], dist / before.dist);
});
const release = (e) => {
  pointers.delete(e.pointerId);
  if (pointers.size === 0) canvas.classList.remove("dragging");
};
canvas.addEventListener("pointerup", release);
canvas.addEventListener("pointercancel", release);

canvas.addEventListener(
  "wheel",
  (e) => {
    e.preventDefault();
    const [x, y] = devicePoint(e);
    const lines = e.deltaMode === 1 ? 40 : e.deltaMode === 2 ? 800 : 1;
    zoomAbout(x, y, Math.exp(-e.deltaY * lines * 0.002));
  },
  { passive: false },
);
canvas.addEventListener("dblclick", (e) => {
  const [x, y] = devicePoint(e);
  zoomAbout(x, y, e.shiftKey ? 0.5 : 2);
});
window.addEventListener("keydown", (e) => {
  const typing = [HTMLInputElement, HTMLSelectElement, HTMLTextAreaElement];
  if (typing.some((kind) => e.target instanceof kind)) return;
  const step = canvas.width / 8;
  const keys = {
    ArrowLeft: () => panBy(step, 0),
    ArrowRight: () => panBy(-step, 0),
    ArrowUp: () => panBy(0, step),
    ArrowDown: () => panBy(0, -step),
    "+": () => zoomAbout(canvas.width / 2, canvas.height / 2, 1.5),
    "=": () => zoomAbout(canvas.width / 2, canvas.height / 2, 1.5),
    "-": () => zoomAbout(canvas.width / 2, canvas.height / 2, 1 / 1.5),
  };
  if (keys[e.key]) {
    e.preventDefault();
    keys[e.key]();
  }
});

// ---- Start ------------------------------------------------------------------------------

function resize() {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(canvas.clientWidth * dpr);
  canvas.height = Math.round(canvas.clientHeight * dpr);
  view.zoomLog2 = clampZoom(view.zoomLog2);
  redraw();
}
window.addEventListener("resize", resize);

$("maxiter").max = MAX_ITER;
resize();
view = viewFromQuery(location.search);
syncControls();
history.replaceState(null, "", "?" + queryOfView());
redraw();
canvas.focus();
