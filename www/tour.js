// The guided tour: one idea at a time, with the live network as the illustration. Its stops
// (words, the link that sets up each experiment, the panel that shows it, the moment to watch
// for) come from Rust (`tour`: the built-in tour, or a teacher's file the page fetches by its
// link, ?tour-file=…, and Rust reads); this module shows a stop's card just above the panel
// it talks about, opens its experiment in this tab, asks the session to watch for its moment,
// and says the moment when it comes. The stop is in the address bar (?tour=3), so a link opens
// it; ?present=1 is the presenter view. It decides nothing about the experiments themselves.

import { keepInView } from './panels.js';

const $ = (id) => document.getElementById(id);
const WAITING = 'The network is training: this box will say when the moment comes.';
/** The address keys the tour reads for itself (the stop, a teacher's file, the presenter view). */
export const TOUR_KEYS = ['tour', 'tour-file', 'present'];

/** `open(link)` opens a link's experiment in this tab; `read(bytes)` has Rust read a tour (the
 * built-in one without bytes); `send` reaches the session; `say(text, isError)` puts a sentence
 * where the page's messages go. */
export function wireTour({ open, read, send, say }) {
  let tour = null;
  let file = null; // a teacher's tour: its address
  let at = -1; // the stop shown (index), or -1 outside the tour
  let openedAt = 0; // when the stop's experiment opened (ms, this page's clock)
  let moment = null; // the moment's sentence, once it has come
  let armed = false; // the session watches for this stop's moment (figures before are the last stop's)
  const card = $('tour');

  /** The tour (built-in, or the file at `address`); a sentence where it cannot be had. */
  async function load(address) {
    if (tour && file === address) return tour;
    let bytes = null;
    if (address) {
      const response = await fetch(new URL(address, location.href)).catch((err) => { throw new Error(`the tour file ${address} could not be fetched (${err.message ?? err})`); });
      if (!response.ok) throw new Error(`the tour file ${address} could not be fetched (HTTP ${response.status})`);
      bytes = new Uint8Array(await response.arrayBuffer());
    }
    [tour, file] = [await read(bytes), address];
    return tour;
  }

  /** The address for stop `n` (0-based): its experiment's link, the stop, and the page's keys. */
  function address(n) {
    const params = new URLSearchParams(tour.stops[n].link);
    const now = new URLSearchParams(location.search);
    params.set('tour', String(n + 1));
    for (const key of [...TOUR_KEYS, 'simd']) if (key !== 'tour' && now.has(key)) params.set(key, now.get(key));
    return `${location.pathname}?${params}`;
  }

  /** Show stop `n`; `reopen`: open its experiment (false when the page just opened it by its link). */
  async function go(n, { reopen = true, push = true } = {}) {
    if (!tour || n < 0 || n >= tour.stops.length) return;
    const stop = tour.stops[n];
    at = n;
    moment = null;
    armed = false;
    if (push) history.pushState({ tour: n }, '', address(n));
    show(stop);
    try {
      if (reopen) await open(stop.link);
      if (stop.compare) await send({ compare: { label: null, spec: null, config: null } }).catch(() => {});
      await send({ watch: { watching: stop.moment ?? null } });
      armed = at === n;
    } catch (message) {
      say(`The tour's stop ${n + 1} could not be set up: ${message}`, true);
    }
    openedAt = performance.now();
    place(stop);
  }

  function show(stop) {
    card.hidden = false;
    document.body.classList.add('touring');
    document.documentElement.classList.add('touring');
    $('tour-count').textContent = `Guided tour · stop ${at + 1} of ${tour.stops.length}`;
    $('tour-title').textContent = stop.title;
    $('tour-text').textContent = stop.text;
    $('tour-try').textContent = stop.try;
    $('tour-live').textContent = stop.moment ? WAITING : '';
    $('tour-live').hidden = !stop.moment;
    $('tour-live').classList.remove('arrived');
    $('tour-sources').replaceChildren(
      document.createTextNode(stop.sources.length ? 'Sources: ' : ''),
      ...stop.sources.flatMap((s) => [Object.assign(document.createElement('a'), { href: s.url, textContent: s.title, target: '_blank', rel: 'noopener' }), document.createTextNode('; ')]),
      Object.assign(document.createElement('a'), { href: '#glossary', textContent: 'words used here' }),
      document.createTextNode('.'),
    );
    $('tour-back').disabled = at === 0;
    $('tour-next').textContent = at + 1 < tour.stops.length ? 'next stop' : 'finish';
  }

  /** The card stands just above the stop's panel, at the top of their column; the panel is
   * marked, and both come into view;
   * focus goes to the stop's title (after the move: moving an element takes focus from it). */
  function place(stop) {
    const panel = document.querySelector(`section[data-section="${stop.panel}"]`);
    for (const old of document.querySelectorAll('.tour-panel')) old.classList.remove('tour-panel');
    if (!panel) return $('tour-title').focus({ preventScroll: true });
    panel.classList.add('tour-panel');
    // First in its column, so nothing above it changes height while the reader reads.
    if (card.nextElementSibling !== panel || panel.parentElement.firstElementChild !== card) panel.parentElement.prepend(card, panel);
    $('tour-title').focus({ preventScroll: true });
    // On a phone the panels flow by their order: the card takes its panel's.
    card.style.order = getComputedStyle(panel).order;
    // A stop's experiment is new: its panels are first drawn, and their sizes settle, over a few
    // seconds (longer than a preset's pick), until the reader moves.
    keepInView(card, [panel], 6000);
  }

  /** The stop "Take the guided tour" resumes at (kept for this tab), and its words. */
  const RESUME_KEY = 'bottleneck-tour-stop';
  function offerResume(n) {
    if (n > 0) sessionStorage.setItem(RESUME_KEY, String(n));
    else sessionStorage.removeItem(RESUME_KEY);
    $('tour-start').textContent = n > 0 ? `Resume the guided tour at stop ${n + 1}` : 'Take the guided tour';
  }

  function leave() {
    offerResume(at);
    at = -1;
    card.hidden = true;
    document.body.classList.remove('touring', 'presenting');
    document.documentElement.classList.remove('touring');
    for (const old of document.querySelectorAll('.tour-panel')) old.classList.remove('tour-panel');
    $('tour-home').append(card);
    const params = new URLSearchParams(location.search);
    for (const key of TOUR_KEYS) params.delete(key);
    history.pushState(null, '', `${location.pathname}?${params}`);
    send({ watch: { watching: null } }).catch(() => {});
    $('tour-start').focus();
  }

  function present(on) {
    document.body.classList.toggle('presenting', on);
    $('tour-present').textContent = on ? 'leave presenter view' : 'presenter view';
    $('tour-present').setAttribute('aria-pressed', String(on));
    const params = new URLSearchParams(location.search);
    if (on) params.set('present', '1');
    else params.delete('present');
    history.replaceState(history.state, '', `${location.pathname}?${params}`);
    if (at >= 0) place(tour.stops[at]);
  }

  const start = async (n, options) => {
    try {
      await load(new URLSearchParams(location.search).get('tour-file'));
      await go(Math.min(Math.max(n, 0), tour.stops.length - 1), options);
    } catch (message) {
      say(`The tour could not be opened: ${message.message ?? message}`, true);
    }
  };
  $('tour-start').onclick = () => start(Number(sessionStorage.getItem(RESUME_KEY)) || 0);
  offerResume(Number(sessionStorage.getItem(RESUME_KEY)) || 0);
  $('tour-next').onclick = () => {
    if (at + 1 < tour.stops.length) return go(at + 1);
    leave();
    offerResume(0);
    say('That was the last stop of the tour. Its experiment goes on training here; "Take the guided tour" starts again from the first stop.');
  };
  $('tour-back').onclick = () => go(at - 1);
  $('tour-leave').onclick = leave;
  $('tour-present').onclick = () => present(!document.body.classList.contains('presenting'));
  // In the presenter view (or anywhere on a stop, outside a control): arrows move, Escape leaves.
  document.addEventListener('keydown', (e) => {
    if (at < 0 || e.altKey || e.ctrlKey || e.metaKey || e.target.closest?.('input, select, textarea, [contenteditable], canvas')) return;
    if (e.key === 'ArrowRight' && document.body.classList.contains('presenting')) go(Math.min(at + 1, tour.stops.length - 1));
    else if (e.key === 'ArrowLeft' && document.body.classList.contains('presenting')) go(Math.max(at - 1, 0));
    else if (e.key === 'Escape' && document.body.classList.contains('presenting')) present(false);
    else return;
    e.preventDefault();
  });
  // The browser's back and forward buttons move between the stops the tour has shown.
  addEventListener('popstate', () => {
    const n = Number(new URLSearchParams(location.search).get('tour'));
    if (Number.isInteger(n) && n >= 1 && tour) go(n - 1, { push: false });
    else if (at >= 0) leave();
  });

  return {
    /** After the page's first start: a link with ?tour=N opens that stop (its experiment too,
     * unless the link already set it up). */
    async opened() {
      const params = new URLSearchParams(location.search);
      const n = Number(params.get('tour'));
      if (!params.has('tour') || !Number.isInteger(n) || n < 1) return;
      try {
        await load(params.get('tour-file'));
      } catch (message) {
        return say(`The tour could not be opened: ${message.message ?? message}`, true);
      }
      const stop = tour.stops[Math.min(n, tour.stops.length) - 1];
      const ready = stop.link.every(([key, value]) => params.get(key) === value);
      await go(Math.min(n, tour.stops.length) - 1, { reopen: !ready, push: false });
      if (params.get('present') === '1') present(true);
    },
    /** The live figures: the moment's sentence, once it has come (said once, politely). */
    showStats(stats) {
      if (at < 0 || !armed || (stats.moment ?? null) === moment) return;
      if (!stats.moment) {
        // The run went back before the moment (undo, reset): it is waited for again.
        moment = null;
        $('tour-live').textContent = WAITING;
        $('tour-live').classList.remove('arrived');
        return;
      }
      moment = stats.moment;
      const seconds = Math.round((performance.now() - openedAt) / 1000);
      $('tour-live').textContent = `${stats.moment} (${seconds} s after this stop opened.)`;
      $('tour-live').dataset.seconds = String(seconds);
      $('tour-live').classList.add('arrived');
    },
    /** The caption for a picture saved now: which stop, and what it said. */
    caption() {
      if (at < 0) return [];
      return [`Guided tour, stop ${at + 1}: ${tour.stops[at].title}`, ...(moment ? [moment] : [])];
    },
  };
}
