// The panels on the page: how wide each canvas is (the worker draws it at that width and the
// screen's pixel density), which panels mean something for the network in view, their titles,
// notes and spoken names, the live figures as text, and PNG pictures of a panel or of the whole
// dashboard. Every word and number comes from Rust (panels::info, panels::describe,
// panels::stats_rows); this module puts them where people and screen readers find them.

const $ = (id) => document.getElementById(id);

/** Canvas names go to screen readers at most this often; the spoken summary less often still. */
const LABELS_EVERY_MS = 3000;
const SUMMARY_EVERY_MS = 20_000;
/** Layout changes settle this long before the worker redraws at the new widths. */
const LAYOUT_SETTLE_MS = 120;

/** Report every panel canvas's width (and the pixel density) to the worker as they change. */
export function watchLayout(postLayout) {
  let timer = null;
  const send = () => {
    timer = null;
    const widths = {};
    for (const canvas of document.querySelectorAll('canvas[data-panel]')) {
      // A hidden panel keeps its last width; it is not drawn until shown.
      if (canvas.clientWidth > 0) widths[canvas.dataset.panel] = Math.round(canvas.clientWidth);
    }
    postLayout({ dpr: window.devicePixelRatio || 1, widths });
  };
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(send, LAYOUT_SETTLE_MS);
  };
  const observer = new ResizeObserver(soon);
  for (const canvas of document.querySelectorAll('canvas[data-panel]')) observer.observe(canvas);
  // Zooming changes the pixel density without resizing anything.
  const watchDensity = () => matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`).addEventListener('change', () => { soon(); watchDensity(); }, { once: true });
  watchDensity();
  send();
  return { resend: soon };
}

/** Titles, notes and whether each panel is shown, for the network in view. */
export function showPanelInfo(panels) {
  for (const panel of panels) {
    const title = document.querySelector(`[data-title-for="${panel.name}"]`);
    const note = document.querySelector(`[data-note-for="${panel.name}"]`);
    const section = document.querySelector(`[data-section="${panel.name}"]`);
    if (title) title.textContent = panel.title;
    if (note) note.textContent = panel.note;
    if (section) section.hidden = panel.shown === false;
  }
}

/** Spoken names and the live figures, from the worker's panel text ({ labels, rows }). */
export function panelText() {
  let lastLabels = 0;
  let lastSummary = 0;
  return function show(text, { now = performance.now(), force = false } = {}) {
    showRows(text.rows);
    if (force || now - lastLabels >= LABELS_EVERY_MS) {
      lastLabels = now;
      for (const { name, label } of text.labels) {
        const canvas = document.querySelector(`canvas[data-panel="${name}"]`);
        if (canvas && canvas.getAttribute('aria-label') !== label) canvas.setAttribute('aria-label', label);
      }
    }
    if (force || now - lastSummary >= SUMMARY_EVERY_MS) {
      lastSummary = now;
      const loss = text.labels.find((l) => l.name === 'loss');
      if (loss) $('live-summary').textContent = loss.label;
    }
  };
}

function showRows(rows) {
  const body = document.querySelector('#stats-table tbody');
  // Rows are kept and their text replaced, so the table does not flicker or lose a reader's place.
  while (body.rows.length > rows.length) body.deleteRow(-1);
  rows.forEach(([label, value], i) => {
    const tr = body.rows[i] ?? body.insertRow();
    if (tr.cells.length === 0) {
      tr.append(Object.assign(document.createElement('th'), { scope: 'row' }), document.createElement('td'));
    }
    if (tr.cells[0].textContent !== label) tr.cells[0].textContent = label;
    if (tr.cells[1].textContent !== value) tr.cells[1].textContent = value;
  });
}

/** Save a blob under a file name. */
export function download(name, blob) {
  const url = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The panels shown now, in the page's reading order, with their titles (for the dashboard PNG). */
export function shownPanels() {
  return [...document.querySelectorAll('[data-section]')]
    .filter((section) => !section.hidden)
    .sort((a, b) => Number(getComputedStyle(a).order) - Number(getComputedStyle(b).order))
    .map((section) => ({ name: section.dataset.section, title: section.querySelector('h2')?.textContent ?? section.dataset.section }));
}

/** Where each column's panels stand in the page as written, to put them back. */
let home = null;

/** Put the panels that make the preset's point (`names`, from Rust's presets) first, right after
 * the scatter, marked as the point; the others go back where the page has them. With `scroll`,
 * bring the first of them into view (the preset was just picked, or a link asked for it). */
export function showPoint(names, scroll, lookFor = '') {
  const sections = [...document.querySelectorAll('section[data-section]')];
  home ??= [...document.querySelectorAll('.col')].map((col) => [col, [...col.children]]);
  for (const [col, children] of home) col.append(...children);
  const scatter = sections.find((s) => s.dataset.section === 'scatter');
  const point = names.map((name) => sections.find((s) => s.dataset.section === name)).filter(Boolean);
  for (const section of sections) section.classList.toggle('is-point', point.includes(section));
  scatter.after(...point.filter((s) => s !== scatter));
  // The first of them (the scatter itself, where it is part of the point) leads; the rest follow it.
  const first = point.find((s) => !s.hidden);
  // The preset's "What to look for" stands in the panel it talks about (the scatter's own
  // height stays as it is), so scrolling to the panel never leaves the reason behind.
  for (const old of document.querySelectorAll('.point-note')) old.remove();
  const told = point.find((s) => !s.hidden && s !== scatter) ?? first;
  if (told && lookFor) told.querySelector('.panel-head').after(Object.assign(document.createElement('p'), { className: 'point-note look-for', textContent: lookFor }));
  // The rest of the point must be on screen too: where the first alone would leave a later one
  // below the fold, the first goes to the top.
  if (scroll && first) keepInView(first, point.filter((s) => s !== first && !s.hidden));
}

/** How long a panel brought into view is kept there while the page settles (canvases drawn at
 * their new widths change the heights above it), unless the reader moves first. */
const SETTLE_MS = 2500;

/** Whether a panel's top stands on screen with room below it to see it by. */
const inView = (section) => {
  const top = section.getBoundingClientRect().top;
  return top >= 0 && top <= innerHeight - 160;
};

/** Bring `section` (and the sections `with` it, below it) into view unless they already are
 * (what is on screen, the scatter above it on a link's first screen, stays), and keep them
 * there while the page settles: until the reader (or anything else) scrolls, points, touches
 * or types. */
let stopKeeping = () => {}; // ends the keeping in progress, if any
export function keepInView(section, withIt = [], settleMs = SETTLE_MS) {
  // One keeping at a time: an earlier pick's, still running, would read this one's scrolling as
  // the reader's, stop, and turn scroll anchoring back on under it (the phone's turnoff panel
  // then ended 215 px above the screen, 1 pick in 24).
  stopKeeping();
  let expected = null; // where our own scrolling left the page
  const bring = () => {
    if (!inView(section) || !withIt.every(inView)) section.scrollIntoView({ block: 'start' });
    expected = scrollY;
  };
  // The browser's scroll anchoring moves the page by itself as panels above change height,
  // which would read as the reader's scrolling: it is off while the page settles.
  document.documentElement.style.overflowAnchor = 'none';
  bring();
  const until = performance.now() + settleMs;
  const moves = ['wheel', 'touchstart', 'keydown', 'pointerdown', 'pointermove'];
  const stop = () => {
    if (stopKeeping === stop) stopKeeping = () => {};
    clearTimeout(timer);
    document.documentElement.style.overflowAnchor = '';
    observer.disconnect();
    for (const type of moves) removeEventListener(type, stop, true);
    removeEventListener('scroll', scrolled);
  };
  // Any scrolling but ours (the reader's, or a script's) ends the keeping.
  const scrolled = () => Math.abs(scrollY - expected) > 2 && stop();
  const observer = new ResizeObserver(() => {
    if (performance.now() > until) stop();
    else bring();
  });
  for (const panel of document.querySelectorAll('header, main .panel')) observer.observe(panel);
  for (const type of moves) addEventListener(type, stop, { capture: true, once: true });
  addEventListener('scroll', scrolled, { passive: true });
  const timer = setTimeout(stop, settleMs);
  stopKeeping = stop;
}
